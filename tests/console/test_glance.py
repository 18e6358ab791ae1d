"""The glance panel: alerts per minute, top headers and transmitters, and the WIDS
engine's capture sources (item 6)."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.console.browser import WAIT_MS, held_read, log_in
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server
from tests.wids.frames import AP2, BROADCAST, beacon, deauth, write_pcap
from tests.wids.source_server import wait_for_message


def test_the_glance_panel_counts_the_last_hour(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    define_fast(console_server, unique_name, severity=20)
    for n in range(12):
        raise_ok(console_server, unique_name, f"glance {n}", bssid="02:AA:BB:CC:DD:EE")
    admin.click('a[href="#/glance"]')
    chart = admin.locator("#rate-chart")
    expect(chart).to_be_visible(timeout=WAIT_MS)
    assert chart.locator("rect").count() > 0
    top = admin.locator("#top-headers")
    expect(top).to_contain_text(unique_name, timeout=WAIT_MS)
    expect(admin.locator("#top-transmitters")).to_contain_text("02:AA:BB:CC:DD:EE")
    expect(admin.locator("#glance-page")).to_contain_text("No capture sources")


def test_capture_sources_are_listed_with_their_counts(page: Page, tmp_path: Path) -> None:
    capture = write_pcap(
        tmp_path / "air.pcap",
        [beacon(), *[deauth() for _ in range(11)], deauth(bssid=AP2, dest=BROADCAST)],
    )
    args = ["--source", f"{capture}:name=air"]
    with Server(tmp_path, BASE_CONFIG, args) as server:
        wait_for_message(server, "source air: read 13 frames")
        log_in(page, server.url)
        page.click('a[href="#/glance"]')
        row = page.locator('#sources-table tr[data-name="air"]')
        expect(row).to_be_visible(timeout=WAIT_MS)
        expect(row).to_contain_text("done")
        expect(row).to_contain_text("13")


def test_alerts_raised_while_the_hour_is_read_are_counted(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    """The answer to the page's read of the hour was made before these alerts, which
    came live meanwhile: the read's answer overwrote them, and the page stayed
    short (by 5-15 of 44 000 under a flood) for as long as it was open."""
    define_fast(console_server, unique_name)
    raise_ok(console_server, unique_name, "before")
    route = held_read(admin, "**/alerts/last-time/**", "#/glance")
    answer = route.fetch()  # made now, before the alerts below
    for n in range(3):
        raise_ok(console_server, unique_name, f"during {n}")
    admin.wait_for_timeout(500)  # they come live while the read is still out
    route.fulfill(response=answer)
    total = len(console_server.get("/alerts/last-time/-3600/alerts.json").json())
    expect(admin.locator("#rate-total")).to_have_text(
        f"· {total} in the last hour", timeout=WAIT_MS
    )
