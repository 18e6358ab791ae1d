"""The silences page and the detail pane's "Silence this …" links (issue 12, item 3)."""

from __future__ import annotations

import itertools
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest
from playwright.sync_api import Page, expect

from tests.console.browser import WAIT_MS, log_in_with_key
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server

LIST = "/forward/silences/all_silences.json"
ROWS = "#silences-table tbody tr.silence-row"
CONFIG_COMMENT = "known noise, ticket 7"
ABSOLUTE = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d$")
_macs = itertools.count(1)


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """This module's own server: one silence comes from its config file."""
    workdir = tmp_path_factory.mktemp("console-silences")
    config = BASE_CONFIG + f'silence=header=CONSOLE_KNOWN,comment="{CONFIG_COMMENT}"\n'
    with Server(workdir, config) as server:
        yield server


def _mac() -> str:
    """A transmitter no other test of the module silences."""
    n = next(_macs)
    return f"02:5e:00:00:{n >> 8:02x}:{n & 0xFF:02x}"


def _silence(server: Server, comment: str) -> dict[str, Any]:
    """The silence with that comment, as the API lists it."""
    answer = server.get(LIST)
    assert answer.status_code == 200, answer.text
    [found] = [s for s in answer.json() if s["kisalert.silence.comment"] == comment]
    return dict(found)


def _open_silences(page: Page) -> None:
    page.click('a[href="#/silences"]')
    expect(page.locator("#silence-form")).to_be_visible(timeout=WAIT_MS)


def test_a_silence_made_on_the_page_is_listed_and_expired_there(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    mac = _mac()
    comment = f"lab AP for {unique_name}"
    _open_silences(admin)
    admin.fill("#silence-header", unique_name)
    admin.fill("#silence-transmitter", mac)
    admin.select_option("#silence-duration", "4h")
    expect(admin.locator("#silence-until")).to_contain_text("until")
    admin.fill("#silence-comment", comment)
    admin.click("#silence-form [type=submit]")
    expect(admin.locator("#silence-result")).to_contain_text("silenced until", timeout=WAIT_MS)
    expect(admin.locator("#silence-transmitter")).to_have_value("")  # ready for the next

    made = _silence(console_server, comment)
    assert made["kisalert.silence.matchers"] == {"header": unique_name, "transmitter": mac.upper()}
    assert made["kisalert.silence.state"] == "active"
    assert made["kisalert.silence.origin"] == "api"
    assert made["kisalert.silence.created_by"] == "admin"
    assert made["kisalert.silence.expires"] - made["kisalert.silence.starts"] == 4 * 3600
    row = admin.locator(f'{ROWS}[data-id="{made["kisalert.silence.id"]}"]')
    expect(row).to_contain_text(comment, timeout=WAIT_MS)
    expect(row.locator(".silence-state")).to_have_text("active")
    expect(row.locator(".col-matchers")).to_contain_text(mac.upper())
    expect(row.locator(".col-matchers")).to_contain_text(unique_name)
    expect(row.locator(".col-by")).to_have_text("admin")
    expect(row.locator(".col-hits")).to_have_text("0")
    for cell in (row.locator(".col-starts"), row.locator(".col-expires")):
        assert ABSOLUTE.match(cell.inner_text()), cell.inner_text()
        assert "UTC" in (cell.locator("span").get_attribute("title") or "")

    row.locator("button.expire").click()
    expect(row.locator(".silence-state")).to_have_text("expired", timeout=WAIT_MS)
    expect(row).to_have_class(re.compile(r"\bsilence-expired\b"))
    expect(row.locator("button.expire")).to_have_count(0)
    assert _silence(console_server, comment)["kisalert.silence.state"] == "expired"


def test_the_server_s_reason_is_shown_and_the_form_kept(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    comment = f"custom length for {unique_name}"
    _open_silences(admin)
    admin.fill("#silence-transmitter", "not-a-mac")
    admin.select_option("#silence-duration", "custom")
    admin.fill("#silence-duration-custom", "90m")
    admin.fill("#silence-comment", comment)
    admin.click("#silence-form [type=submit]")
    result = admin.locator("#silence-result")
    expect(result).to_contain_text(
        "transmitter needs a MAC address, optionally /MASK, not 'not-a-mac'", timeout=WAIT_MS
    )
    expect(result).to_have_class(re.compile(r"\berror\b"))
    assert not [
        s for s in console_server.get(LIST).json() if s["kisalert.silence.comment"] == comment
    ]
    # What was typed is still there to be mended.
    expect(admin.locator("#silence-comment")).to_have_value(comment)
    admin.fill("#silence-transmitter", _mac())
    admin.click("#silence-form [type=submit]")
    expect(result).to_contain_text("silenced until", timeout=WAIT_MS)
    made = _silence(console_server, comment)
    assert made["kisalert.silence.expires"] - made["kisalert.silence.starts"] == 90 * 60


def test_a_config_silence_says_why_it_has_no_expire_button(
    admin: Page, console_server: Server
) -> None:
    configured = _silence(console_server, CONFIG_COMMENT)
    assert configured["kisalert.silence.origin"] == "config"
    _open_silences(admin)
    row = admin.locator(f'{ROWS}[data-id="{configured["kisalert.silence.id"]}"]')
    expect(row).to_contain_text(CONFIG_COMMENT, timeout=WAIT_MS)
    expect(row.locator(".silence-state")).to_have_text("active")
    expect(row.locator(".col-expires")).to_have_text("never")
    expect(row.locator(".actions")).to_have_text("set in the config file")
    assert "config file" in (row.locator(".config-why").get_attribute("title") or "")
    expect(row.locator("button")).to_have_count(0)


def test_silence_this_transmitter_or_header_from_an_alert(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    define_fast(console_server, unique_name)
    raise_ok(console_server, unique_name, f"{unique_name} too loud", bssid=_mac())
    [alert] = [a for a in console_server.alerts() if a["kismet.alert.header"] == unique_name]
    transmitter = alert["kismet.alert.transmitter_mac"]
    row = admin.locator("#alerts-table tbody tr.alert-row", has_text=f"{unique_name} too loud")
    row.click()
    pane = admin.locator("#alert-detail")
    expect(pane.locator("a.silence-transmitter")).to_be_visible(timeout=WAIT_MS)
    pane.locator("a.silence-transmitter").click()

    expect(admin.locator("#silence-transmitter")).to_have_value(transmitter, timeout=WAIT_MS)
    expect(admin.locator("#silence-header")).to_have_value("")
    expect(admin.locator("#silence-comment")).to_be_focused()
    admin.keyboard.type(f"{unique_name}: ours")
    admin.keyboard.press("Enter")
    expect(admin.locator("#silence-result")).to_contain_text("silenced until", timeout=WAIT_MS)
    made = _silence(console_server, f"{unique_name}: ours")
    assert made["kisalert.silence.matchers"] == {"transmitter": transmitter}
    expect(admin.locator(f'{ROWS}[data-id="{made["kisalert.silence.id"]}"]')).to_be_visible()

    admin.click('a[href="#/alerts"]')
    row.click()
    pane.locator("a.silence-header").click()
    expect(admin.locator("#silence-header")).to_have_value(unique_name, timeout=WAIT_MS)
    expect(admin.locator("#silence-transmitter")).to_have_value("")


def test_a_readonly_login_has_no_silences(page: Page, console_server: Server) -> None:
    response = console_server.command(
        "/auth/apikey/generate.cmd",
        {"name": f"silences-readonly-{os.getpid()}", "role": "readonly", "duration": 0},
    )
    assert response.status_code == 200, response.text
    define_fast(console_server, "CONSOLE_SEEN")
    raise_ok(console_server, "CONSOLE_SEEN", "seen by a reader", bssid=_mac())
    log_in_with_key(page, console_server.url, response.text.strip())
    expect(page.locator('a[href="#/silences"]')).to_be_hidden()
    page.locator("#alerts-table tbody tr.alert-row", has_text="seen by a reader").click()
    expect(page.locator("#alert-detail a.same-transmitter")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#detail-silence")).to_be_hidden()
    # Asked for by address, the page is not there: the alerts are shown instead.
    page.goto(console_server.url + "/#/silences")
    expect(page.locator("#alerts-page")).to_be_visible(timeout=WAIT_MS)
    expect(page.locator("#silences-page")).to_be_hidden()
    expect(page.locator("#silence-form")).to_have_count(0)
