"""Logging in and out of the console (issue 11, item 1)."""

from __future__ import annotations

import itertools
import os

from playwright.sync_api import Page, expect

from tests.console.browser import WAIT_MS, log_in, log_in_with_key
from tests.server import USER, Server

_keys = itertools.count()


def _key(server: Server, role: str) -> str:
    name = f"console-{role}-{next(_keys)}-{os.getpid()}"
    response = server.command(
        "/auth/apikey/generate.cmd", {"name": name, "role": role, "duration": 0}
    )
    assert response.status_code == 200, response.text
    return response.text.strip()


def test_the_admin_logs_in_with_the_password_and_out_again(
    page: Page, console_server: Server
) -> None:
    log_in(page, console_server.url)
    expect(page.locator("#whoami")).to_contain_text(USER)
    expect(page.locator("#whoami")).to_contain_text("admin")
    expect(page.locator('a[href="#/apikeys"]')).to_be_visible()
    # The session survives a reload: the cookie, not the page, holds it.
    page.reload()
    expect(page.locator("#app-view")).to_be_visible(timeout=WAIT_MS)

    page.click("#logout")
    expect(page.locator("#login-view")).to_be_visible(timeout=WAIT_MS)
    assert page.request.get(console_server.url + "/session/whoami.json").status == 401
    page.reload()
    expect(page.locator("#login-view")).to_be_visible(timeout=WAIT_MS)


def test_a_wrong_password_says_so_and_stays_logged_out(page: Page, console_server: Server) -> None:
    page.goto(console_server.url + "/")
    page.fill("#login-user", USER)
    page.fill("#login-password", "not the password")
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text("wrong user name or password")
    expect(page.locator("#app-view")).to_be_hidden()


def test_a_readonly_key_sees_everything_but_the_admin_forms(
    page: Page, console_server: Server
) -> None:
    log_in_with_key(page, console_server.url, _key(console_server, "readonly"))
    expect(page.locator("#whoami")).to_contain_text("readonly")
    expect(page.locator("#alerts-table")).to_be_visible()
    expect(page.locator('a[href="#/apikeys"]')).to_be_hidden()
    page.click('a[href="#/definitions"]')
    expect(page.locator("#definitions-table")).to_be_visible()
    expect(page.locator("#define-form")).to_be_hidden()
    expect(page.locator("#raise-form")).to_be_hidden()
    page.click('a[href="#/messages"]')
    expect(page.locator("#messages-table")).to_be_visible()


def test_an_admin_key_logs_in_as_admin(page: Page, console_server: Server) -> None:
    log_in_with_key(page, console_server.url, _key(console_server, "admin"))
    expect(page.locator('a[href="#/apikeys"]')).to_be_visible()


def test_a_key_of_another_role_is_told_it_cannot_use_the_console(
    page: Page, console_server: Server
) -> None:
    """A `sensor` key (raising from a script) logged in to a console whose every page
    answered 403, and whose live feed retried every 5 s for ever."""
    page.goto(console_server.url + "/")
    page.fill("#login-key", _key(console_server, "sensor"))
    page.click("#login-submit")
    expect(page.locator("#login-error")).to_contain_text(
        "cannot use the console: it needs an admin or readonly login", timeout=WAIT_MS
    )
    expect(page.locator("#app-view")).to_be_hidden()
    page.wait_for_timeout(1000)
    assert page.context.cookies() == [] or all(c["value"] == "" for c in page.context.cookies())
