"""The API keys page: generate, show once, list, revoke (item 5)."""

from __future__ import annotations

import requests
from playwright.sync_api import Page, expect

from tests.console.browser import WAIT_MS
from tests.server import Server


def test_an_api_key_s_life_in_the_console(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    name = unique_name.lower()
    admin.click('a[href="#/apikeys"]')
    admin.fill("#apikey-name", name)
    admin.select_option("#apikey-role", "readonly")
    admin.fill("#apikey-duration", "3600")
    admin.click("#apikey-form [type=submit]")
    shown = admin.locator("#apikey-new")
    expect(shown).to_contain_text(name, timeout=WAIT_MS)
    token = next(word for word in shown.inner_text().split() if len(word) == 32 and word.isalnum())
    check = requests.get(
        console_server.url + "/session/whoami.json",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert check.json() == {"name": name, "role": "readonly"}
    row = admin.locator(f'#apikeys-table tr[data-name="{name}"]')
    expect(row).to_contain_text("readonly")
    expect(row).not_to_contain_text(token)  # shown once, never listed

    # Shown only once: a reload forgets it.
    admin.reload()
    expect(admin.locator("#apikeys-table")).to_be_visible(timeout=WAIT_MS)
    assert token not in admin.locator("#apikeys-page").inner_text()

    admin.once("dialog", lambda dialog: dialog.accept())
    admin.locator(f'#apikeys-table tr[data-name="{name}"] button.revoke').click()
    expect(admin.locator(f'#apikeys-table tr[data-name="{name}"]')).to_have_count(
        0, timeout=WAIT_MS
    )
    check = requests.get(
        console_server.url + "/session/whoami.json",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )
    assert check.status_code == 401


def test_a_duplicate_name_is_refused_with_the_server_s_reason(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    name = unique_name.lower()
    response = console_server.command(
        "/auth/apikey/generate.cmd", {"name": name, "role": "readonly", "duration": 0}
    )
    assert response.status_code == 200
    admin.click('a[href="#/apikeys"]')
    admin.fill("#apikey-name", name)
    admin.click("#apikey-form [type=submit]")
    expect(admin.locator("#apikeys-page")).to_contain_text("exists", timeout=WAIT_MS)
