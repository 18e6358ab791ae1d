"""The messages page and the live batching under it (what comes while a read is out,
a tab hidden while a frame is pending), and the router's own pages."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import Page, expect

from tests.console.browser import WAIT_MS, held_read
from tests.http.helpers import define_fast
from tests.server import Server


def test_messages_that_come_while_the_bus_is_read_are_shown_once(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    """Shown live before the read's answer, they were wiped by it; queued before it
    and shown after, those the answer held were shown twice."""
    route = held_read(admin, "**/messagebus/all_messages.json", "#/messages")
    names = [f"{unique_name}_{n}" for n in range(4)]
    define_fast(console_server, names[0])  # in the answer, and live
    answer = route.fetch()  # made now: it holds the first, not those that follow
    for name in names[1:]:
        define_fast(console_server, name)
    admin.wait_for_timeout(500)  # they come live while the read is still out
    route.fulfill(response=answer)
    rows = admin.locator("#messages-table tbody td.col-text")
    last = f"Alert {names[-1]} defined over the API"
    expect(rows.filter(has_text=last)).to_have_count(1, timeout=WAIT_MS)
    admin.wait_for_timeout(1200)  # a batch still queued would be in by now
    texts = rows.all_inner_texts()
    for name in names:
        assert texts.count(f"Alert {name} defined over the API") == 1, (name, texts)


def test_a_batch_runs_even_when_its_frame_never_comes(admin: Page) -> None:
    """A tab hidden after a frame was asked for gets it only once shown again: the
    live queue grew without bound meanwhile, and its stale batch then went in on top
    of a newer page."""
    ran = admin.evaluate(
        """async () => {
          const main = document.querySelector('script[type=module]').src;
          const { frameBatcher } = await import(main.replace(/main\\.js$/, "dom.js"));
          window.requestAnimationFrame = () => 1;  // a frame that never comes
          const done = [];
          const push = frameBatcher((batch) => done.push(batch));
          push(1);
          push(2);
          await new Promise((resolve) => setTimeout(resolve, 1500));
          push(3);
          await new Promise((resolve) => setTimeout(resolve, 1500));
          return done;
        }"""
    )
    assert ran == [[1, 2], [3]]


@pytest.mark.parametrize("name", ["__proto__", "constructor", "hasOwnProperty", "nowhere"])
def test_an_address_that_names_no_page_shows_the_alerts(admin: Page, name: str) -> None:
    # What every object inherits is no page: these left a blank page and a script
    # error (the page fixture fails the test on any).
    admin.goto(admin.url.split("#")[0] + f"#/{name}")
    # The router answers the hash change on its own turn: wait for it.
    expect(admin).to_have_url(re.compile(r"#/alerts$"), timeout=WAIT_MS)
    expect(admin.locator("#alerts-page")).to_be_visible(timeout=WAIT_MS)


def test_a_long_class_does_not_widen_the_page(
    admin: Page, console_server: Server, unique_name: str
) -> None:
    """The class filter is a select as wide as its longest option: a 63-character
    class made a phone-width page scroll sideways, 100 000 made it 838 000 px wide."""
    answer = console_server.command(
        "/alerts/definitions/define_alert.cmd",
        {"name": unique_name, "description": "wide", "class": "W" * 5000},
    )
    assert answer.status_code == 200, answer.text
    admin.set_viewport_size({"width": 375, "height": 800})
    admin.reload()
    expect(admin.locator("#alerts-page")).to_be_visible(timeout=WAIT_MS)
    # The class filter holds the long class once the definitions are read.
    expect(admin.locator("#filter-class option[value^='WWWW']")).to_have_count(1, timeout=WAIT_MS)
    assert admin.evaluate("document.documentElement.scrollWidth") <= 375
