"""DHCP in open networks: spoofed clients and conflicting leases.

DHCPCLIENTID, DHCPNAMECHANGE, DHCPOSCHANGE from the clients' own DHCP messages;
DHCPCONFLICT from every open IPv4 frame, checked against the leases that DHCP ACKs
handed out. That last check sees all IPv4 traffic, so its common path is a single
dict lookup on the source MAC.
"""

from __future__ import annotations

from kisalert.config import Config
from kisalert.wids import state
from kisalert.wids.detectors.base import Family, Report, ssid_text
from kisalert.wids.dot11 import dhcp as D
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text
from kisalert.wids.state import Table

NO_ADDRESS = b"\x00\x00\x00\x00"
LINK_LOCAL = b"\xa9\xfe"  # 169.254/16: zeroconf may add one beside a lease
LEASE_DEFAULT_S = 3600  # an ACK without a lease-time option
LEASE_MAX_S = 86_400  # longer leases (or "infinite" ones) are trusted for a day
CLIENT_IDLE_US = 24 * 3600 * 1_000_000

# A client sending one of these is giving up or renegotiating its address: until the
# next ACK, what it uses is no conflict (and a missed ACK must not look like one).
_RENEGOTIATE = frozenset((D.DISCOVER, D.REQUEST, D.DECLINE, D.RELEASE))


class _Lease:
    __slots__ = ("address", "seen_us", "until_us")

    def __init__(self, address: bytes, until_us: int) -> None:
        self.address = address
        self.until_us = until_us
        self.seen_us = 0


class _Client:
    """What a client last said about itself in its DHCP requests."""

    __slots__ = ("hostname", "seen_us", "vendor_class")

    def __init__(self) -> None:
        self.hostname: bytes | None = None
        self.vendor_class: bytes | None = None
        self.seen_us = 0


def ip_text(address: bytes) -> str:
    return ".".join(str(octet) for octet in address)


def _quoted(value: bytes) -> str:
    return f"'{ssid_text(value)}'"


class Dhcp(Family):
    headers = ("DHCPCLIENTID", "DHCPCONFLICT", "DHCPNAMECHANGE", "DHCPOSCHANGE")
    kinds = F.IPV4

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        # Leases are looked up with `peek`, so `seen_us` stays the ACK's time and the
        # idle expiry drops a lease a day after it was given at the latest.
        self._leases: Table[bytes, _Lease] = Table(
            state.DEFAULT_LIMIT // 4, LEASE_MAX_S * 1_000_000
        )
        self._clients: Table[bytes, _Client] = Table(state.DEFAULT_LIMIT // 4, CLIENT_IDLE_US)
        self._conflicts = "DHCPCONFLICT" in self.enabled
        self._watching = False  # set by the first lease: until then IPv4 frames pass at once

    def frame(self, frame: Frame, now_us: int) -> None:
        if frame.kind & F.DHCP:
            self._dhcp(frame, now_us)
            return
        if not self._watching:
            return
        lease = self._leases.peek(frame.source)
        if lease is None:
            return
        buf = frame.data
        ip = frame.ipv4
        if ip + 20 > frame.end or buf[ip] >> 4 != 4:
            return
        address = buf[ip + 12 : ip + 16]
        if address == lease.address or address == NO_ADDRESS or address[:2] == LINK_LOCAL:
            return
        if now_us > lease.until_us:
            self._leases.pop(frame.source)
            return
        self.alert(
            "DHCPCONFLICT",
            f"Client {mac_text(frame.source)} sends from IP {ip_text(address)}, but a DHCP "
            f"ACK gave it {ip_text(lease.address)}: a spoofed or misconfigured address",
            frame,
            now_us,
        )

    def _dhcp(self, frame: Frame, now_us: int) -> None:
        message = D.parse(frame.data, frame.dhcp, frame.end)
        if message is None:
            return
        kind = message.message_type
        if message.op == D.BOOTREPLY:
            if kind == D.ACK and self._conflicts:
                self._ack(message, now_us)
            return
        if message.op != D.BOOTREQUEST:
            return
        source = frame.source
        if kind in _RENEGOTIATE:
            self._leases.pop(message.chaddr)
        if kind == D.DISCOVER:
            claimed = message.client_id_mac
            if claimed is not None and claimed != source:
                self.alert(
                    "DHCPCLIENTID",
                    f"DHCP DISCOVER from {mac_text(source)} carries the client id "
                    f"{mac_text(claimed)}, another MAC: a spoofed request, or a bridge "
                    "asking for a device behind it",
                    frame,
                    now_us,
                )
        hostname = message.hostname
        vendor = message.vendor_class
        if hostname is None and vendor is None:
            return
        client = self._clients.setdefault(source, now_us, _Client)
        if hostname is not None:
            before = client.hostname
            client.hostname = hostname
            if before is not None and before != hostname:
                self.alert(
                    "DHCPNAMECHANGE",
                    f"DHCP client {mac_text(source)} changed its host name from "
                    f"{_quoted(before)} to {_quoted(hostname)}: a spoofed MAC, or a "
                    "renamed device",
                    frame,
                    now_us,
                )
        if vendor is not None:
            before = client.vendor_class
            client.vendor_class = vendor
            if before is not None and before != vendor:
                self.alert(
                    "DHCPOSCHANGE",
                    f"DHCP client {mac_text(source)} changed its vendor class from "
                    f"{_quoted(before)} to {_quoted(vendor)}: another operating system "
                    "behind the same MAC, likely a spoofed one",
                    frame,
                    now_us,
                )

    def _ack(self, message: D.Dhcp, now_us: int) -> None:
        client = message.chaddr
        address = message.yiaddr
        if len(client) != 6:
            return
        if address == NO_ADDRESS:
            return  # the answer to an INFORM: the client keeps the address it has
        seconds = message.lease_time
        if seconds < 0:
            seconds = LEASE_DEFAULT_S
        until_us = now_us + min(seconds, LEASE_MAX_S) * 1_000_000
        self._leases.add(client, _Lease(address, until_us)).seen_us = now_us
        self._watching = True

    def tick(self, now_us: int) -> None:
        self._leases.expire(now_us)
        self._clients.expire(now_us)
