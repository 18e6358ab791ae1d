"""Hostile or broken information elements, found by the element walk's tags.

NULLPROBERESP, LONGSSID, MSFDLINKRATE, MSFNETGEARBEACON, WMMOVERFLOW, WMMTSPEC,
RSNLOOP, QCOMEXTENDED, BADFIXLENIE, RTLWIFIP2P, MALFORMMGMT, BCOM11KCHAN.
"""

from __future__ import annotations

from kisalert.config import Config
from kisalert.wids.detectors.base import Family, Report
from kisalert.wids.dot11 import anomalies as A
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text

# tag -> (header, text after "<frame> from <source> on BSSID <bssid> ")
_RULES: tuple[tuple[int, str, str], ...] = (
    (A.LONG_SSID, "LONGSSID", "has an SSID longer than 32 bytes, a known driver overflow"),
    (
        A.DLINK_RATES,
        "MSFDLINKRATE",
        "carries the rates element of the Metasploit D-Link driver exploit (75 EB 49)",
    ),
    (
        A.NETGEAR_BEACON,
        "MSFNETGEARBEACON",
        "matches the Metasploit Netgear WG111v2 driver exploit beacon (CVE-2006-5972)",
    ),
    (
        A.WMM_OVERFLOW,
        "WMMOVERFLOW",
        "has a WMM element longer than 24 bytes, a known driver overflow (Broadpwn)",
    ),
    (
        A.WMM_TSPEC_MANY,
        "WMMTSPEC",
        "has more than 4 WMM TSPEC elements, a known Atheros driver overflow",
    ),
    (
        A.RSN_LOOP,
        "RSNLOOP",
        "has an RSN element whose pairwise cipher list is too long or overruns it, "
        "a known driver hang",
    ),
    (
        A.EXTCAP_LONG,
        "QCOMEXTENDED",
        "has an extended capabilities element longer than 13 bytes, a known Qualcomm "
        "driver overflow",
    ),
    (
        A.BAD_FIXED_LEN,
        "BADFIXLENIE",
        "has a fixed-length element (such as the DS parameter set) with the wrong length",
    ),
    (
        A.P2P_NOA_LONG,
        "RTLWIFIP2P",
        "has a Wi-Fi P2P notice of absence attribute longer than 28 bytes, a known "
        "Realtek driver overflow",
    ),
    (
        A.OVERRUN,
        "MALFORMMGMT",
        "has information elements that run past the end of the frame",
    ),
    (
        A.SHORT_BODY,
        "MALFORMMGMT",
        "is too short for the fixed fields its subtype carries",
    ),
    (
        A.NEIGHBOR_CHANNEL,
        "BCOM11KCHAN",
        "has an 802.11k neighbor report for a channel above 224, a known Broadcom driver overflow",
    ),
)

_NAMES = {
    F.BEACON: "Beacon",
    F.PROBE_RESP: "Probe response",
    F.PROBE_REQ: "Probe request",
    F.ASSOC_REQ: "Association request",
    F.ASSOC_RESP: "Association response",
    F.REASSOC_REQ: "Reassociation request",
    F.REASSOC_RESP: "Reassociation response",
    F.AUTH: "Authentication",
    F.DEAUTH: "Deauthentication",
    F.DISASSOC: "Disassociation",
    F.ACTION: "Action frame",
}


def frame_name(frame: Frame) -> str:
    return _NAMES.get(frame.kind, "Management frame")


class Elements(Family):
    headers = ("NULLPROBERESP", *dict.fromkeys(rule[1] for rule in _RULES))
    kinds = F.MANAGEMENT
    tags = A.EMPTY_SSID | sum(rule[0] for rule in _RULES)

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        self._rules = tuple(rule for rule in _RULES if rule[1] in enabled)
        self._tags = sum(rule[0] for rule in self._rules)
        self._null = A.EMPTY_SSID if "NULLPROBERESP" in enabled else 0
        # Only frames with a tag of an enabled alert are routed here at all.
        self.tags = self._null | self._tags

    def frame(self, frame: Frame, now_us: int) -> None:
        tags = frame.tags
        if tags & A.SNAPPED:
            tags &= ~A.MALFORMED  # cut short by the capture's snap length, not sent so
        # Wildcard probe requests and hidden-SSID beacons carry an empty SSID too, and
        # are common: they leave here before any text is built.
        null = bool(tags & self._null) and frame.kind == F.PROBE_RESP
        if not (null or tags & self._tags):
            return
        lead = (
            f"{frame_name(frame)} from {mac_text(frame.source)} on BSSID {mac_text(frame.bssid)} "
        )
        if null:
            self.alert(
                "NULLPROBERESP",
                lead + "has an empty SSID, a known trigger of client driver crashes",
                frame,
                now_us,
            )
        for tag, header, text in self._rules:
            # A neighbor report counts only where the exploit puts it: in a radio
            # measurement action frame.
            if tags & tag and (tag != A.NEIGHBOR_CHANNEL or frame.kind == F.ACTION):
                self.alert(header, lead + text, frame, now_us)
