"""The PPI header (link type 192): the 802.11-common field, checked against scapy."""

from __future__ import annotations

import pytest
from scapy.contrib.ppi_cace import PPI_Dot11Common
from scapy.layers.dot11 import Dot11
from scapy.layers.ppi import PPI, PPI_Hdr

from kisalert.wids.dot11 import decoder, ppi
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame
from kisalert.wids.engine import Engine
from tests.wids import captures as C
from tests.wids.frames import AP, STA, beacon, deauth, make_config

DEAUTH = bytes(deauth())
BEACON = bytes(beacon())


@pytest.mark.parametrize(("freq", "signal"), [(2412, -20), (5180, -91), (5955, 0), (2484, -128)])
def test_frequency_and_signal_from_a_scapy_built_record(freq: int, signal: int) -> None:
    data = bytes(
        PPI(dlt=105, headers=[PPI_Hdr() / PPI_Dot11Common(Ch_Freq=freq, Antsignal=signal)]) / DEAUTH
    )
    theirs = PPI(data)
    frame = Frame()
    assert decoder.decode(frame, 192, data) == decoder.DECODED
    assert frame.freq == theirs[PPI_Dot11Common].Ch_Freq == freq
    assert frame.signal == theirs[PPI_Dot11Common].Antsignal == signal
    assert frame.start == theirs.len
    assert frame.kind == F.DEAUTH
    assert (frame.bssid, frame.dest) == (bytes.fromhex(AP.replace(":", "")), STA_BYTES)


STA_BYTES = bytes.fromhex(STA.replace(":", ""))


def test_common_field_after_other_fields_and_aligned() -> None:
    other = [(3, bytes(12)), (30002, b"\x00" * 5)]  # 802.11n MAC, an odd-sized vendor field
    for aligned in (False, True):
        data = C.ppi_bytes(BEACON, freq=5745, signal=-63, aligned=aligned, extra_fields=other)
        frame = Frame()
        assert decoder.decode(frame, 192, data) == decoder.DECODED
        assert (frame.freq, frame.signal, frame.ssid) == (5745, -63, b"corp")


def test_no_common_field_leaves_frequency_and_signal_unknown() -> None:
    data = bytes(PPI() / Dot11(type=0, subtype=12, addr1=STA, addr2=AP, addr3=AP)) + b"\x07\x00"
    frame = Frame()
    frame.freq, frame.signal = 2412, -1  # left from an earlier frame
    assert decoder.decode(frame, 192, data) == decoder.DECODED
    assert (frame.freq, frame.signal) == (0, 0)


def test_fcs_present_is_trimmed_and_bad_fcs_is_counted() -> None:
    data = C.ppi_bytes(BEACON + b"FCS!", common_flags=0x0001)
    frame = Frame()
    assert decoder.decode(frame, 192, data) == decoder.DECODED
    assert frame.end == len(data) - 4
    assert frame.tags == 0
    bad = C.ppi_bytes(DEAUTH + b"FCS!", common_flags=0x0001 | 0x0004)
    assert decoder.decode(frame, 192, bad) == decoder.BAD_FCS
    engine = Engine(make_config())
    for i in range(20):
        engine.feed(192, i * 1000, bad)
    assert engine.counts.bad_fcs == 20
    assert engine.take_hits() == []


def test_a_ppi_record_of_another_link_type_is_other_link() -> None:
    ethernet = C.ppi_bytes(b"\xff" * 6 + b"\x02" * 6 + b"\x08\x00" + b"\x45" * 20, dlt=1)
    radio = C.ppi_bytes(C.radiotap_bytes(DEAUTH), dlt=127)
    frame = Frame()
    assert decoder.decode(frame, 192, ethernet) == decoder.OTHER_LINK
    engine = Engine(make_config())
    engine.feed(192, 1, ethernet)
    engine.feed(192, 2, radio)
    engine.feed(192, 3, C.ppi_bytes(DEAUTH))
    assert engine.counts.other_link == 2
    assert engine.counts.decoded == 1
    assert engine.counts.by_linktype[192] == 3


@pytest.mark.parametrize(
    "data",
    [
        b"\x00\x00\x08\x00",  # shorter than a PPI header
        b"\x01\x00\x08\x00\x69\x00\x00\x00" + DEAUTH,  # version 1
        b"\x00\x00\x04\x00\x69\x00\x00\x00" + DEAUTH,  # header length below 8
        b"\x00\x00\xff\x00\x69\x00\x00\x00" + DEAUTH,  # header length past the record
        b"\x00\x00\x10\x00\x69\x00\x00\x00\x02\x00\x14\x00\x00\x00\x00\x00" + DEAUTH,  # overrun
        C.ppi_bytes(b"\x08\x00\x00"),  # an 802.11 frame too short
    ],
)
def test_bad_ppi_records_are_malformed(data: bytes) -> None:
    assert decoder.decode(Frame(), 192, data) == decoder.MALFORMED


def test_ppi_error_and_not_dot11_are_distinct() -> None:
    with pytest.raises(ppi.NotDot11) as raised:
        ppi.decode(Frame(), C.ppi_bytes(b"", dlt=228))
    assert raised.value.dlt == 228
    with pytest.raises(ppi.PpiError):
        ppi.decode(Frame(), b"\x00")
