"""The WIDS engine: decode each capture record and hand it to the detectors that want it.

The engine knows nothing of HTTP, storage or throttling. It counts what it reads,
keeps packet time (the newest capture timestamp seen, so windows never run
backwards), and collects hits in `hits` for its driver (replay, or a server's
source) to raise on the tracker.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from kisalert.config import Config
from kisalert.wids.capture.pcapfile import MAX_TIME_US
from kisalert.wids.detectors import FAMILIES
from kisalert.wids.detectors.base import Family, Hit
from kisalert.wids.dot11 import anomalies, decoder
from kisalert.wids.dot11.frame import ANY, Frame, channel_of

TICK_US = 1_000_000
# A record stamped this much before packet time starts a new timeline (captures given
# out of order, a sensor's clock set back): detectors start over from it. Records
# out of order by less (merged captures, clock jitter) are taken as they come.
REWIND_US = 300_000_000

Check = Callable[[Frame, int], None]


@dataclass
class Counts:
    """What the engine has read."""

    malformed: int = 0
    bad_fcs: int = 0
    other_link: int = 0  # records of a link type that carries no 802.11
    # Records of each link type; the engine counts the current run of one link
    # type in `run` and adds it here when the link type changes (a dict update per
    # record costs more than the rest of the bookkeeping together).
    by_linktype: Counter[int] = field(default_factory=Counter)
    linktype: int = -1
    run: int = 0

    def settle(self) -> None:
        if self.run:
            self.by_linktype[self.linktype] += self.run
            self.run = 0

    def linktypes(self) -> Counter[int]:
        """Records read, by link type."""
        self.settle()
        return self.by_linktype

    @property
    def records(self) -> int:
        return sum(self.linktypes().values())

    @property
    def decoded(self) -> int:
        return self.records - self.malformed_headers - self.bad_fcs - self.other_link

    malformed_headers: int = 0  # records whose capture or 802.11 header is broken
    rewinds: int = 0  # times packet time went back by REWIND_US or more


class Engine:
    def __init__(
        self,
        config: Config,
        enabled: Iterable[str] | None = None,
        families: Iterable[type[Family]] = FAMILIES,
    ) -> None:
        """`enabled`: the alert names whose rate is not zero (None: every one)."""
        on = None if enabled is None else frozenset(enabled)
        self.hits: list[Hit] = []
        self.counts = Counts()
        self.frame = Frame()
        self._config = config
        self._wanted = [
            (family, wanted)
            for family in families
            if (wanted := frozenset(h for h in family.headers if on is None or h in on))
        ]
        self._start()

    def _start(self) -> None:
        """The detectors with nothing seen yet."""
        self.now_us = 0
        self._next_tick = 0
        hit = self.hits.append
        self._families = [family(self._config, hit, wanted) for family, wanted in self._wanted]
        # Frame kind bits -> the bound `frame` methods to call, and their tag filters.
        self._routes: dict[int, tuple[tuple[int, Check], ...]] = {}

    @property
    def families(self) -> tuple[Family, ...]:
        return tuple(self._families)

    def _route(self, kind: int) -> tuple[tuple[int, Check], ...]:
        route = tuple(
            (family.tags, family.frame) for family in self._families if family.kinds & kind
        )
        self._routes[kind] = route
        return route

    def feed(self, linktype: int, ts_us: int, data: bytes) -> None:
        """Decode one capture record and run the detectors on it.

        `linktype` may carry `linktypes.SNAPPED`; `ts_us` is the capture time.
        """
        snapped = linktype > 0xFFFF
        if snapped:
            linktype &= 0xFFFF
        counts = self.counts
        if linktype != counts.linktype:
            counts.settle()
            counts.linktype = linktype
        counts.run += 1
        if not 0 <= ts_us <= MAX_TIME_US:
            # No clock reads like this; one such frame would throw every window off.
            counts.malformed += 1
            counts.malformed_headers += 1
            return
        # Detectors see each frame's own time; timers run on the newest time seen,
        # so that frames slightly out of order never move them back.
        if ts_us > self.now_us:
            self.now_us = ts_us
            if ts_us >= self._next_tick:
                self._tick(ts_us)
        elif ts_us < self.now_us - REWIND_US:
            # What the detectors hold is stamped in this record's future: their
            # windows and timeouts would judge it against times yet to come.
            counts.rewinds += 1
            self._start()
            self.now_us = ts_us
            self._tick(ts_us)
        frame = self.frame
        status = decoder.decode(frame, linktype, data)
        if status:
            if status == decoder.MALFORMED:
                counts.malformed += 1
                counts.malformed_headers += 1
            elif status == decoder.BAD_FCS:
                counts.bad_fcs += 1
            else:
                counts.other_link += 1
            return
        tags = frame.tags
        if snapped:
            tags |= anomalies.SNAPPED
            frame.tags = tags
        elif tags & anomalies.MALFORMED:
            counts.malformed += 1
        kind = frame.kind
        route = self._routes.get(kind)
        if route is None:
            route = self._route(kind)
        for wanted, check in route:
            if not wanted or tags & wanted:
                check(frame, ts_us)

    def _tick(self, now_us: int) -> None:
        self._next_tick = now_us + TICK_US
        for family in self._families:
            family.tick(now_us)

    def take_hits(self) -> list[Hit]:
        """The hits found since the last call, in frame order."""
        hits = self.hits[:]
        self.hits.clear()
        return hits


__all__ = ["ANY", "MAX_TIME_US", "Counts", "Engine", "channel_of"]
