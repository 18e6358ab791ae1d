"""The console in a real headless Chromium (Debian's package), driven by Playwright.

Every page a test opens is watched: a script error or a Content-Security-Policy
violation (Chromium reports both on the console) fails the test that caused it.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, sync_playwright

from tests.console.browser import CHROMIUM_ARGS, Console, log_in
from tests.server import BASE_CONFIG, Server


@pytest.fixture(scope="package")
def browser() -> Iterator[Browser]:
    executable = shutil.which("chromium") or "/usr/bin/chromium"
    # Package scope: Playwright's sync API may not be alive while other tests run
    # their own asyncio loops.
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture(scope="module")
def console_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    workdir = tmp_path_factory.mktemp("console")
    with Server(workdir, BASE_CONFIG + "alertbacklog=100000\n") as server:
        yield server


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    context = browser.new_context(viewport={"width": 1400, "height": 900})
    yield context
    context.close()


@pytest.fixture
def page(context: BrowserContext) -> Iterator[Page]:
    page = context.new_page()
    console = Console.watch(page)
    yield page
    console.assert_clean()


@pytest.fixture
def admin(page: Page, console_server: Server) -> Page:
    """A page logged in to the console as the admin."""
    log_in(page, console_server.url)
    return page
