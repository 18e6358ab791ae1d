"""Watched devices: DEVICEFOUND and DEVICELOST from devicefound=/devicelost= lines.

A device is seen when it transmits: as the frame's transmitter (addr2) or as its
source address, which differs from the transmitter in from-DS data and WDS frames.
Each distinct MAC that matches a line is watched on its own, in bounded tables, so
a broad mask and a flood of random MACs cost a fixed amount of memory. With no
line configured the family asks for no frames at all, so it costs nothing.
"""

from __future__ import annotations

from kisalert.config import Config
from kisalert.mac import MacMask
from kisalert.wids.detectors.base import ZERO, Family, Hit, Report
from kisalert.wids.dot11 import frame as F
from kisalert.wids.dot11.frame import Frame, mac_text
from kisalert.wids.state import Table

FULL_MASK = (1 << 48) - 1
WATCH_LIMIT = 4096  # watched devices per alert; the least recently seen go first
CACHE_LIMIT = 8192  # MAC -> matching lines, dropped wholesale when full
_US = 1_000_000


def rule_text(keyword: str, rule: MacMask) -> str:
    """`devicefound 02:00:00:00:00:01`, or `... 02:00:00:00:00:00/FF:FF:FF:00:00:00`."""
    text = f"{keyword} {mac_text(rule.value.to_bytes(6, 'big'))}"
    if rule.mask != FULL_MASK:
        text += f"/{mac_text(rule.mask.to_bytes(6, 'big'))}"
    return text


class _Match:
    """The first devicefound= and devicelost= lines (as alert text) a MAC matches."""

    __slots__ = ("found", "lost")

    def __init__(self, found: str | None, lost: str | None) -> None:
        self.found = found
        self.lost = lost


_NO_MATCH = _Match(None, None)


class _Found:
    __slots__ = ("seen_us",)

    def __init__(self, seen_us: int) -> None:
        self.seen_us = seen_us


class _Lost:
    """A device watched for silence, with where it was last heard (for the alert)."""

    __slots__ = ("bssid", "channel", "freq", "rule", "seen_us")

    def __init__(self, rule: str, seen_us: int) -> None:
        self.rule = rule
        self.seen_us = seen_us
        self.bssid = b""
        self.channel = ""
        self.freq = 0


class Devices(Family):
    headers = ("DEVICEFOUND", "DEVICELOST")
    kinds = F.ANY

    def __init__(self, config: Config, report: Report, enabled: frozenset[str]) -> None:
        super().__init__(config, report, enabled)
        found = config.devicefound if "DEVICEFOUND" in enabled else []
        lost = config.devicelost if "DEVICELOST" in enabled else []
        self._found_rules = [(rule, rule_text("devicefound", rule)) for rule in found]
        self._lost_rules = [(rule, rule_text("devicelost", rule)) for rule in lost]
        self._found_us = config.devicefound_timeout * _US
        self._lost_us = config.devicelost_timeout * _US
        self._lost_seconds = config.devicelost_timeout
        # Found entries expire after the timeout: a device seen with no entry is new.
        self._found: Table[bytes, _Found] = Table(WATCH_LIMIT, self._found_us)
        self._lost: Table[bytes, _Lost] = Table(WATCH_LIMIT)
        # Exact MACs are known up front; masks are matched once per MAC and cached.
        self._masked = any(rule.mask != FULL_MASK for rule in (*found, *lost))
        self._cache: dict[bytes, _Match] = {}
        if not self._masked:
            for rule in (*found, *lost):
                mac = rule.value.to_bytes(6, "big")
                self._cache[mac] = self._match(mac)
        if not found and not lost:
            # Nothing to watch: an instance value of 0 takes the family off every route.
            self.kinds = 0

    def _match(self, mac: bytes) -> _Match:
        value = int.from_bytes(mac, "big")
        found = next((text for r, text in self._found_rules if value & r.mask == r.value), None)
        lost = next((text for r, text in self._lost_rules if value & r.mask == r.value), None)
        if found is None and lost is None:
            return _NO_MATCH
        return _Match(found, lost)

    def _miss(self, mac: bytes) -> _Match:
        """What `mac` matches, when the cache does not know yet."""
        if not self._masked:
            return _NO_MATCH  # every exact MAC is in the cache
        cache = self._cache
        match = self._match(mac)
        if len(cache) >= CACHE_LIMIT:
            cache.clear()
        cache[mac] = match
        return match

    def frame(self, frame: Frame, now_us: int) -> None:
        cache = self._cache
        mac = frame.addr2
        if mac:
            match = cache.get(mac) or self._miss(mac)
            if match is not _NO_MATCH:
                self._seen(mac, match, frame, now_us)
        source = frame.source
        if source and source != mac:
            match = cache.get(source) or self._miss(source)
            if match is not _NO_MATCH:
                self._seen(source, match, frame, now_us)
        # This frame is traffic going on: a watched device silent for the timeout
        # up to it is lost (after its own frames above refreshed it, if it is one).
        oldest = self._lost.oldest()
        if oldest is not None and oldest[1].seen_us <= now_us - self._lost_us:
            self._check_lost(now_us)

    def _seen(self, mac: bytes, match: _Match, frame: Frame, now_us: int) -> None:
        if match.found is not None:
            found = self._found
            entry = found.peek(mac)
            if entry is None:
                found.add(mac, _Found(now_us))
                new = True
            else:
                # `tick` expires silent entries only once a second: check the gap here.
                new = now_us - entry.seen_us >= self._found_us
                found.get(mac, now_us)
            if new:
                self.alert(
                    "DEVICEFOUND",
                    f"Watched device {mac_text(mac)} ({match.found}) seen",
                    frame,
                    now_us,
                    source=mac,
                )
        if match.lost is not None:
            watch = self._lost.get(mac, now_us)
            if watch is None:
                watch = self._lost.add(mac, _Lost(match.lost, now_us))
            watch.bssid = frame.transmitter
            watch.channel = frame.channel
            watch.freq = frame.freq

    def tick(self, now_us: int) -> None:
        self._found.expire(now_us)

    def _check_lost(self, now_us: int) -> None:
        lost = self._lost
        deadline = now_us - self._lost_us
        while (oldest := lost.oldest()) is not None and oldest[1].seen_us <= deadline:
            mac, watch = oldest
            lost.pop(mac)  # raised once; seen again, it is watched anew
            self._report(
                Hit(
                    "DEVICELOST",
                    f"Watched device {mac_text(mac)} ({watch.rule}) not seen for "
                    f"{self._lost_seconds} seconds",
                    mac_text(watch.bssid),
                    mac_text(mac),
                    mac_text(ZERO),
                    mac_text(ZERO),
                    watch.channel,
                    watch.freq * 1000.0,
                    now_us,
                )
            )
