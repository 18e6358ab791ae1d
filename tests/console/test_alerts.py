"""The alerts table and the detail pane (issue 11, items 2, 3 and 7)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.console.browser import LIVE_MS, WAIT_MS
from tests.http.helpers import define_fast, raise_ok
from tests.server import Server

ROWS = "#alerts-table tbody tr.alert-row"


def _search(page: Page, term: str) -> None:
    page.fill("#alerts-search", term)
    expect(page.locator("#page-info")).to_contain_text("alerts", timeout=WAIT_MS)


def _texts(page: Page) -> list[str]:
    return page.locator(f"{ROWS} td.col-text").all_inner_texts()


def test_a_raised_alert_appears_live_within_a_second(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    define_fast(console_server, unique_name, severity=15, **{"class": "DENIAL"})
    expect(admin.locator("#live-state")).to_have_text("live", timeout=WAIT_MS)
    raise_ok(console_server, unique_name, "it came live", bssid="AA:BB:CC:00:11:22")
    row = admin.locator(ROWS, has_text="it came live")
    expect(row).to_have_count(1, timeout=LIVE_MS)
    expect(row.locator("td.col-header")).to_have_text(unique_name)
    expect(row.locator("td.col-severity")).to_have_text("HIGH")
    expect(row.locator("td.col-class")).to_have_text("DENIAL")
    assert "sev-high" in (row.get_attribute("class") or "") + (
        row.locator("td.col-severity").get_attribute("class") or ""
    )
    # Relative time by default, the absolute one a click away.
    time_cell = row.locator("td.col-time")
    expect(time_cell).to_contain_text("ago")
    assert time_cell.get_attribute("title")
    admin.click("#time-mode")
    expect(time_cell).not_to_contain_text("ago")


def test_search_sort_paging_and_filters(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    low, high = unique_name + "_LOW", unique_name + "_HIGH"
    define_fast(console_server, low, severity=5, **{"class": "PROBE"})
    define_fast(console_server, high, severity=15, **{"class": "DENIAL"})
    for n in range(27):
        raise_ok(console_server, low, f"{unique_name} item-{n:02d}")
    for n in range(3):
        raise_ok(console_server, high, f"{unique_name} high-{n}")
    admin.reload()
    expect(admin.locator("#app-view")).to_be_visible(timeout=WAIT_MS)
    admin.select_option("#page-size", "25")
    _search(admin, unique_name)
    expect(admin.locator("#page-info")).to_contain_text("30", timeout=WAIT_MS)
    expect(admin.locator(ROWS)).to_have_count(25, timeout=WAIT_MS)

    admin.click("#page-next")
    expect(admin.locator(ROWS)).to_have_count(5, timeout=WAIT_MS)
    admin.click("#page-prev")
    expect(admin.locator(ROWS)).to_have_count(25, timeout=WAIT_MS)

    # Sort by the text column, both ways.
    header = admin.locator('#alerts-table thead th[data-sort="kismet.alert.text"]')
    header.click()
    expect(admin.locator(f"{ROWS} td.col-text").first).to_have_text(
        f"{unique_name} high-0", timeout=WAIT_MS
    )
    assert header.get_attribute("aria-sort") == "ascending"
    header.click()
    expect(admin.locator(f"{ROWS} td.col-text").first).to_have_text(
        f"{unique_name} item-26", timeout=WAIT_MS
    )
    assert header.get_attribute("aria-sort") == "descending"

    # Filters narrow what the search found.
    admin.select_option("#filter-severity", "HIGH")
    expect(admin.locator(ROWS)).to_have_count(3, timeout=WAIT_MS)
    assert all("high-" in text for text in _texts(admin))
    admin.select_option("#filter-severity", "")
    admin.select_option("#filter-class", "PROBE")
    expect(admin.locator(ROWS)).to_have_count(25, timeout=WAIT_MS)
    expect(admin.locator("#page-info")).to_contain_text("27")
    admin.select_option("#filter-class", "")
    admin.select_option("#filter-header", high)
    expect(admin.locator(ROWS)).to_have_count(3, timeout=WAIT_MS)
    admin.select_option("#filter-class", "PROBE")  # no alert is both
    expect(admin.locator(ROWS)).to_have_count(0, timeout=WAIT_MS)


def test_the_detail_pane_shows_every_field_and_links(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    console_server.define(
        unique_name,
        description=f"what {unique_name} means",
        throttle="100/min",
        burst="10/sec",
    )
    transmitter = "02:11:22:33:44:55"
    raise_ok(console_server, unique_name, "look closer", bssid=transmitter, channel="36")
    raise_ok(console_server, unique_name, "and again", bssid=transmitter, channel="36")
    row = admin.locator(ROWS, has_text="look closer")
    expect(row).to_have_count(1, timeout=WAIT_MS)
    row.click()
    pane = admin.locator("#alert-detail")
    expect(pane).to_be_visible(timeout=WAIT_MS)
    expect(pane).to_contain_text("kismet.alert.hash")
    expect(pane).to_contain_text("kismet.alert.location")
    expect(pane).to_contain_text("look closer")
    expect(pane.locator("#detail-description")).to_have_text(f"what {unique_name} means")
    expect(pane.locator("#detail-rates")).to_contain_text("100")
    copy = pane.locator("button.copy-mac").first
    copy.click()
    expect(copy).to_contain_text("copied")

    pane.locator("a.same-header").click()
    expect(admin.locator(ROWS)).to_have_count(2, timeout=WAIT_MS)
    row = admin.locator(ROWS, has_text="look closer")
    row.click()
    admin.locator("#alert-detail a.same-transmitter").click()
    expect(admin.locator(ROWS)).not_to_have_count(0, timeout=WAIT_MS)
    assert all(
        text == transmitter
        for text in admin.locator(f"{ROWS} td.col-transmitter").all_inner_texts()
    )
    admin.click("#detail-close")
    expect(pane).to_be_hidden()


PAYLOADS = [
    "<img src=x onerror=window.__pwned=1>",
    "<script>window.__pwned=2</script>",
    '"><svg onload=window.__pwned=3>',
    "javascript:window.__pwned=4",
]


def test_attacker_strings_are_shown_as_text_and_run_nothing(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    response = console_server.define(
        unique_name, description=PAYLOADS[1], throttle="100/min", burst="100/min"
    )
    assert response.status_code == 200
    for payload in PAYLOADS:
        raise_ok(console_server, unique_name, payload, channel=PAYLOADS[0])
    _search(admin, unique_name)
    expect(admin.locator(ROWS)).to_have_count(len(PAYLOADS), timeout=WAIT_MS)
    assert sorted(_texts(admin)) == sorted(PAYLOADS)
    admin.locator(ROWS).first.click()
    expect(admin.locator("#detail-description")).to_have_text(PAYLOADS[1], timeout=WAIT_MS)
    admin.click('a[href="#/definitions"]')
    expect(admin.locator(f'#definitions-table tr[data-name="{unique_name}"]')).to_be_visible()
    admin.click('a[href="#/messages"]')
    expect(admin.locator("#messages-table")).to_contain_text(PAYLOADS[0])
    assert admin.evaluate("window.__pwned") is None
    assert admin.locator("img").count() == 0
    assert admin.locator("[onerror], [onload]").count() == 0


def test_new_alerts_are_counted_while_the_user_is_paged_away(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    define_fast(console_server, unique_name)
    for n in range(30):
        raise_ok(console_server, unique_name, f"old-{n:02d}")
    admin.select_option("#page-size", "25")
    _search(admin, unique_name)
    expect(admin.locator(ROWS)).to_have_count(25, timeout=WAIT_MS)
    admin.click("#page-next")
    expect(admin.locator(ROWS)).to_have_count(5, timeout=WAIT_MS)
    for n in range(3):
        raise_ok(console_server, unique_name, f"new-{n}")
    expect(admin.locator("#new-alerts")).to_contain_text("3 new alerts", timeout=WAIT_MS)
    expect(admin.locator(ROWS)).to_have_count(5)  # the page the user reads stays still
    admin.click("#new-alerts")
    expect(admin.locator(f"{ROWS} td.col-text").first).to_have_text("new-2", timeout=WAIT_MS)
