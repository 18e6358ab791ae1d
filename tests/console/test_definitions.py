"""The definitions page: the table, and an admin's define and raise forms (item 4)."""

from __future__ import annotations

from playwright.sync_api import Page, expect

from tests.console.browser import WAIT_MS
from tests.http.helpers import definition
from tests.server import Server


def test_an_admin_defines_an_alert_and_raises_it_from_the_page(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    admin.click('a[href="#/definitions"]')
    expect(admin.locator("#definitions-table")).to_be_visible(timeout=WAIT_MS)
    admin.fill("#define-name", unique_name.lower())
    admin.fill("#define-description", "defined from the console")
    admin.fill("#define-class", "probe")
    admin.select_option("#define-severity", "15")
    admin.fill("#define-throttle", "20/min")
    admin.fill("#define-burst", "5/sec")
    admin.click("#define-form [type=submit]")
    expect(admin.locator("#define-result")).to_contain_text("defined", timeout=WAIT_MS)
    row = admin.locator(f'#definitions-table tr[data-name="{unique_name}"]')
    expect(row).to_be_visible(timeout=WAIT_MS)
    expect(row).to_contain_text("PROBE")
    expect(row).to_contain_text("HIGH")
    made = definition(console_server, unique_name)
    assert made is not None
    assert made["kismet.alert.definition.description"] == "defined from the console"

    admin.select_option("#raise-name", unique_name)
    admin.fill("#raise-text", "raised from the console")
    admin.fill("#raise-bssid", "02:00:00:00:00:01")
    admin.fill("#raise-channel", "11")
    admin.click("#raise-form [type=submit]")
    expect(admin.locator("#raise-result")).to_contain_text("Alert raised", timeout=WAIT_MS)
    raised = [a for a in console_server.alerts() if a["kismet.alert.header"] == unique_name]
    assert [(a["kismet.alert.text"], a["kismet.alert.channel"]) for a in raised] == [
        ("raised from the console", "11")
    ]
    assert raised[0]["kismet.alert.transmitter_mac"] == "02:00:00:00:00:01"
    # The table counts it.
    expect(row).to_contain_text("1", timeout=WAIT_MS)


def test_the_server_s_refusal_is_shown_beside_the_form(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    admin.click('a[href="#/definitions"]')
    admin.fill("#define-name", unique_name)
    admin.fill("#define-description", "bad rates")
    admin.fill("#define-throttle", "often")
    admin.click("#define-form [type=submit]")
    expect(admin.locator("#define-result")).to_contain_text(
        "could not parse throttle limits", timeout=WAIT_MS
    )
    assert definition(console_server, unique_name) is None

    admin.fill("#raise-text", "bad mac")
    admin.fill("#raise-bssid", "not-a-mac")
    admin.click("#raise-form [type=submit]")
    expect(admin.locator("#raise-result")).to_contain_text("invalid MAC", timeout=WAIT_MS)
