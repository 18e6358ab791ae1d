"""Building test captures: 802.11 frames crafted with scapy, written as pcap files,
and replayed in-process through the real engine and tracker."""

from __future__ import annotations

import asyncio
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from scapy.layers.dot11 import (
    Dot11,
    Dot11AssoReq,
    Dot11Beacon,
    Dot11Deauth,
    Dot11Disas,
    Dot11Elt,
    Dot11ProbeReq,
    Dot11ProbeResp,
    RadioTap,
)
from scapy.packet import Packet, Raw

from kisalert.alert import Alert
from kisalert.config import Config, build, default_lines, parse_text
from kisalert.wids.replay import Replay, open_captures

AP = "02:00:00:00:00:01"
AP2 = "02:00:00:00:00:02"
STA = "02:00:00:00:01:01"
STA2 = "02:00:00:00:01:02"
BROADCAST = "ff:ff:ff:ff:ff:ff"
T0 = 1_764_420_000.0  # capture time of the first frame

CHANNEL_FREQ = {1: 2412, 6: 2437, 11: 2462, 36: 5180, 149: 5745}


def radiotap(frame: Packet | bytes, channel: int = 6, signal: int = -50) -> Packet:
    """`frame` behind a radiotap header with a channel and a dBm signal."""
    return (
        RadioTap(
            present="Flags+Channel+dBm_AntSignal",
            Flags=0,
            ChannelFrequency=CHANNEL_FREQ.get(channel, 2437),
            ChannelFlags="CCK+2GHz" if channel <= 14 else "OFDM+5GHz",
            dBm_AntSignal=signal,
        )
        / frame
    )


def rsn(mfp: bool = True, pairwise: int = 1) -> Packet:
    """An RSN element: CCMP, PSK, MFP-capable when `mfp`."""
    body = b"\x01\x00" + b"\x00\x0f\xac\x04" + pairwise.to_bytes(2, "little")
    body += b"\x00\x0f\xac\x04" * pairwise + b"\x01\x00\x00\x0f\xac\x02"
    body += b"\x80\x00" if mfp else b"\x00\x00"
    return Dot11Elt(ID=48, info=body)


def beacon(
    ssid: bytes | str = b"corp",
    bssid: str = AP,
    channel: int = 6,
    interval: int = 100,
    crypt: str = "wpa2",
    extra: Iterable[Packet] = (),
    source: str | None = None,
    tsf: int = 0,
    country: bytes | None = None,
    ibss: bool = False,
    probe_response_to: str | None = None,
) -> Packet:
    """A beacon (or, with `probe_response_to`, a probe response) for an AP."""
    ssid = ssid.encode() if isinstance(ssid, str) else ssid
    cap = "IBSS" if ibss else "ESS"
    if crypt != "open":
        cap += "+privacy"
    if probe_response_to is None:
        head = Dot11(type=0, subtype=8, addr1=BROADCAST, addr2=source or bssid, addr3=bssid)
        fixed: Packet = Dot11Beacon(timestamp=tsf, beacon_interval=interval, cap=cap)
    else:
        head = Dot11(type=0, subtype=5, addr1=probe_response_to, addr2=source or bssid, addr3=bssid)
        fixed = Dot11ProbeResp(timestamp=tsf, beacon_interval=interval, cap=cap)
    frame = head / fixed / Dot11Elt(ID=0, info=ssid)
    frame /= Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96\x0c\x12\x18\x24")
    frame /= Dot11Elt(ID=3, info=bytes([channel]))
    if country is not None:
        frame /= Dot11Elt(ID=7, info=country + b"\x20\x01\x0d\x14")
    if crypt == "wpa2":
        frame /= rsn()
    for element in extra:
        frame /= element
    return frame


def probe_request(ssid: bytes | str = b"corp", source: str = STA) -> Packet:
    ssid = ssid.encode() if isinstance(ssid, str) else ssid
    return (
        Dot11(type=0, subtype=4, addr1=BROADCAST, addr2=source, addr3=BROADCAST)
        / Dot11ProbeReq()
        / Dot11Elt(ID=0, info=ssid)
        / Dot11Elt(ID=1, info=b"\x02\x04\x0b\x16")
    )


def deauth(bssid: str = AP, dest: str = STA, reason: int = 7, disassoc: bool = False) -> Packet:
    head = Dot11(type=0, subtype=10 if disassoc else 12, addr1=dest, addr2=bssid, addr3=bssid)
    return head / (Dot11Disas(reason=reason) if disassoc else Dot11Deauth(reason=reason))


def assoc_request(
    ssid: bytes = b"corp", bssid: str = AP, source: str = STA, mfp: bool | None = True
) -> Packet:
    frame = (
        Dot11(type=0, subtype=0, addr1=bssid, addr2=source, addr3=bssid)
        / Dot11AssoReq(cap="ESS+privacy", listen_interval=10)
        / Dot11Elt(ID=0, info=ssid)
        / Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96")
    )
    if mfp is not None:
        frame /= rsn(mfp=mfp)
    return frame


def data(
    payload: bytes,
    bssid: str = AP,
    source: str = STA,
    dest: str = AP,
    to_ds: bool = True,
    protected: bool = False,
) -> Packet:
    """A data frame carrying `payload` after an LLC/SNAP header (include the ethertype)."""
    flags = ("to_DS" if to_ds else "from_DS") + ("+protected" if protected else "")
    if to_ds:
        head = Dot11(type=2, subtype=0, FCfield=flags, addr1=bssid, addr2=source, addr3=dest)
    else:
        head = Dot11(type=2, subtype=0, FCfield=flags, addr1=dest, addr2=bssid, addr3=source)
    return head / Raw(b"\xaa\xaa\x03\x00\x00\x00" + payload)


def record_bytes(frame: Packet | bytes, linktype: int = 127, wrap: bool = True) -> bytes:
    """A frame as a capture record of `linktype`: radiotap-wrapped for 127 unless it
    already is (or `wrap` is False)."""
    if isinstance(frame, Packet):
        if wrap and linktype == 127 and not frame.haslayer(RadioTap):
            frame = radiotap(frame)
        return bytes(frame)
    return frame


def pcap_bytes(
    frames: Sequence[Packet | bytes],
    times: Sequence[float] | None = None,
    step: float = 0.01,
    linktype: int = 127,
    wrap: bool = True,
    endian: str = "<",
    nano: bool = False,
    cut: Sequence[int] = (),
) -> bytes:
    """A whole pcap file: `frames` timed `times`, or `step` seconds apart from T0; the
    record of frame i keeps all but the last `cut[i]` bytes (a short snap length)."""
    magic = 0xA1B23C4D if nano else 0xA1B2C3D4
    out = [struct.pack(endian + "IHHiIII", magic, 2, 4, 0, 0, 262144, linktype)]
    for index, frame in enumerate(frames):
        data = record_bytes(frame, linktype, wrap)
        when = times[index] if times is not None else T0 + index * step
        sec = int(when)
        frac = round((when - sec) * (1_000_000_000 if nano else 1_000_000))
        whole = len(data)
        if index < len(cut) and cut[index]:
            data = data[: -cut[index]]
        out.append(struct.pack(endian + "IIII", sec, frac, len(data), whole) + data)
    return b"".join(out)


def write_pcap(path: Path, frames: Sequence[Packet | bytes], **options: Any) -> Path:
    """Write `frames` to a pcap file (options as for `pcap_bytes`)."""
    path.write_bytes(pcap_bytes(frames, **options))
    return path


def make_config(text: str = "") -> Config:
    return build(parse_text(text, "(test)", Path(".")), default_lines())


def replay(paths: Path | Sequence[Path], config: str | Config = "") -> list[dict[str, Any]]:
    """The alert records a replay of `paths` raises, in order."""
    if isinstance(paths, Path):
        paths = [paths]
    conf = make_config(config) if isinstance(config, str) else config
    alerts: list[Alert] = []
    captures = open_captures(paths)
    try:
        asyncio.run(Replay(conf, on_alert=alerts.append).run(captures))
    finally:
        for capture in captures:
            capture.close()
    return [alert.record for alert in alerts]


def headers(records: Sequence[dict[str, Any]]) -> list[str]:
    return [record["kismet.alert.header"] for record in records]


def only(records: Sequence[dict[str, Any]], header: str) -> list[dict[str, Any]]:
    return [record for record in records if record["kismet.alert.header"] == header]
