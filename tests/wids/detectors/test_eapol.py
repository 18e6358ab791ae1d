"""WPSBRUTE, NONCEDEGRADE, NONCEREUSE, RTL8195VD1406, VDOO202027301, VDOO202027302:
trigger and near miss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from tests.wids.eapol_dhcp_frames import (
    ACK,
    GROUP2,
    INSTALL,
    MIC,
    MSG1,
    MSG3,
    NONCE,
    PAIRWISE,
    V_AES,
    V_CMAC,
    V_RC4,
    eapol_frame,
    eapol_key,
    wsc,
)
from tests.wids.frames import AP, STA, only, replay, write_pcap

M3 = 0x07
M4 = 0x08


def check(alert: dict[str, Any], source: str = AP, dest: str = STA) -> None:
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == source.upper()
    assert alert["kismet.alert.dest_mac"] == dest.upper()
    assert alert["kismet.alert.channel"] == "6"


# WPSBRUTE


def test_wpsbrute_six_m3_within_five_minutes(tmp_path: Path) -> None:
    frames = [eapol_frame(wsc(M3)) for _ in range(6)]
    capture = write_pcap(tmp_path / "wps.pcap", frames, step=50)
    [alert] = only(replay(capture), "WPSBRUTE")
    check(alert)
    assert f"WPS M3 messages from {AP.upper()}" in alert["kismet.alert.text"]


def test_wpsbrute_reads_messages_with_the_length_field(tmp_path: Path) -> None:
    frames = [eapol_frame(wsc(M3, flags=0x02)) for _ in range(6)]
    capture = write_pcap(tmp_path / "wps.pcap", frames, step=1)
    assert len(only(replay(capture), "WPSBRUTE")) == 1


def test_wpsbrute_near_miss_sixth_message_is_m4(tmp_path: Path) -> None:
    frames = [eapol_frame(wsc(M3)) for _ in range(5)] + [eapol_frame(wsc(M4))]
    capture = write_pcap(tmp_path / "wps.pcap", frames, step=50)
    assert only(replay(capture), "WPSBRUTE") == []


def test_wpsbrute_near_miss_six_m3_over_more_than_five_minutes(tmp_path: Path) -> None:
    frames = [eapol_frame(wsc(M3)) for _ in range(6)]
    capture = write_pcap(tmp_path / "wps.pcap", frames, step=61)
    assert only(replay(capture), "WPSBRUTE") == []


def test_wpsbrute_counts_per_source(tmp_path: Path) -> None:
    frames = [eapol_frame(wsc(M3), ap=AP if i % 2 else "02:00:00:00:00:09") for i in range(10)]
    capture = write_pcap(tmp_path / "wps.pcap", frames, step=1)
    assert only(replay(capture), "WPSBRUTE") == []


# NONCEDEGRADE

DEGRADE_ON = "alert=NONCEDEGRADE,5/min,1/sec\n"


def test_noncedegrade_is_off_by_default_and_fires_when_enabled(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "degrade.pcap", [eapol_frame(eapol_key(GROUP2))])
    assert only(replay(capture), "NONCEDEGRADE") == []
    [alert] = only(replay(capture, DEGRADE_ON), "NONCEDEGRADE")
    check(alert)
    assert "all-zero nonce" in alert["kismet.alert.text"]
    assert AP.upper() in alert["kismet.alert.text"]


def test_noncedegrade_near_miss_the_stations_own_group_message_2(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(GROUP2), from_ap=False)
    capture = write_pcap(tmp_path / "group2.pcap", [frame])
    assert only(replay(capture, DEGRADE_ON), "NONCEDEGRADE") == []


def test_noncedegrade_near_miss_a_nonce(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "nonce.pcap", [eapol_frame(eapol_key(GROUP2, nonce=NONCE))])
    assert only(replay(capture, DEGRADE_ON), "NONCEDEGRADE") == []


def test_noncedegrade_near_miss_key_data(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(GROUP2, key_data=b"\x00" * 24))
    capture = write_pcap(tmp_path / "data.pcap", [frame])
    assert only(replay(capture, DEGRADE_ON), "NONCEDEGRADE") == []


def test_noncedegrade_near_miss_pairwise(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "pw.pcap", [eapol_frame(eapol_key(GROUP2 | PAIRWISE))])
    assert only(replay(capture, DEGRADE_ON), "NONCEDEGRADE") == []


# NONCEREUSE

REUSE_ON = "alert=NONCEREUSE,5/min,1/sec\n"


def test_noncereuse_message_1_repeated_with_the_same_replay_counter(tmp_path: Path) -> None:
    frames = [eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE)) for _ in range(2)]
    capture = write_pcap(tmp_path / "reuse.pcap", frames, step=2)
    assert only(replay(capture), "NONCEREUSE") == []  # off by default
    [alert] = only(replay(capture, REUSE_ON), "NONCEREUSE")
    check(alert)
    assert "replay counter 3" in alert["kismet.alert.text"]


def test_noncereuse_an_older_replay_counter_after_message_3(tmp_path: Path) -> None:
    frames = [
        eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE)),
        eapol_frame(eapol_key(MSG3, replay=4, nonce=NONCE, key_data=b"\x01" * 56)),
        eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE)),
    ]
    capture = write_pcap(tmp_path / "reuse.pcap", frames, step=2)
    [alert] = only(replay(capture, REUSE_ON), "NONCEREUSE")
    assert "previously 4" in alert["kismet.alert.text"]


def test_noncereuse_station_side(tmp_path: Path) -> None:
    frames = [
        eapol_frame(eapol_key(V_AES | PAIRWISE | MIC, replay=5, nonce=NONCE), from_ap=False)
        for _ in range(2)
    ]
    capture = write_pcap(tmp_path / "snonce.pcap", frames, step=2)
    [alert] = only(replay(capture, REUSE_ON), "NONCEREUSE")
    check(alert, source=STA, dest=AP)


def test_noncereuse_near_miss_a_retry(tmp_path: Path) -> None:
    frames = [
        eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE)),
        eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE), retry=True),
    ]
    capture = write_pcap(tmp_path / "retry.pcap", frames, step=2)
    assert only(replay(capture, REUSE_ON), "NONCEREUSE") == []


def test_noncereuse_near_miss_a_larger_replay_counter(tmp_path: Path) -> None:
    # What an AP retransmitting message 1 sends.
    frames = [eapol_frame(eapol_key(MSG1, replay=r, nonce=NONCE)) for r in (3, 4)]
    capture = write_pcap(tmp_path / "again.pcap", frames, step=2)
    assert only(replay(capture, REUSE_ON), "NONCEREUSE") == []


def test_noncereuse_near_miss_zero_nonces(tmp_path: Path) -> None:
    # Message 4s carry no nonce; two with one replay counter are no reuse.
    frames = [eapol_frame(eapol_key(V_AES | PAIRWISE | MIC), from_ap=False) for _ in range(2)]
    capture = write_pcap(tmp_path / "zero.pcap", frames, step=2)
    assert only(replay(capture, REUSE_ON), "NONCEREUSE") == []


def test_noncereuse_near_miss_another_station(tmp_path: Path) -> None:
    frames = [
        eapol_frame(eapol_key(MSG1, replay=3, nonce=NONCE), sta=sta)
        for sta in (STA, "02:00:00:00:01:09")
    ]
    capture = write_pcap(tmp_path / "two.pcap", frames, step=2)
    assert only(replay(capture, REUSE_ON), "NONCEREUSE") == []


# RTL8195VD1406


def test_rtl8195vd1406_dot1x_length_over_512(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(MSG1, key_data=b"\x41" * 418), from_ap=False)  # 513
    capture = write_pcap(tmp_path / "rtl.pcap", [frame])
    [alert] = only(replay(capture), "RTL8195VD1406")
    check(alert, source=STA, dest=AP)
    assert "513" in alert["kismet.alert.text"]


def test_rtl8195vd1406_counts_the_declared_length_of_a_short_frame(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(MSG1, dot1x_length=4000))
    capture = write_pcap(tmp_path / "rtl.pcap", [frame])
    assert len(only(replay(capture), "RTL8195VD1406")) == 1


def test_rtl8195vd1406_near_miss_512(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(MSG1, key_data=b"\x41" * 417), from_ap=False)
    capture = write_pcap(tmp_path / "rtl.pcap", [frame])
    assert only(replay(capture), "RTL8195VD1406") == []


# VDOO202027301 and VDOO202027302

INSTALL_ACK = PAIRWISE | INSTALL | ACK | MIC


def test_vdoo202027301_rc4_key_data_over_257(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_RC4 | INSTALL_ACK, key_data=b"\x00" * 258))
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    records = replay(capture)
    [alert] = only(records, "VDOO202027301")
    check(alert)
    assert "258 bytes" in alert["kismet.alert.text"]
    assert "CVE-2020-27301" in alert["kismet.alert.text"]
    assert only(records, "VDOO202027302") == []


def test_vdoo202027301_near_miss_257(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_RC4 | INSTALL_ACK, key_data=b"\x00" * 257))
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    assert only(replay(capture), "VDOO202027301") == []


def test_vdoo202027301_near_miss_from_the_station(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_RC4 | INSTALL_ACK, key_data=b"\x00" * 258), from_ap=False)
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    assert only(replay(capture), "VDOO202027301") == []


def test_vdoo202027302_aes_key_data_over_128(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_AES | INSTALL_ACK, key_data=b"\x00" * 129))
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    records = replay(capture)
    [alert] = only(records, "VDOO202027302")
    check(alert)
    assert "129 bytes" in alert["kismet.alert.text"]
    assert only(records, "VDOO202027301") == []


def test_vdoo202027302_counts_the_cmac_version_as_aes(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_CMAC | INSTALL_ACK, key_data=b"\x00" * 129))
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    assert len(only(replay(capture), "VDOO202027302")) == 1


def test_vdoo202027302_near_miss_128(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_AES | INSTALL_ACK, key_data=b"\x00" * 128))
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    assert only(replay(capture), "VDOO202027302") == []


def test_vdoo202027302_near_miss_install_clear(tmp_path: Path) -> None:
    frame = eapol_frame(eapol_key(V_AES | PAIRWISE | ACK | MIC, key_data=b"\x00" * 129))
    capture = write_pcap(tmp_path / "vdoo.pcap", [frame])
    assert only(replay(capture), "VDOO202027302") == []


def test_wpsbrute_near_miss_one_m3_retransmitted(tmp_path: Path) -> None:
    # One M3 and five link-layer retries of it on a weak link: one message, no attack.
    frames = [eapol_frame(wsc(M3))] + [eapol_frame(wsc(M3), retry=True) for _ in range(5)]
    capture = write_pcap(tmp_path / "wps.pcap", frames, step=0.002)
    assert only(replay(capture), "WPSBRUTE") == []
