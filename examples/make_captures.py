"""Re-create the example captures (needs the test extra, for scapy):

    .venv/bin/python examples/make_captures.py

office.pcap: the corporate AP beaconing "corp", a client probing for it, a second AP
beaconing the same SSID (APSPOOF with kismet_alerts.conf), then a deauthentication
flood against the client and broadcast disconnects (DEAUTHFLOOD, BCASTDISCON).
lobby.pcap.gz: the flood alone, gzip-compressed.
"""

from __future__ import annotations

import gzip
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from tests.wids.frames import AP, AP2, BROADCAST, T0, beacon, deauth, pcap_bytes, probe_request

HERE = Path(__file__).resolve().parent


def main() -> None:
    frames, times = [], []
    when = T0

    def add(frame: object, step: float) -> None:
        nonlocal when
        frames.append(frame)
        times.append(when)
        when += step

    for index in range(30):
        add(beacon(ssid="corp", bssid=AP), 0.1)
        if index % 10 == 0:
            add(probe_request(b"corp"), 0.01)
    for _ in range(5):
        add(beacon(ssid="corp", bssid=AP2), 0.1)
    flood_start = len(frames)
    for _ in range(40):
        add(deauth(), 0.02)
        add(deauth(dest=BROADCAST), 0.02)
    (HERE / "office.pcap").write_bytes(pcap_bytes(frames, times=times))
    lobby = pcap_bytes(frames[flood_start:], times=times[flood_start:])
    (HERE / "lobby.pcap.gz").write_bytes(gzip.compress(lobby, mtime=0))


if __name__ == "__main__":
    main()
