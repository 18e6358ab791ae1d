"""DHCPCLIENTID, DHCPNAMECHANGE, DHCPOSCHANGE, DHCPCONFLICT: trigger and near miss."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from scapy.utils import mac2str

from tests.wids.eapol_dhcp_frames import GATEWAY, client_dhcp, dhcp_ack, ipv4
from tests.wids.frames import AP, BROADCAST, STA, STA2, T0, only, replay, write_pcap

DISCOVER = ("message-type", "discover")
REQUEST = ("message-type", "request")


def check(alert: dict[str, Any], dest: str) -> None:
    assert alert["kismet.alert.transmitter_mac"] == AP.upper()
    assert alert["kismet.alert.source_mac"] == STA.upper()
    assert alert["kismet.alert.dest_mac"] == dest.upper()
    assert alert["kismet.alert.channel"] == "6"


# DHCPCLIENTID


def test_dhcpclientid_discover_naming_another_mac(tmp_path: Path) -> None:
    frame = client_dhcp([DISCOVER, ("client_id", b"\x01" + mac2str(STA2))])
    capture = write_pcap(tmp_path / "cid.pcap", [frame])
    [alert] = only(replay(capture), "DHCPCLIENTID")
    check(alert, BROADCAST)
    assert STA.upper() in alert["kismet.alert.text"]
    assert STA2.upper() in alert["kismet.alert.text"]


def test_dhcpclientid_near_miss_a_duid(tmp_path: Path) -> None:
    # RFC 4361: type 255, IAID, then a DUID-LL that may hold any MAC.
    duid = b"\xff" + b"\x00\x00\x00\x01" + b"\x00\x03\x00\x01" + mac2str(STA2)
    frame = client_dhcp([DISCOVER, ("client_id", duid)])
    capture = write_pcap(tmp_path / "duid.pcap", [frame])
    assert only(replay(capture), "DHCPCLIENTID") == []


def test_dhcpclientid_near_miss_its_own_mac(tmp_path: Path) -> None:
    frame = client_dhcp([DISCOVER, ("client_id", b"\x01" + mac2str(STA))])
    capture = write_pcap(tmp_path / "own.pcap", [frame])
    assert only(replay(capture), "DHCPCLIENTID") == []


# DHCPNAMECHANGE and DHCPOSCHANGE


def test_dhcpnamechange(tmp_path: Path) -> None:
    frames = [client_dhcp([REQUEST, ("hostname", name)]) for name in (b"laptop", b"kali")]
    capture = write_pcap(tmp_path / "name.pcap", frames, step=2)
    [alert] = only(replay(capture), "DHCPNAMECHANGE")
    check(alert, BROADCAST)
    assert "'laptop' to 'kali'" in alert["kismet.alert.text"]
    assert alert["kismet.alert.timestamp"] == T0 + 2


def test_dhcp_names_are_quoted_and_escaped_as_ssids_are(tmp_path: Path) -> None:
    names = (b"bob's", b"android\xff")
    frames = [client_dhcp([REQUEST, ("hostname", name)]) for name in names]
    capture = write_pcap(tmp_path / "name.pcap", frames, step=2)
    [alert] = only(replay(capture), "DHCPNAMECHANGE")
    assert "from 'bob's' to 'android\\xff'" in alert["kismet.alert.text"]


def test_dhcpnamechange_near_miss_the_same_name(tmp_path: Path) -> None:
    frames = [client_dhcp([REQUEST, ("hostname", b"laptop")]) for _ in range(2)]
    capture = write_pcap(tmp_path / "name.pcap", frames, step=2)
    assert only(replay(capture), "DHCPNAMECHANGE") == []


def test_dhcpnamechange_near_miss_another_client(tmp_path: Path) -> None:
    frames = [
        client_dhcp([REQUEST, ("hostname", b"laptop")]),
        client_dhcp([REQUEST, ("hostname", b"kali")], source=STA2),
    ]
    capture = write_pcap(tmp_path / "name.pcap", frames, step=2)
    assert only(replay(capture), "DHCPNAMECHANGE") == []


def test_dhcpnamechange_a_message_without_the_option_changes_nothing(tmp_path: Path) -> None:
    frames = [
        client_dhcp([REQUEST, ("hostname", b"laptop")]),
        client_dhcp([DISCOVER]),
        client_dhcp([REQUEST, ("hostname", b"laptop")]),
    ]
    capture = write_pcap(tmp_path / "name.pcap", frames, step=2)
    assert only(replay(capture), "DHCPNAMECHANGE") == []


def test_dhcposchange(tmp_path: Path) -> None:
    frames = [
        client_dhcp([DISCOVER, ("vendor_class_id", vendor)])
        for vendor in (b"MSFT 5.0", b"android-dhcp-14")
    ]
    capture = write_pcap(tmp_path / "os.pcap", frames, step=2)
    [alert] = only(replay(capture), "DHCPOSCHANGE")
    check(alert, BROADCAST)
    assert "'MSFT 5.0' to 'android-dhcp-14'" in alert["kismet.alert.text"]


def test_dhcposchange_near_miss_the_same_vendor_class(tmp_path: Path) -> None:
    frames = [client_dhcp([DISCOVER, ("vendor_class_id", b"MSFT 5.0")]) for _ in range(2)]
    capture = write_pcap(tmp_path / "os.pcap", frames, step=2)
    assert only(replay(capture), "DHCPOSCHANGE") == []


# DHCPCONFLICT


def test_dhcpconflict_a_client_using_another_address(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "conflict.pcap", [dhcp_ack("10.0.0.5"), ipv4("10.0.0.9")])
    [alert] = only(replay(capture), "DHCPCONFLICT")
    check(alert, GATEWAY)
    assert "10.0.0.9" in alert["kismet.alert.text"]
    assert "10.0.0.5" in alert["kismet.alert.text"]


def test_dhcpconflict_near_miss_the_assigned_address(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "ok.pcap", [dhcp_ack("10.0.0.5"), ipv4("10.0.0.5")])
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_near_miss_no_ack_seen(tmp_path: Path) -> None:
    capture = write_pcap(tmp_path / "noack.pcap", [ipv4("10.0.0.9")])
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_near_miss_no_address_or_link_local(tmp_path: Path) -> None:
    frames = [dhcp_ack("10.0.0.5"), ipv4("0.0.0.0"), ipv4("169.254.7.7")]
    capture = write_pcap(tmp_path / "zero.pcap", frames, step=2)
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_near_miss_another_client(tmp_path: Path) -> None:
    frames = [dhcp_ack("10.0.0.5"), ipv4("10.0.0.9", source=STA2)]
    capture = write_pcap(tmp_path / "other.pcap", frames)
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_a_renewal_to_a_new_address_updates_the_lease(tmp_path: Path) -> None:
    frames = [dhcp_ack("10.0.0.5"), dhcp_ack("10.0.0.9"), ipv4("10.0.0.9")]
    capture = write_pcap(tmp_path / "renew.pcap", frames, step=2)
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_an_inform_ack_gives_no_lease(tmp_path: Path) -> None:
    frames = [dhcp_ack("0.0.0.0", lease=None), ipv4("10.0.0.9")]
    capture = write_pcap(tmp_path / "inform.pcap", frames, step=2)
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_a_new_discover_forgets_the_lease(tmp_path: Path) -> None:
    # The client starts over; the ACK of its new address may be missed (another channel).
    frames = [dhcp_ack("10.0.0.5"), client_dhcp([DISCOVER]), ipv4("10.0.0.9")]
    capture = write_pcap(tmp_path / "again.pcap", frames, step=2)
    assert only(replay(capture), "DHCPCONFLICT") == []


def test_dhcpconflict_an_expired_lease_is_forgotten(tmp_path: Path) -> None:
    frames = [dhcp_ack("10.0.0.5", lease=60), ipv4("10.0.0.9")]
    capture = write_pcap(tmp_path / "expired.pcap", frames, times=[T0, T0 + 61])
    assert only(replay(capture), "DHCPCONFLICT") == []
    frames = [dhcp_ack("10.0.0.5", lease=60), ipv4("10.0.0.9")]
    capture = write_pcap(tmp_path / "current.pcap", frames, times=[T0, T0 + 59])
    assert len(only(replay(capture), "DHCPCONFLICT")) == 1
