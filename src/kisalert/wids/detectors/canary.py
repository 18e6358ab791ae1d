"""SSIDs that nobody should be using: SSIDCANARY.

A canary SSID is a name planted for attackers to find (in a config, a leaked list);
anything on the air that advertises or asks for it is raised.
"""

from __future__ import annotations

from kisalert.config import Config, SsidRule
from kisalert.wids import state
from kisalert.wids.detectors.base import Family, Report, ssid_text
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text
from kisalert.wids.state import DEFAULT_IDLE_US, Table

IDLE_US = DEFAULT_IDLE_US


class Verdict:
    """What the rules say of one SSID: the first matching rule, or None."""

    __slots__ = ("rule", "seen_us")

    def __init__(self, rule: SsidRule | None) -> None:
        self.rule = rule
        self.seen_us = 0


class Canary(Family):
    headers = ("SSIDCANARY",)
    kinds = F.BEACON | F.PROBE_RESP | F.PROBE_REQ

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        self._rules = tuple(config.ssidcanary)
        # The rules' verdict per SSID, so a frame of an SSID seen before runs no pattern.
        self.verdicts: Table[bytes, Verdict] = Table(state.DEFAULT_LIMIT // 16, IDLE_US)
        if not self._rules:
            self.kinds = 0  # nothing to look for: off every route

    def frame(self, frame: Frame, now_us: int) -> None:
        ssid = frame.ssid
        if not ssid:
            return  # no SSID, or the wildcard of a broadcast probe: no name to match
        verdict = self.verdicts.get(ssid, now_us)
        if verdict is None:
            verdict = Verdict(self._match(ssid))
            verdict.seen_us = now_us
            self.verdicts.add(ssid, verdict)
        rule = verdict.rule
        if rule is None:
            return
        # Every matching frame is reported, as for every detector: the tracker's
        # throttle is what keeps a beaconing canary from flooding the alert list.
        # MACs as always (BSSID, source, destination): for a probe request the BSSID
        # is usually the wildcard, and the probing station is the source.
        if frame.kind == F.PROBE_REQ:
            what = f"Probe request from station {mac_text(frame.source)}"
        else:
            kind = "Beacon" if frame.kind == F.BEACON else "Probe response"
            what = f"{kind} from BSSID {mac_text(frame.bssid)}"
        self.alert(
            "SSIDCANARY",
            f"{what} names canary SSID '{ssid_text(ssid)}' of ssidcanary rule '{rule.name}'",
            frame,
            now_us,
        )

    def _match(self, ssid: bytes) -> SsidRule | None:
        text = ssid.decode("utf-8", "replace")
        for rule in self._rules:
            if rule.ssid.search(text):
                return rule
        return None

    def tick(self, now_us: int) -> None:
        self.verdicts.expire(now_us)
