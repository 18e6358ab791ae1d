"""The live feed after a server restart, and the console under a URI prefix."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page, expect

from tests.console.browser import LIVE_MS, WAIT_MS, log_in
from tests.http.helpers import define_fast, raise_ok
from tests.server import BASE_CONFIG, Server

ROWS = "#alerts-table tbody tr.alert-row"


def test_the_live_feed_resumes_after_the_server_restarts(page: Page, tmp_path: Path) -> None:
    server = Server(tmp_path, BASE_CONFIG)
    try:
        define_fast(server, "RESTARTED")
        log_in(page, server.url)
        expect(page.locator("#live-state")).to_have_text("live", timeout=WAIT_MS)
        server.stop()
        expect(page.locator("#live-state")).to_have_text("reconnecting", timeout=WAIT_MS)
        server = Server(tmp_path, BASE_CONFIG, port=server.port)
        # Definitions made over the API live in the log: the restart keeps it.
        expect(page.locator("#live-state")).to_have_text("live", timeout=WAIT_MS)
        raise_ok(server, "RESTARTED", "after the restart")
        expect(page.locator(ROWS, has_text="after the restart")).to_have_count(1, timeout=LIVE_MS)
    finally:
        server.stop()


def test_the_console_works_under_a_uri_prefix(page: Page, tmp_path: Path) -> None:
    with Server(tmp_path, BASE_CONFIG + "httpd_uri_prefix=/wids/kis\n") as server:
        prefix = "/wids/kis"
        made = server.command(
            prefix + "/alerts/definitions/define_alert.cmd",
            {"name": "PREFIXED", "description": "under a prefix"},
        )
        assert made.status_code == 200, made.text
        log_in(page, server.url + prefix)
        expect(page.locator("#live-state")).to_have_text("live", timeout=WAIT_MS)
        raised = server.command(
            prefix + "/alerts/raise_alerts.cmd", {"name": "PREFIXED", "text": "under a prefix"}
        )
        assert raised.status_code == 200, raised.text
        expect(page.locator(ROWS, has_text="under a prefix")).to_have_count(1, timeout=LIVE_MS)
