"""The screenshots of docs/console.md, taken in headless Chromium from a real server.

    .venv/bin/python -m tests.console.screenshots [docs/console]

Starts a server that reads a small capture (so the glance page has a source),
raises a varied set of alerts over the API, makes a few silences, and saves one PNG
per page.
"""

from __future__ import annotations

import random
import shutil
import sys
import tempfile
from pathlib import Path

from playwright.sync_api import sync_playwright

from tests.console.browser import CHROMIUM_ARGS, log_in
from tests.server import BASE_CONFIG, Server, wait_for
from tests.wids.frames import AP2, BROADCAST, beacon, deauth, write_pcap

ALERTS = [
    ("DEAUTHFLOOD", "IEEE80211 deauthentication flood against BSSID {mac}: 42 frames in 1 s"),
    ("BCASTDISCON", "IEEE80211 access point {mac} sent a broadcast disconnect (reason 7)"),
    ("APSPOOF", "IEEE80211 unauthorised access point {mac} advertising SSID 'corp-wifi'"),
    ("SSIDCANARY", "IEEE80211 probe for canary SSID 'backup-corp' from {mac}"),
    ("LONGSSID", "IEEE80211 beacon from {mac} with an SSID of 255 bytes (limit 32)"),
    ("CRYPTODROP", "IEEE80211 network 'corp-wifi' ({mac}) dropped from WPA2 to open"),
    ("PROBECHAN", "IEEE80211 probe response from {mac} on channel 11 claims channel 6"),
    ("NOCLIENTMFP", "IEEE80211 client {mac} joined a PMF-required network without MFP"),
]


def mac(rng: random.Random) -> str:
    return "02:" + ":".join(f"{rng.randrange(256):02X}" for _ in range(5))


def silence(server: Server, **args: str) -> str:
    """Make a silence over the API; its id."""
    answer = server.command("/forward/silences/create.cmd", args)
    answer.raise_for_status()
    silence_id: str = answer.json()["kisalert.silence.id"]
    return silence_id


def main() -> int:
    out = Path(sys.argv[1] if len(sys.argv) > 1 else "docs/console").resolve()
    out.mkdir(parents=True, exist_ok=True)
    rng = random.Random(11)
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        capture = write_pcap(
            work / "office.pcap",
            [beacon(), *[deauth() for _ in range(11)], deauth(bssid=AP2, dest=BROADCAST)],
        )
        args = ["--source", f"{capture}:name=office"]
        rates = "".join(f"alert={header},1000/min,1000/min\n" for header, _ in ALERTS)
        rates += 'silence=header=LONGSSID,comment="the lobby sign\'s beacon, ticket 311"\n'
        with Server(work, BASE_CONFIG + "alertbacklog=5000\n" + rates, args) as server:
            macs = [mac(rng) for _ in range(6)]
            for _ in range(140):
                header, text = ALERTS[min(int(rng.expovariate(0.5)), len(ALERTS) - 1)]
                transmitter = macs[min(int(rng.expovariate(0.7)), len(macs) - 1)]
                server.raise_alert(
                    header,
                    text.format(mac=transmitter),
                    bssid=transmitter,
                    source=transmitter,
                    channel=str(rng.choice([1, 6, 11, 36, 149])),
                )
            wait_for(lambda: len(server.alerts()) > 100, what="the alerts")
            silence(server, header="DEAUTHFLOOD", bssid=macs[0], comment="lab AP", duration="4h")
            silence(server, mac=macs[1], comment="red team exercise until Friday", duration="3d")
            ended = silence(server, header="APSPOOF", comment="new AP being set up", duration="1d")
            server.post(f"/forward/silences/by-id/{ended}/expire.cmd").raise_for_status()
            chromium = shutil.which("chromium") or "/usr/bin/chromium"
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=chromium, args=CHROMIUM_ARGS)
                page = browser.new_page(viewport={"width": 1400, "height": 860})
                page.goto(server.url + "/")
                page.wait_for_selector("#login-form")
                page.screenshot(path=str(out / "login.png"))
                log_in(page, server.url)
                page.wait_for_selector("#alerts-table tbody tr.alert-row")
                page.locator("#alerts-table tbody tr.alert-row").nth(2).click()
                page.wait_for_selector("#detail-description")
                page.wait_for_timeout(300)
                page.screenshot(path=str(out / "alerts.png"))
                for name in ("glance", "definitions", "messages", "silences", "apikeys"):
                    page.click(f'a[href="#/{name}"]')
                    page.wait_for_timeout(800)
                    page.screenshot(path=str(out / f"{name}.png"))
                browser.close()
    print(f"screenshots in {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
