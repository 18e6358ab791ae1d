"""The element family: NULLPROBERESP, LONGSSID, MSFDLINKRATE, MSFNETGEARBEACON,
WMMOVERFLOW, WMMTSPEC, RSNLOOP, QCOMEXTENDED, BADFIXLENIE, RTLWIFIP2P, MALFORMMGMT,
BCOM11KCHAN: a trigger and a near miss each, and ordinary modern traffic that must
raise none of them."""

from __future__ import annotations

import struct
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from scapy.layers.dot11 import Dot11, Dot11Beacon, Dot11Elt
from scapy.packet import Packet, Raw

from kisalert.wids.detectors.elements import Elements
from kisalert.wids.dot11.anomalies import EMPTY_SSID
from kisalert.wids.engine import Engine
from tests.wids.frames import (
    AP,
    BROADCAST,
    STA,
    assoc_request,
    beacon,
    make_config,
    only,
    probe_request,
    radiotap,
    replay,
    write_pcap,
)

ZERO = "00:00:00:00:00:00"
QCOM_ON = "alert=QCOMEXTENDED,10/min,1/sec\n"


def alerts(tmp_path: Path, frames: Sequence[Packet | bytes], config: str = "") -> list[Any]:
    # Raw 802.11 bytes (frames scapy would not build) get their radiotap header here.
    wrapped = [radiotap(frame) if isinstance(frame, bytes) else frame for frame in frames]
    capture = write_pcap(tmp_path / "elements.pcap", wrapped, step=2.0)
    return replay(capture, config)


def one(tmp_path: Path, frame: Packet | bytes, header: str, config: str = "") -> dict[str, Any]:
    """The one alert `header` that `frame` raises, with the usual beacon MACs checked."""
    [alert] = only(alerts(tmp_path, [frame], config), header)
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == AP.upper()
    assert alert["kismet.alert.other_mac"] == ZERO
    assert alert["kismet.alert.channel"] == "6"
    assert AP.upper() in alert["kismet.alert.text"]
    return alert


def none(tmp_path: Path, frames: Sequence[Packet | bytes], header: str, config: str = "") -> None:
    assert only(alerts(tmp_path, frames, config), header) == []


def bare_beacon(*elements: Packet, ssid: bytes = b"corp", to: str | None = None) -> Packet:
    """A beacon (a probe response `to` a station) with just an SSID and `elements`:
    no builder defaults to get in the way."""
    head = Dot11(type=0, subtype=8 if to is None else 5, addr1=to or BROADCAST, addr2=AP, addr3=AP)
    frame = head / Dot11Beacon(cap="ESS") / Dot11Elt(ID=0, info=ssid)
    for element in elements:
        frame /= element
    return frame


def vendor(body: bytes) -> Packet:
    return Dot11Elt(ID=221, info=body)


def wmm(subtype: int, size: int) -> Packet:
    """A WMM element (00:50:F2 type 2) of `subtype` whose body is `size` bytes."""
    return vendor(b"\x00\x50\xf2\x02" + bytes([subtype, 1]) + bytes(size - 6))


def tspec() -> Packet:
    """A WMM TSPEC element: OUI, type 2, subtype 2, version 1, the 55-byte TSPEC body."""
    return wmm(2, 61)


def rsn_raw(count: int, suites: int, tail: bytes = b"") -> Packet:
    """An RSN element declaring `count` pairwise suites and holding `suites` of them."""
    body = b"\x01\x00\x00\x0f\xac\x04" + struct.pack("<H", count) + b"\x00\x0f\xac\x04" * suites
    return Dot11Elt(ID=48, info=body + tail)


def p2p(noa_length: int) -> Packet:
    """A Wi-Fi P2P element: a capability attribute, then a notice of absence."""
    noa = bytes([1, 0x80]) + bytes(noa_length - 2)
    attributes = b"\x02\x02\x00\x21\x00" + b"\x0c" + struct.pack("<H", noa_length) + noa
    return vendor(b"\x50\x6f\x9a\x09" + attributes)


def neighbor_response(channel: int) -> Packet:
    """A radio measurement (5) neighbor report response (5) naming one neighbor."""
    report = bytes.fromhex("020000000009") + b"\x8f\x00\x00\x00" + bytes([115, channel, 9])
    body = bytes([5, 5, 1, 52, len(report)]) + report
    return Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body)


# NULLPROBERESP


def test_nullproberesp(tmp_path: Path) -> None:
    alert = one(tmp_path, beacon(b"", probe_response_to=STA), "NULLPROBERESP")
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    assert alert["kismet.alert.text"].startswith(f"Probe response from {AP.upper()}")
    assert "empty SSID" in alert["kismet.alert.text"]


def test_nullproberesp_near_miss(tmp_path: Path) -> None:
    # A one-byte SSID; and the empty SSIDs of a hidden network's beacon and of a
    # wildcard probe request, which are ordinary.
    frames = [beacon(b"c", probe_response_to=STA), beacon(b""), probe_request(b"")]
    none(tmp_path, frames, "NULLPROBERESP")


# LONGSSID


def test_longssid(tmp_path: Path) -> None:
    alert = one(tmp_path, beacon(b"A" * 33), "LONGSSID")
    assert alert["kismet.alert.dest_mac"] == BROADCAST.upper()
    assert "longer than 32" in alert["kismet.alert.text"]


def test_longssid_near_miss(tmp_path: Path) -> None:
    none(tmp_path, [beacon(b"A" * 32)], "LONGSSID")


# MSFDLINKRATE


def test_msfdlinkrate_in_supported_rates(tmp_path: Path) -> None:
    frame = bare_beacon(Dot11Elt(ID=1, info=b"\x82\x84\x75\xeb\x49\x96"))
    assert "75 EB 49" in one(tmp_path, frame, "MSFDLINKRATE")["kismet.alert.text"]


def test_msfdlinkrate_in_extended_rates(tmp_path: Path) -> None:
    one(tmp_path, beacon(extra=[Dot11Elt(ID=50, info=b"\x30\x48\x75\xeb\x49")]), "MSFDLINKRATE")


def test_msfdlinkrate_near_miss(tmp_path: Path) -> None:
    # One byte different; and the right bytes, in an element that is not a rates one.
    frames = [
        beacon(extra=[Dot11Elt(ID=50, info=b"\x30\x48\x75\xeb\x48")]),
        beacon(extra=[vendor(b"\x02\x00\x00\x75\xeb\x49")]),
    ]
    none(tmp_path, frames, "MSFDLINKRATE")


# MSFNETGEARBEACON

NETGEAR = b"\x6a\x39\x58\x01"


def netgear_beacon(signature: bytes = NETGEAR, at: int = 1180, kind: int = 8) -> bytes:
    """An 802.11 beacon (or another subtype) with `signature` at frame offset `at`,
    ending right after it: filler vendor elements up to there."""
    frame = bytes(
        Dot11(type=0, subtype=kind, addr1=BROADCAST if kind == 8 else STA, addr2=AP, addr3=AP)
        / Dot11Beacon(cap="ESS")
        / Dot11Elt(ID=0, info=b"corp")
    )
    need = at - len(frame)  # bytes of elements before the signature
    while need > 2 + 255:
        size = 200 if need - 257 < 2 + 4 else 255  # leave room for the last element
        frame += bytes([221, size]) + b"\x02\x00\x00" + bytes(size - 3)
        need -= 2 + size
    body = b"\x02\x00\x00" + bytes(need - 2 - 3) + signature
    frame += bytes([221, len(body)]) + body
    assert frame.find(signature) == at and len(frame) == at + 4
    return frame


def test_msfnetgearbeacon(tmp_path: Path) -> None:
    frame = netgear_beacon()
    assert len(frame) == 1184  # the least that fires
    alert = one(tmp_path, frame, "MSFNETGEARBEACON")
    assert "Netgear" in alert["kismet.alert.text"]


def test_msfnetgearbeacon_near_miss(tmp_path: Path) -> None:
    frames = [
        netgear_beacon(b"\x6a\x39\x58\x02"),  # one byte off
        netgear_beacon(at=1181),  # one offset off
        netgear_beacon(kind=5),  # a probe response, not a beacon
    ]
    none(tmp_path, frames, "MSFNETGEARBEACON")


# WMMOVERFLOW


def test_wmmoverflow_parameter_element(tmp_path: Path) -> None:
    alert = one(tmp_path, beacon(extra=[wmm(1, 25)]), "WMMOVERFLOW")
    assert "WMM" in alert["kismet.alert.text"]


def test_wmmoverflow_information_element(tmp_path: Path) -> None:
    one(tmp_path, beacon(extra=[wmm(0, 25)]), "WMMOVERFLOW")


def test_wmmoverflow_near_miss(tmp_path: Path) -> None:
    # A TSPEC (subtype 2) is long by design; a parameter element of 24 bytes is normal.
    none(tmp_path, [beacon(extra=[wmm(2, 61)]), beacon(extra=[wmm(1, 24)])], "WMMOVERFLOW")


# WMMTSPEC


def test_wmmtspec(tmp_path: Path) -> None:
    frame = assoc_request()
    for _ in range(5):
        frame /= tspec()
    [alert] = only(alerts(tmp_path, [frame]), "WMMTSPEC")
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.dest_mac"] == AP.upper()
    assert alert["kismet.alert.channel"] == "6"
    assert alert["kismet.alert.text"].startswith(f"Association request from {STA.upper()}")
    assert "more than 4 WMM TSPEC" in alert["kismet.alert.text"]


def test_wmmtspec_near_miss(tmp_path: Path) -> None:
    frame = assoc_request()
    for _ in range(4):
        frame /= tspec()
    none(tmp_path, [frame], "WMMTSPEC")


# RSNLOOP


def test_rsnloop_pairwise_count_above_1024(tmp_path: Path) -> None:
    alert = one(tmp_path, bare_beacon(rsn_raw(1025, 2)), "RSNLOOP")
    assert "pairwise cipher" in alert["kismet.alert.text"]


def test_rsnloop_pairwise_list_overruns_the_element(tmp_path: Path) -> None:
    one(tmp_path, bare_beacon(rsn_raw(3, 2)), "RSNLOOP")


def test_rsnloop_count_of_1024_is_caught_by_its_overrun(tmp_path: Path) -> None:
    # 1024 suites need 4 KiB, and an element holds 255 bytes: no count above 61 fits.
    one(tmp_path, bare_beacon(rsn_raw(1024, 2)), "RSNLOOP")


def test_rsnloop_near_miss(tmp_path: Path) -> None:
    # The count matches the list, up to the most suites an element can hold.
    frames = [
        bare_beacon(rsn_raw(2, 2, b"\x01\x00\x00\x0f\xac\x02\x80\x00")),
        bare_beacon(rsn_raw(61, 61)),
    ]
    none(tmp_path, frames, "RSNLOOP")


# QCOMEXTENDED


def test_qcomextended(tmp_path: Path) -> None:
    frame = beacon(extra=[Dot11Elt(ID=127, info=bytes(14))])
    assert only(alerts(tmp_path, [frame]), "QCOMEXTENDED") == []  # off by default
    alert = one(tmp_path, frame, "QCOMEXTENDED", QCOM_ON)
    assert "extended capabilities" in alert["kismet.alert.text"]


def test_qcomextended_near_miss(tmp_path: Path) -> None:
    none(tmp_path, [beacon(extra=[Dot11Elt(ID=127, info=bytes(13))])], "QCOMEXTENDED", QCOM_ON)


# BADFIXLENIE


def test_badfixlenie_ds_parameter_set(tmp_path: Path) -> None:
    alert = one(tmp_path, bare_beacon(Dot11Elt(ID=3, info=b"\x06\x06")), "BADFIXLENIE")
    assert "fixed-length element" in alert["kismet.alert.text"]


def test_badfixlenie_ht_capabilities(tmp_path: Path) -> None:
    one(tmp_path, beacon(extra=[Dot11Elt(ID=45, info=bytes(27))]), "BADFIXLENIE")


def test_badfixlenie_near_miss(tmp_path: Path) -> None:
    frames = [
        bare_beacon(Dot11Elt(ID=3, info=b"\x06")),
        beacon(extra=[Dot11Elt(ID=45, info=bytes(26))]),
    ]
    none(tmp_path, frames, "BADFIXLENIE")


# RTLWIFIP2P


def test_rtlwifip2p(tmp_path: Path) -> None:
    alert = one(tmp_path, beacon(extra=[p2p(29)]), "RTLWIFIP2P")
    assert "notice of absence" in alert["kismet.alert.text"]


def test_rtlwifip2p_near_miss(tmp_path: Path) -> None:
    # 28 bytes: two absence descriptors, the most a P2P group owner sends.
    none(tmp_path, [beacon(extra=[p2p(28)])], "RTLWIFIP2P")


# MALFORMMGMT


def test_malformmgmt_element_runs_past_the_frame(tmp_path: Path) -> None:
    frame = bytes(beacon()) + bytes([221, 10]) + b"\x02\x00\x00\x01"  # 4 of 10 bytes
    alert = one(tmp_path, frame, "MALFORMMGMT")
    assert "past the end of the frame" in alert["kismet.alert.text"]


def test_malformmgmt_near_miss(tmp_path: Path) -> None:
    frame = bytes(beacon()) + bytes([221, 4]) + b"\x02\x00\x00\x01"  # exactly to the end
    none(tmp_path, [frame], "MALFORMMGMT")


def test_malformmgmt_one_stray_byte_after_the_last_element(tmp_path: Path) -> None:
    one(tmp_path, bytes(beacon()) + b"\xdd", "MALFORMMGMT")


def test_malformmgmt_body_shorter_than_its_fixed_fields(tmp_path: Path) -> None:
    head = bytes(Dot11(type=0, subtype=8, addr1=BROADCAST, addr2=AP, addr3=AP))
    alert = one(tmp_path, head + bytes(11), "MALFORMMGMT")  # a beacon's are 12 bytes
    assert "too short" in alert["kismet.alert.text"]
    none(tmp_path, [head + bytes(12)], "MALFORMMGMT")


# BCOM11KCHAN


def test_bcom11kchan(tmp_path: Path) -> None:
    alert = one(tmp_path, neighbor_response(225), "BCOM11KCHAN")
    assert alert["kismet.alert.dest_mac"] == STA.upper()
    assert alert["kismet.alert.text"].startswith(f"Action frame from {AP.upper()}")
    assert "neighbor report" in alert["kismet.alert.text"]


def test_bcom11kchan_near_miss(tmp_path: Path) -> None:
    none(tmp_path, [neighbor_response(224)], "BCOM11KCHAN")


def test_bcom11kchan_only_in_radio_measurement_neighbor_responses(tmp_path: Path) -> None:
    frame = neighbor_response(225)
    body = bytes(frame[Raw].load)
    other = Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP)
    frames = [other / Raw(bytes([5, 4]) + body[2:]), other / Raw(bytes([10, 5]) + body[2:])]
    none(tmp_path, frames, "BCOM11KCHAN")


# Ordinary traffic


def modern_ap_beacon(hidden: bool = False, to: str | None = None) -> Packet:
    """What a current Wi-Fi 6 AP (hostapd-like, WPA2/WPA3 transition, 802.11k/r/v)
    advertises."""
    rsn = b"\x01\x00\x00\x0f\xac\x04\x01\x00\x00\x0f\xac\x04\x03\x00"
    rsn += b"\x00\x0f\xac\x02\x00\x0f\xac\x08\x00\x0f\xac\x04\x8c\x00"
    elements = [
        Dot11Elt(ID=1, info=b"\x82\x84\x8b\x96\x0c\x12\x18\x24"),
        Dot11Elt(ID=3, info=b"\x06"),
        Dot11Elt(ID=5, info=b"\x00\x01\x00\x00"),  # TIM
        Dot11Elt(ID=7, info=b"DE\x20\x01\x0d\x14"),
        Dot11Elt(ID=11, info=b"\x03\x00\x10\x00\x00"),  # BSS load
        Dot11Elt(ID=32, info=b"\x00"),  # power constraint
        Dot11Elt(ID=35, info=b"\x11\x00"),  # TPC report
        Dot11Elt(ID=42, info=b"\x00"),
        Dot11Elt(ID=50, info=b"\x30\x48\x60\x6c"),
        Dot11Elt(ID=48, info=rsn),
        Dot11Elt(ID=54, info=b"\x12\x34\x01"),  # mobility domain
        Dot11Elt(ID=59, info=b"\x51\x51\x53\x54"),  # supported operating classes
        Dot11Elt(ID=70, info=b"\x73\x00\x00\x00\x00"),  # RM enabled capabilities
        Dot11Elt(ID=45, info=b"\xef\x19\x1b\xff\xff" + bytes(21)),
        Dot11Elt(ID=61, info=b"\x06\x07\x00\x00" + bytes(18)),
        Dot11Elt(ID=127, info=b"\x04\x00\x08\x80\x00\x00\x00\x40\x00\x40\x01"),  # 11 bytes
        Dot11Elt(ID=191, info=b"\x32\x00\x80\x03\xaa\xff\x00\x00\xaa\xff\x00\x00"),
        Dot11Elt(ID=192, info=b"\x00\x00\x00\x00\x00"),
        Dot11Elt(ID=195, info=b"\x01\x3c\x3c"),  # transmit power envelope
        Dot11Elt(ID=255, info=b"\x23" + bytes(26)),  # HE capabilities
        Dot11Elt(ID=255, info=b"\x24\xf4\x3f\x00\x09\xfc\xff"),  # HE operation
        Dot11Elt(ID=255, info=b"\x26\x00\x03\xa4\xff\x27\xa4\xff\x42\x43\xff\x62\x32\xff"),
        vendor(b"\x00\x50\xf2\x02\x01\x01\x80\x00" + bytes(16)),  # WMM parameters
        vendor(b"\x00\x50\xf2\x04\x10\x4a\x00\x01\x10\x10\x44\x00\x01\x02"),  # WPS
        vendor(b"\x00\x10\x18\x02\x00\x00\x1c\x00\x00"),  # Broadcom
        vendor(b"\x50\x6f\x9a\x16\x03\x01\x03"),  # Wi-Fi Alliance multi-band operation
    ]
    return bare_beacon(*elements, ssid=b"" if hidden else b"corp-office", to=to)


def modern_client_frames() -> list[Packet]:
    """A current laptop probing and associating, and a P2P group owner nearby."""
    caps = [
        Dot11Elt(ID=33, info=b"\x00\x14"),  # power capability
        Dot11Elt(ID=36, info=b"\x01\x0b\x24\x04"),  # supported channels
        Dot11Elt(ID=45, info=b"\x6f\x01\x17\xff\xff" + bytes(21)),
        Dot11Elt(ID=127, info=b"\x04\x00\x0a\x82\x21\x40\x00\x40\x80\x00"),  # 10 bytes
        Dot11Elt(ID=191, info=b"\xb1\x79\xc3\x33\xaa\xff\x00\x00\xaa\xff\x00\x20"),
        Dot11Elt(ID=199, info=b"\x12"),  # operating mode notification
        Dot11Elt(ID=255, info=b"\x23" + bytes(22)),
        vendor(b"\x00\x50\xf2\x02\x00\x01\x00"),  # WMM information
    ]
    probe = probe_request(b"")
    association = assoc_request()
    for element in caps:
        probe /= element
        association /= element
    association /= tspec()  # one admission-control request
    group_owner = beacon(b"DIRECT-ab-printer", extra=[p2p(28)])
    return [probe, association, group_owner, neighbor_response(36)]


def test_ordinary_modern_traffic_raises_no_element_alert(tmp_path: Path) -> None:
    frames = [
        modern_ap_beacon(),
        modern_ap_beacon(hidden=True),
        modern_ap_beacon(to=STA),
        *modern_client_frames(),
    ]
    records = alerts(tmp_path, frames, QCOM_ON)
    assert [r for r in records if r["kismet.alert.header"] in Elements.headers] == []
    # ... because nothing in them is odd, not because they failed to decode.
    engine = Engine(make_config(QCOM_ON))
    for index, frame in enumerate(frames):
        engine.feed(127, index, bytes(radiotap(frame)))
        assert engine.frame.tags & ~EMPTY_SSID == 0
    assert engine.counts.decoded == len(frames)


def test_longssid_in_a_second_ssid_element(tmp_path: Path) -> None:
    # A valid SSID first does not hide a long one after it.
    one(tmp_path, bare_beacon(Dot11Elt(ID=0, info=b"B" * 40)), "LONGSSID")


def test_rtlwifip2p_in_a_p2p_action_frame(tmp_path: Path) -> None:
    # A P2P presence response (vendor action, 50:6F:9A type 9): subtype, dialog token.
    body = b"\x7f\x50\x6f\x9a\x09\x02\x01" + bytes(p2p(29))
    frame = Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body)
    one(tmp_path, frame, "RTLWIFIP2P")


def test_rtlwifip2p_near_miss_in_a_p2p_action_frame(tmp_path: Path) -> None:
    body = b"\x7f\x50\x6f\x9a\x09\x02\x01" + bytes(p2p(28))
    frame = Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body)
    none(tmp_path, [frame], "RTLWIFIP2P")


def test_wmmtspec_in_a_wmm_addts_action_frame(tmp_path: Path) -> None:
    body = b"\x11\x00\x01\x00" + b"".join(bytes(tspec()) for _ in range(5))
    frame = Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body)
    one(tmp_path, frame, "WMMTSPEC")


def test_wmmtspec_near_miss_four_in_a_wmm_addts_action_frame(tmp_path: Path) -> None:
    body = b"\x11\x00\x01\x00" + b"".join(bytes(tspec()) for _ in range(4))
    frame = Dot11(type=0, subtype=13, addr1=STA, addr2=AP, addr3=AP) / Raw(body)
    none(tmp_path, [frame], "WMMTSPEC")
