"""EAPOL alerts read exactly as a user sees them, and NONCEREUSE's memory: which
station a nonce belongs to and how many nonces it keeps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.packet import Packet

from kisalert.wids import state
from kisalert.wids.detectors import eapol
from kisalert.wids.detectors.eapol import Eapol
from kisalert.wids.engine import Engine
from tests.wids.eapol_dhcp_frames import (
    ACK,
    GROUP2,
    INSTALL,
    MIC,
    MSG1,
    NONCE,
    PAIRWISE,
    V_AES,
    V_RC4,
    eapol_frame,
    eapol_key,
    wsc,
)
from tests.wids.frames import AP, STA, STA2, T0, make_config, only, record_bytes, replay, write_pcap

M3 = 0x07
INSTALL_ACK = PAIRWISE | INSTALL | ACK | MIC
DEGRADE_ON = "alert=NONCEDEGRADE,5/min,1/sec\n"
REUSE_ON = "alert=NONCEREUSE,5/min,1/sec\n"
A, S = AP.upper(), STA.upper()


def text_of(tmp_path: Path, frames: Sequence[Packet], header: str, config: str = "") -> str:
    capture = write_pcap(tmp_path / "eapol.pcap", frames, step=2)
    [alert] = only(replay(capture, config), header)
    return str(alert["kismet.alert.text"])


def test_rtl8195vd1406_text(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(MSG1, key_data=b"\x41" * 418), from_ap=False)
    assert text_of(tmp_path, [frame], "RTL8195VD1406") == (
        f"EAPOL-Key frame from {S} to {A} declares an 802.1X length of 513 bytes "
        "(over 512), an exploit of Realtek RTL8195 (VD-1406) key parsing"
    )


def test_wpsbrute_text(tmp_path: Path) -> None:
    frames = [eapol_frame(wsc(M3)) for _ in range(6)]
    assert text_of(tmp_path, frames, "WPSBRUTE") == (
        f"More than 5 WPS M3 messages from {A} on BSSID {A} within five minutes: "
        "a WPS PIN brute-force attack"
    )


def test_noncedegrade_text(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(GROUP2))
    assert text_of(tmp_path, [frame], "NONCEDEGRADE", DEGRADE_ON) == (
        f"AP {A} sent {S} an EAPOL-Key group message with an all-zero nonce and no key "
        "data: a nonce degradation attack on the handshake"
    )


def test_noncedegrade_near_miss_ack_or_install_set(tmp_path: Path) -> None:
    # The attack's message asks for no answer and installs nothing.
    frames = [eapol_frame(eapol_key(GROUP2 | bit)) for bit in (ACK, INSTALL)]
    capture = write_pcap(tmp_path / "acked.pcap", frames, step=2)
    assert only(replay(capture, DEGRADE_ON), "NONCEDEGRADE") == []


@pytest.mark.parametrize(
    ("version", "header", "size", "kind", "limit"),
    [
        (V_RC4, "VDOO202027301", 258, "RC4/HMAC-MD5", 257),
        (V_AES, "VDOO202027302", 129, "AES", 128),
    ],
)
def test_vdoo_text_names_the_cipher_and_cve(
    tmp_path: Path, version: int, header: str, size: int, kind: str, limit: int
) -> None:
    frame = eapol_frame(eapol_key(version | INSTALL_ACK, key_data=b"\x00" * size))
    assert text_of(tmp_path, [frame], header) == (
        f"EAPOL-Key message with install and ACK from {A} to {S} carries {size} bytes of "
        f"{kind} key data (over {limit}), an exploit of Realtek Ameba key parsing "
        f"(CVE-2020-{header[-5:]})"
    )


def test_noncereuse_text(tmp_path: Path) -> None:
    frames = [eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE)) for _ in range(2)]
    assert text_of(tmp_path, frames, "NONCEREUSE", REUSE_ON) == (
        f"EAPOL handshake nonce from {A} to {S} repeated with replay counter 3 "
        "(previously 3): a key reinstallation (KRACK) attack or a replayed handshake"
    )


def test_noncereuse_near_miss_two_stations_sending_one_nonce_to_the_ap(tmp_path: Path) -> None:
    # Message 2s towards the AP: each nonce belongs to its sending station, not the AP.
    frames = [
        eapol_frame(
            eapol_key(V_AES | PAIRWISE | MIC, replay=5, nonce=NONCE), from_ap=False, sta=sta
        )
        for sta in (STA, STA2)
    ]
    capture = write_pcap(tmp_path / "two.pcap", frames, step=2)
    assert only(replay(capture, REUSE_ON), "NONCEREUSE") == []


def handshakes_between(others: int) -> list[Packet]:
    """Message 1 with NONCE, `others` message 1s with other nonces, then NONCE again."""
    first = eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE))
    between = [
        eapol_frame(eapol_key(MSG1, replay=3, nonce=bytes([i + 100]) * 32)) for i in range(others)
    ]
    return [first, *between, first]


def test_noncereuse_remembers_the_last_16_nonces_of_a_station(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "kept.pcap", handshakes_between(15), step=2)
    assert len(only(replay(capture, REUSE_ON), "NONCEREUSE")) == 1


def test_noncereuse_near_miss_a_nonce_17_handshakes_old_is_forgotten(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "gone.pcap", handshakes_between(16), step=2)
    assert only(replay(capture, REUSE_ON), "NONCEREUSE") == []


def station(index: int) -> str:
    return f"02:00:00:00:08:{index:02x}"


@pytest.mark.parametrize(("churn", "brute"), [(3, True), (4, False)])
def test_wpsbrute_counter_survives_until_the_table_is_full(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, churn: int, brute: bool
) -> None:
    # A quarter of DEFAULT_LIMIT counters: with 16, four sources. Five M3s from STA, one
    # from each of `churn` other sources, then STA's sixth, all within five minutes.
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 16)
    frames = [eapol_frame(wsc(M3), from_ap=False) for _ in range(5)]
    frames += [eapol_frame(wsc(M3), from_ap=False, sta=station(i)) for i in range(churn)]
    frames.append(eapol_frame(wsc(M3), from_ap=False))
    capture = write_pcap(tmp_path / "churn.pcap", frames, step=2)
    brutes = only(replay(capture), "WPSBRUTE")
    assert [alert["kismet.alert.source_mac"] for alert in brutes] == ([S] if brute else [])


def test_wps_counters_idle_for_over_five_minutes_are_forgotten() -> None:
    engine = Engine(make_config(), families=[Eapol])
    [family] = engine.families
    assert isinstance(family, Eapol)
    start = int(T0 * 1_000_000)
    for index, at in enumerate((0, 150, 300)):
        frame = eapol_frame(wsc(M3), from_ap=False, sta=station(index))
        engine.feed(127, start + at * 1_000_000, record_bytes(frame))
    macs = [bytes.fromhex(station(i).replace(":", "")) for i in range(3)]
    assert [key for key, _ in family._wps.items()] == macs  # idle exactly 300 s
    frame = eapol_frame(wsc(M3), from_ap=False, sta=station(2))
    engine.feed(127, start + 450_000_001, record_bytes(frame))
    assert [key for key, _ in family._wps.items()] == macs[2:]


@pytest.mark.parametrize(("churn", "reuse"), [(3, True), (4, False)])
def test_noncereuse_remembers_nonce_stations_stations(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, churn: int, reuse: bool
) -> None:
    # NONCE_STATIONS of 4: STA's nonce, handshakes with `churn` other stations, then
    # STA's nonce again; the least recently seen station is forgotten first.
    monkeypatch.setattr(eapol, "NONCE_STATIONS", 4)
    first = eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE))
    between = [
        eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE), sta=station(i)) for i in range(churn)
    ]
    capture = write_pcap(tmp_path / "stations.pcap", [first, *between, first], step=2)
    reused = only(replay(capture, REUSE_ON), "NONCEREUSE")
    assert [alert["kismet.alert.dest_mac"] for alert in reused] == ([S] if reuse else [])
