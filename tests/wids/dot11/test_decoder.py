"""From a capture record to a Frame: the link type chooses the decoder; bad input is a count.

The decoder's view of scapy-built frames, behind each capture header, is compared with
scapy's own parse, and mutated frames of every kind are fed to the engine, which must
turn each into a count and never raise.
"""

from __future__ import annotations

import random
import struct
from typing import Any

import pytest
from scapy.layers.dhcp import BOOTP, DHCP
from scapy.layers.dot11 import Dot11, Dot11Elt, Dot11QoS, RadioTap
from scapy.layers.eap import EAPOL
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import LLC, SNAP
from scapy.packet import Packet, Raw

from kisalert.wids.dot11 import decoder
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame
from kisalert.wids.engine import Engine
from tests.wids import captures as C
from tests.wids.frames import (
    AP,
    STA,
    assoc_request,
    beacon,
    deauth,
    make_config,
    probe_request,
    radiotap,
)

ETHERNET = b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + bytes(46)


def eapol_frame(from_ap: bool = True) -> Packet:
    head = Dot11(
        type=2,
        subtype=8,
        FCfield="from_DS" if from_ap else "to_DS",
        addr1=STA if from_ap else AP,
        addr2=AP if from_ap else STA,
        addr3=AP,
    )
    key = b"\x02" + struct.pack(">HHQ", 0x008A, 16, 1) + bytes(32 + 16 + 8 + 8 + 16) + b"\x00\x00"
    return head / Dot11QoS() / LLC() / SNAP() / EAPOL(version=2, type=3) / Raw(key)


def dhcp_frame() -> Packet:
    head = Dot11(type=2, FCfield="to_DS", addr1=AP, addr2=STA, addr3="ff:ff:ff:ff:ff:ff")
    options: list[Any] = [("message-type", "discover"), ("client_id", b"\x01" + bytes(6))]
    options += [("hostname", b"laptop"), ("vendor_class_id", b"MSFT 5.0"), "end"]
    body = BOOTP(chaddr=bytes(6)) / DHCP(options=options)
    return head / LLC() / SNAP() / IP(src="0.0.0.0", dst="255.255.255.255") / UDP() / body


FRAMES: list[Packet] = [
    beacon(),
    beacon(crypt="open", country=b"US", extra=[Dot11Elt(ID=221, info=b"\x00\x50\xf2\x02\x01")]),
    beacon(probe_response_to=STA),
    probe_request(),
    assoc_request(),
    deauth(),
    deauth(disassoc=True, dest="ff:ff:ff:ff:ff:ff"),
    eapol_frame(),
    eapol_frame(from_ap=False),
    dhcp_frame(),
    Dot11(type=1, subtype=11, addr1=AP, addr2=STA) / Raw(b""),  # RTS
    Dot11(type=1, subtype=13, addr1=STA),  # ACK
    Dot11(type=2, subtype=4, FCfield="to_DS", addr1=AP, addr2=STA, addr3=AP),  # null data
    Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(b"\x05\x05\x01" + bytes(20)),
    # An RSN element whose pairwise count runs far past it.
    beacon(extra=[Dot11Elt(ID=48, info=b"\x01\x00\x00\x0f\xac\x04\xd0\x07\x00\x0f\xac\x04")]),
]


def theirs_view(packet: Packet) -> tuple[int, int, bytes, bytes]:
    """(type, subtype, addr1, addr2) by scapy's parse; b"" for an absent addr2."""
    parsed = Dot11(bytes(packet))
    addr2 = parsed.addr2 if parsed.addr2 is not None and len(bytes(packet)) >= 16 else None
    return (
        parsed.type,
        parsed.subtype,
        bytes.fromhex(parsed.addr1.replace(":", "")),
        bytes.fromhex(addr2.replace(":", "")) if addr2 else b"",
    )


@pytest.mark.parametrize("packet", FRAMES, ids=lambda p: p.lastlayer().name)
def test_every_capture_header_gives_scapys_view(packet: Packet) -> None:
    raw = bytes(packet)
    kind, subtype, addr1, addr2 = theirs_view(packet)
    on_radiotap = bytes(radiotap(packet, channel=36, signal=-77))
    their_radiotap = RadioTap(on_radiotap)
    records = [
        (127, on_radiotap, (their_radiotap.ChannelFrequency, their_radiotap.dBm_AntSignal)),
        (192, C.ppi_bytes(raw, freq=2462, signal=-33), (2462, -33)),
        (105, raw, (0, 0)),
    ]
    for linktype, data, (freq, signal) in records:
        frame = Frame()
        assert decoder.decode(frame, linktype, data) == decoder.DECODED
        assert (frame.freq, frame.signal) == (freq, signal)
        assert (frame.type, frame.subtype) == (kind, subtype)
        assert frame.addr1 == addr1
        assert frame.addr2 == addr2
        assert frame.data[frame.start : frame.end] == raw
        if Dot11(raw).haslayer(EAPOL):
            assert frame.kind & F.EAPOL
            assert frame.data[frame.eapol :] == bytes(Dot11(raw)[EAPOL])
        if Dot11(raw).haslayer(BOOTP):
            assert frame.kind & F.DHCP
            assert frame.data[frame.dhcp :] == bytes(Dot11(raw)[BOOTP])


def test_other_link_types_are_skipped_and_counted() -> None:
    engine = Engine(make_config())
    engine.feed(1, 1, ETHERNET)
    engine.feed(113, 2, ETHERNET)
    engine.feed(127, 3, bytes(radiotap(deauth())))
    engine.feed(192, 4, C.ppi_bytes(ETHERNET, dlt=1))
    counts = engine.counts
    assert (counts.records, counts.decoded, counts.other_link) == (4, 1, 3)
    assert counts.by_linktype == {1: 1, 113: 1, 127: 1, 192: 1}
    assert counts.malformed == counts.bad_fcs == 0


def test_statuses_for_bad_records() -> None:
    frame = Frame()
    assert decoder.decode(frame, 127, b"\x00\x00") == decoder.MALFORMED
    assert decoder.decode(frame, 192, b"\x00\x00") == decoder.MALFORMED
    assert decoder.decode(frame, 105, b"\x08\x00") == decoder.MALFORMED
    assert decoder.decode(frame, 105, b"") == decoder.MALFORMED
    bad_fcs = C.radiotap_bytes(bytes(deauth()), flags=0x50) + bytes(4)
    assert decoder.decode(frame, 127, bad_fcs) == decoder.BAD_FCS


def test_raw_80211_frames_have_no_channel() -> None:
    engine = Engine(make_config())
    engine.feed(105, 1, bytes(beacon()))
    assert engine.counts.decoded == 1
    assert engine.frame.channel == ""
    assert engine.frame.freq == 0


def _mutate(data: bytes, rng: random.Random) -> bytes:
    out = bytearray(data)
    for _ in range(rng.randint(1, 6)):
        choice = rng.random()
        if choice < 0.6 and out:
            out[rng.randrange(len(out))] = rng.randrange(256)
        elif choice < 0.8 and out:
            del out[rng.randrange(len(out)) :]
        else:
            at = rng.randrange(len(out) + 1)
            out[at:at] = bytes(rng.randrange(256) for _ in range(rng.randint(1, 12)))
    return bytes(out)


def test_fuzz_the_engine_never_raises() -> None:
    """Every detector family on, a few thousand mutated frames of every kind."""
    rng = random.Random(424242)
    seeds: list[tuple[int, bytes]] = []
    for packet in FRAMES:
        raw = bytes(packet)
        seeds.append((127, bytes(radiotap(packet))))
        seeds.append((127, C.radiotap_bytes(raw + b"FCS!", flags=0x10, tsft=1)))
        seeds.append((192, C.ppi_bytes(raw)))
        seeds.append((105, raw))
    engine = Engine(make_config())
    frame = Frame()
    statuses = set()
    for index in range(6000):
        linktype, data = rng.choice(seeds)
        mutated = _mutate(data, rng)
        # Mostly mutate the 802.11 part; the capture header has its own fuzz.
        statuses.add(decoder.decode(frame, linktype, mutated))
        engine.feed(linktype, index * 20_000, mutated)
    counts = engine.counts
    assert counts.records == 6000
    assert counts.decoded + counts.bad_fcs + counts.other_link <= counts.records
    assert {decoder.DECODED, decoder.MALFORMED, decoder.BAD_FCS} <= statuses
    assert counts.malformed > 0
