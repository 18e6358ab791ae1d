"""Driving the console: launch flags, logging in, and watching for script errors."""

from __future__ import annotations

from dataclasses import dataclass, field

from playwright.sync_api import ConsoleMessage, Error, Page, Route, expect

from tests.server import PASSWORD, USER
from tests.slack import slack

# As root, Chromium needs --no-sandbox; the rest keep it off the (closed) network.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
]
# Milliseconds Playwright waits for the console to show something.
WAIT_MS = slack(5_000)
LIVE_MS = slack(1_000)  # issue 11: a raised alert is in the table within 1 s


@dataclass
class Console:
    """What a page reported: script errors and CSP violations."""

    errors: list[str] = field(default_factory=list)

    @classmethod
    def watch(cls, page: Page) -> Console:
        seen = cls()

        def on_console(message: ConsoleMessage) -> None:
            if message.type == "error" and not _expected(message.text):
                seen.errors.append(message.text)

        def on_error(error: Error) -> None:
            seen.errors.append(f"{error.name}: {error.message}")

        page.on("console", on_console)
        page.on("pageerror", on_error)
        return seen

    def assert_clean(self) -> None:
        assert self.errors == [], self.errors


def _expected(text: str) -> bool:
    """The browser's own lines for answers the console asked for and handles (a 401
    before logging in, a refused websocket while the server restarts)."""
    return "Failed to load resource" in text or "WebSocket connection to" in text


def log_in(page: Page, url: str, user: str = USER, password: str = PASSWORD) -> None:
    page.goto(url + "/")
    page.fill("#login-user", user)
    page.fill("#login-password", password)
    page.click("#login-submit")
    expect(page.locator("#app-view")).to_be_visible(timeout=WAIT_MS)


def log_in_with_key(page: Page, url: str, key: str) -> None:
    page.goto(url + "/")
    page.fill("#login-key", key)
    page.click("#login-submit")
    expect(page.locator("#app-view")).to_be_visible(timeout=WAIT_MS)


def held_read(page: Page, pattern: str, link: str) -> Route:
    """Open `link`, and hold the page's first read matching `pattern` (later ones go
    through: the live feed's first connection reads again)."""
    held: list[Route] = []

    def hold(route: Route) -> None:
        if held:
            route.continue_()
        else:
            held.append(route)

    page.route(pattern, hold)
    page.click(f'a[href="{link}"]')
    for _ in range(100):  # Playwright calls the handler while the test waits on it
        if held:
            break
        page.wait_for_timeout(100)
    assert held, f"the page did not read {pattern}"
    return held[0]
