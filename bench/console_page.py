"""The console in headless Chromium on a big backlog, and under a live stream.

Starts `kisalert serve --memory` with `alertbacklog=N`, fills it with N varied
alerts, logs in to the console in Debian's chromium (Playwright) and measures:

- first page: from navigating to the console (logged in by cookie) until the
  table shows its first page of rows, N times over; and a page change (next page)
  and a search, from the click or keystroke until the new rows are shown;
- live: alerts raised at `--rate` a minute for `--seconds`, while the page is open
  at page 0: how many reached the table, the page's long tasks (main thread busy
  over 50 ms: Chromium's PerformanceObserver) and the worst gap between animation
  frames, i.e. how long the page could not respond.

    .venv/bin/python bench/console_page.py [--backlog 100000] [--rate 1000] [--seconds 30]
"""

from __future__ import annotations

import argparse
import asyncio
import concurrent.futures
import os
import shutil
import signal
import sys
import tempfile
import time
from pathlib import Path

from playwright.sync_api import Page, sync_playwright

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parent.parent))

from tests.console.browser import CHROMIUM_ARGS

import backlog_reads as br
import raise_throughput as rt

ROWS = "#alerts-table tbody tr.alert-row"
WATCH = """
window.__bench = {long: [], gaps: [], last: performance.now(), rows: 0};
new PerformanceObserver((list) => {
  for (const e of list.getEntries()) window.__bench.long.push(e.duration);
}).observe({entryTypes: ["longtask"]});
(function frame(now) {
  window.__bench.gaps.push(now - window.__bench.last);
  window.__bench.last = now;
  requestAnimationFrame(frame);
})(performance.now());
"""


def first_rows(page: Page, url: str) -> float:
    start = time.perf_counter()
    page.goto(url + "/")
    page.wait_for_selector(ROWS, timeout=30_000)
    return time.perf_counter() - start


def timed_change(page: Page, action: str, arg: str = "") -> float:
    """Seconds from a click or a search until the table's first row changes."""
    before = page.locator(f"{ROWS} td.col-text").first.inner_text()
    start = time.perf_counter()
    if action == "click":
        page.click(arg)
    else:
        page.fill("#alerts-search", arg)
    # Polled from here: the console's CSP forbids the eval that Playwright's in-page
    # wait_for_function polls with (evaluate goes through the debugger instead).
    changed = (
        "(before) => { const c = document.querySelector("
        "'#alerts-table tbody tr.alert-row td.col-text');"
        " return c !== null && c.textContent !== before; }"
    )
    while not page.evaluate(changed, before):
        if time.perf_counter() - start > 30:
            raise TimeoutError(f"the table did not change after {action} {arg}")
        time.sleep(0.005)
    return time.perf_counter() - start


async def paced_raises(port: int, per_minute: int, seconds: float) -> int:
    interval = 60.0 / per_minute
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    sent = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        body = {"name": "BENCH", "text": f"live alert {sent}", "bssid": "02:00:00:00:00:01"}
        status, _ = await rt.http(reader, writer, rt.post("/alerts/raise_alerts.cmd", body))
        assert status == 200, status
        sent += 1
        await asyncio.sleep(max(0.0, start + sent * interval - time.perf_counter()))
    writer.close()
    return sent


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--backlog", type=int, default=100_000)
    parser.add_argument("--rate", type=int, default=1000, help="live alerts a minute")
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--repeat", type=int, default=5)
    opts = parser.parse_args()
    chromium = shutil.which("chromium") or "/usr/bin/chromium"
    with tempfile.TemporaryDirectory() as tmp:
        rt.stage(f"filling a backlog of {opts.backlog}")
        proc, port = rt.start_server(tmp, "console", "memory", opts.backlog)
        url = f"http://127.0.0.1:{port}"
        try:
            asyncio.run(br.define(port))
            asyncio.run(br.fill(port, opts.backlog))
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 900})
                page.goto(url + "/")
                page.fill("#login-user", rt.USER)
                page.fill("#login-password", rt.PASSWORD)
                page.click("#login-submit")
                page.wait_for_selector(ROWS, timeout=30_000)
                loads = [first_rows(page, url) for _ in range(opts.repeat)]
                nexts = [timed_change(page, "click", "#page-next") for _ in range(opts.repeat)]
                search = timed_change(page, "search", "AA:BB")
                page.fill("#alerts-search", "")
                first_rows(page, url)
                page.evaluate(WATCH)
                rt.stage(f"live: {opts.rate} alerts a minute for {opts.seconds:g} s")
                # Playwright's sync API holds this thread's event loop: raise from another.
                with concurrent.futures.ThreadPoolExecutor(1) as pool:
                    raising = pool.submit(asyncio.run, paced_raises(port, opts.rate, opts.seconds))
                    while not raising.done():
                        page.wait_for_timeout(200)
                    sent = raising.result()
                time.sleep(1.0)
                watched = page.evaluate("window.__bench")
                shown = page.locator(ROWS, has_text="live alert").count()
                newest = page.locator(f"{ROWS} td.col-text").first.inner_text()
                browser.close()
        finally:
            proc.send_signal(signal.SIGTERM)
            proc.wait(60)
    print(f"kisalert console: backlog {opts.backlog}, {os.cpu_count()} CPUs, chromium headless")
    print(f"{'measure':<44} {'median':>9} {'worst':>9}")
    for name, values in (
        ("first page shown after navigation, s", loads),
        ("next page shown after the click, s", nexts),
    ):
        print(f"{name:<44} {sorted(values)[len(values) // 2]:>9.3f} {max(values):>9.3f}")
    print(f"{'search shown after typing, s':<44} {search:>9.3f} {search:>9.3f}")
    gaps = sorted(watched["gaps"])
    long = watched["long"]
    print(
        f"live: {sent} alerts raised at {opts.rate}/min over {opts.seconds:g} s; "
        f"newest in the table: {newest!r}; rows of them on page 0: {shown}"
    )
    print(
        f"live: long tasks (>50 ms) {len(long)}, longest {max(long, default=0):.0f} ms; "
        f"frame gap median {gaps[len(gaps) // 2]:.1f} ms, worst {gaps[-1]:.0f} ms"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
