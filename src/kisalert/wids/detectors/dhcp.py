"""DHCP in open networks: spoofed clients and conflicting leases."""

from __future__ import annotations

from kisalert.wids.detectors.base import Family
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame


class Dhcp(Family):
    headers = ("DHCPCLIENTID", "DHCPCONFLICT", "DHCPNAMECHANGE", "DHCPOSCHANGE")
    kinds = F.IPV4

    def frame(self, frame: Frame, now_us: int) -> None:
        pass  # TODO(wids): implement
