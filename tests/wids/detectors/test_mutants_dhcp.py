"""DHCP alerts word for word, lease boundaries, short IPv4 headers, how long leases and
client names are kept, and full lease and client tables."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest
from scapy.layers.inet import IP
from scapy.packet import Packet
from scapy.utils import mac2str

from kisalert.wids import state
from kisalert.wids.detectors.dhcp import Dhcp
from kisalert.wids.engine import Engine
from tests.wids.eapol_dhcp_frames import GATEWAY, client_dhcp, dhcp_ack, dhcp_message, ipv4
from tests.wids.frames import STA, STA2, T0, data, make_config, only, radiotap, replay, write_pcap

STA3 = "02:00:00:00:01:03"


def texts(tmp_path: Path, frames: list[Packet], header: str, **options: object) -> list[str]:
    capture = write_pcap(tmp_path / "dhcp.pcap", frames, **options)
    return [record["kismet.alert.text"] for record in only(replay(capture), header)]


def conflicts(tmp_path: Path, frames: list[Packet], times: list[float]) -> int:
    return len(texts(tmp_path, frames, "DHCPCONFLICT", times=[T0 + t for t in times]))


def test_dhcpclientid_text(tmp_path: Path) -> None:
    frame = client_dhcp([("message-type", "discover"), ("client_id", b"\x01" + mac2str(STA2))])
    assert texts(tmp_path, [frame], "DHCPCLIENTID") == [
        f"DHCP DISCOVER from {STA.upper()} carries the client id {STA2.upper()}, another "
        "MAC: a spoofed request, or a bridge asking for a device behind it"
    ]


def test_dhcpnamechange_text(tmp_path: Path) -> None:
    frames = [client_dhcp([("message-type", "request"), ("hostname", n)]) for n in (b"a", b"b")]
    assert texts(tmp_path, frames, "DHCPNAMECHANGE") == [
        f"DHCP client {STA.upper()} changed its host name from 'a' to 'b': a spoofed MAC, "
        "or a renamed device"
    ]


def test_dhcposchange_text(tmp_path: Path) -> None:
    frames = [
        client_dhcp([("message-type", "discover"), ("vendor_class_id", vendor)])
        for vendor in (b"MSFT 5.0", b"udhcp 1.36")
    ]
    assert texts(tmp_path, frames, "DHCPOSCHANGE") == [
        f"DHCP client {STA.upper()} changed its vendor class from 'MSFT 5.0' to "
        "'udhcp 1.36': another operating system behind the same MAC, likely a spoofed one"
    ]


def test_dhcpconflict_lease_holds_to_its_last_microsecond(tmp_path: Path) -> None:
    frames = [dhcp_ack("10.0.0.5", lease=60), ipv4("10.0.0.9")]
    assert conflicts(tmp_path, frames, [0, 60]) == 1
    assert conflicts(tmp_path, frames, [0, 60.000001]) == 0


def test_dhcpconflict_a_zero_lease_time_is_over_at_once(tmp_path: Path) -> None:
    frames = [dhcp_ack("10.0.0.5", lease=0), ipv4("10.0.0.9")]
    assert conflicts(tmp_path, frames, [0, 0]) == 1
    assert conflicts(tmp_path, frames, [0, 1]) == 0


def test_dhcpconflict_an_offer_gives_no_lease(tmp_path: Path) -> None:
    options = [("message-type", "offer"), ("server_id", "10.0.0.1"), ("lease_time", 3600)]
    payload = dhcp_message(options, reply=True, yiaddr="10.0.0.5", dst="10.0.0.5")
    offer = data(payload, source=GATEWAY, dest=STA, to_ds=False)
    assert conflicts(tmp_path, [offer, ipv4("10.0.0.9")], [0, 1]) == 0


def ip_frame(header: bytes) -> Packet:
    return data(b"\x08\x00" + header, dest=GATEWAY)


def test_dhcpconflict_checks_a_bare_20_byte_ipv4_header(tmp_path: Path) -> None:
    header = bytes(IP(src="10.0.0.9", dst="10.0.0.1"))
    assert len(header) == 20
    assert conflicts(tmp_path, [dhcp_ack("10.0.0.5"), ip_frame(header)], [0, 1]) == 1


def test_dhcpconflict_ignores_a_truncated_or_non_v4_header(tmp_path: Path) -> None:
    header = bytes(IP(src="10.0.0.9", dst="10.0.0.1"))
    short = ip_frame(header[:16])  # the source address is there, the header is not whole
    version6 = ip_frame(bytes((0x65,)) + header[1:])
    frames = [dhcp_ack("10.0.0.5"), short, version6]
    assert conflicts(tmp_path, frames, [0, 1, 2]) == 0


def test_an_expired_lease_frees_its_slot_for_a_current_one(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 8)  # two leases
    engine = Engine(make_config(""), families=[Dhcp])
    timeline = [
        (0, dhcp_ack("10.0.0.5", client=STA, lease=86_400)),
        (1, dhcp_ack("10.0.0.6", client=STA2, lease=60)),
        (100, ipv4("10.0.0.66", source=STA2)),  # STA2's lease is over: forgotten
        (101, dhcp_ack("10.0.0.7", client=STA3)),
        (102, ipv4("10.0.0.9", source=STA)),  # STA's lease still stands
    ]
    for second, frame in timeline:
        engine.feed(127, (int(T0) + second) * 1_000_000, bytes(radiotap(frame)))
    assert [hit.header for hit in engine.hits] == ["DHCPCONFLICT"]
    assert "10.0.0.9" in engine.hits[0].text


def run(frames: Sequence[tuple[float, Packet]]) -> list[str]:
    """The texts of the DHCP hits `frames` raise, each fed at T0 + its second (in the
    order given, so a frame may come with an older time than the one before)."""
    engine = Engine(make_config(""), families=[Dhcp])
    for second, frame in frames:
        engine.feed(127, round((T0 + second) * 1_000_000), bytes(radiotap(frame)))
    return [f"{hit.header} {hit.text}" for hit in engine.hits]


DAY = 86_400


def test_a_lease_is_kept_until_a_day_after_its_ack_then_forgotten() -> None:
    # The conflicting frame comes once the capture's clock (moved by STA2's frame) is
    # a day past the ACK: from then on the lease is gone. (Stamped long before that
    # clock, it would start a new timeline: engine.REWIND_US.)
    def late_conflicts(clock: float) -> int:
        frames = [
            (0, dhcp_ack("10.0.0.5", lease=DAY)),
            (clock, ipv4("10.0.0.20", source=STA2)),
            (clock, ipv4("10.0.0.9")),
        ]
        return len(run(frames))

    assert late_conflicts(2 * 3600) == 1
    assert late_conflicts(DAY) == 1
    assert late_conflicts(DAY + 0.000001) == 0


def test_a_client_s_dhcp_names_are_remembered_for_a_day() -> None:
    def renamed(second: float) -> list[str]:
        frames = [
            (0, client_dhcp([("message-type", "request"), ("hostname", b"laptop")])),
            (second, client_dhcp([("message-type", "request"), ("hostname", b"kali")])),
        ]
        return run(frames)

    change = (
        f"DHCPNAMECHANGE DHCP client {STA.upper()} changed its host name from 'laptop' to "
        "'kali': a spoofed MAC, or a renamed device"
    )
    assert renamed(2 * 3600) == [change]
    assert renamed(DAY) == [change]
    assert renamed(DAY + 0.000001) == []


def test_a_full_lease_table_forgets_the_oldest_lease(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 8)  # two leases
    frames = [
        (0, dhcp_ack("10.0.0.5", client=STA)),
        (1, dhcp_ack("10.0.0.6", client=STA2)),
        (2, dhcp_ack("10.0.0.7", client=STA3)),  # STA's lease is dropped for this one
        (3, ipv4("10.0.0.9", source=STA)),
        (4, ipv4("10.0.0.9", source=STA2)),
    ]
    assert run(frames) == [
        f"DHCPCONFLICT Client {STA2.upper()} sends from IP 10.0.0.9, but a DHCP ACK gave "
        "it 10.0.0.6: a spoofed or misconfigured address"
    ]


def test_a_full_client_table_forgets_the_least_recent_client(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(state, "DEFAULT_LIMIT", 8)  # two clients

    def named(source: str, name: bytes) -> Packet:
        return client_dhcp([("message-type", "request"), ("hostname", name)], source=source)

    frames = [
        (0, named(STA, b"a")),
        (1, named(STA2, b"x")),
        (2, named(STA, b"b")),  # two clients fit: STA is still known
        (3, named(STA3, b"y")),  # STA2, the least recent, is dropped for STA3
        (4, named(STA2, b"z")),
    ]
    assert run(frames) == [
        f"DHCPNAMECHANGE DHCP client {STA.upper()} changed its host name from 'a' to 'b': "
        "a spoofed MAC, or a renamed device"
    ]
