"""EAPOL alerts read exactly as a user sees them, and NONCEREUSE's memory: which
station a nonce belongs to and how many nonces it keeps."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.packet import Packet

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
from tests.wids.frames import AP, STA, STA2, only, replay, write_pcap

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
