"""Denial of service: deauthentication and disassociation floods and oddities.

DEAUTHFLOOD, BCASTDISCON, DISCONCODEINVALID, DEAUTHCODEINVALID.
"""

from __future__ import annotations

from kisalert.config import Config
from kisalert.wids import state
from kisalert.wids.detectors.base import Family, Report
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text
from kisalert.wids.dot11.header import FLAG_PROTECTED
from kisalert.wids.state import Table
from kisalert.wids.window import Burst

BROADCAST = b"\xff" * 6
FLOOD_FRAMES = 10  # more than this many ...
FLOOD_WINDOW_US = 1_000_000  # ... within one second is a flood
FLOOD_IDLE_US = 60 * 1_000_000


def _new_flood() -> Burst:
    return Burst(FLOOD_FRAMES, FLOOD_WINDOW_US)


def invalid_reason(reason: int) -> bool:
    """Reason codes 25-31 and above 45: Kismet's list of codes that ordinary access
    points and clients do not send; several drivers mishandled them."""
    return 25 <= reason <= 31 or reason > 45


class Denial(Family):
    headers = ("DEAUTHFLOOD", "BCASTDISCON", "DISCONCODEINVALID", "DEAUTHCODEINVALID")
    kinds = F.DEAUTH | F.DISASSOC

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        # A flood on a real BSSID keeps its counter fresh, so a quarter-size table
        # still holds it while spoofed BSSIDs churn through the rest.
        self._floods: Table[bytes, Burst] = Table(state.DEFAULT_LIMIT // 4, FLOOD_IDLE_US)

    def frame(self, frame: Frame, now_us: int) -> None:
        deauth = frame.kind == F.DEAUTH
        what = "deauthentication" if deauth else "disassociation"
        bssid = frame.bssid
        flood = self._floods.setdefault(bssid, now_us, _new_flood)
        if flood.hit(now_us):
            self.alert(
                "DEAUTHFLOOD",
                f"Deauth/Disassociate flood on {mac_text(bssid)}: more than {FLOOD_FRAMES} "
                "deauthentication or disassociation frames within one second",
                frame,
                now_us,
            )
        if frame.dest == BROADCAST:
            self.alert(
                "BCASTDISCON",
                f"Broadcast {what} of every client of BSSID {mac_text(bssid)} from "
                f"{mac_text(frame.source)}: the AP is shutting down, or this is a denial "
                "of service attack",
                frame,
                now_us,
            )
        if frame.flags & FLAG_PROTECTED:
            return  # protected (802.11w): the reason code is encrypted
        reason = frame.reason
        if invalid_reason(reason):
            self.alert(
                "DEAUTHCODEINVALID" if deauth else "DISCONCODEINVALID",
                f"{what.capitalize()} from {mac_text(frame.source)} to "
                f"{mac_text(frame.dest)} on BSSID {mac_text(bssid)} with reason code "
                f"{reason}, one of the codes known to crash client drivers",
                frame,
                now_us,
            )

    def tick(self, now_us: int) -> None:
        self._floods.expire(now_us)
