"""Silences, as Alertmanager has them: matchers with a time window that keep alerts
from the outputs, so that a noisy BSSID stops paging people.

A silenced alert is accepted, kept, logged and served like any other (Kismet's record
does not change); only forwarding skips it, and each silence counts the alerts it kept
back. A silence is checked when an output reaches the alert, not when it was raised:
alerts that wait for an output that was down are silenced by what is in force when
it returns, as Alertmanager silences what it is about to notify.

Silences come from `silence=` config lines (in force while the line is there) or the
API (docs/forwarding.md); the store keeps the API's across restarts and replicas.
"""

from __future__ import annotations

import hashlib
import math
import re
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from kisalert.alert import Alert
from kisalert.forward.base import SpecError
from kisalert.forward.filter import names, pattern
from kisalert.mac import MacError, MacMask
from kisalert.patterns import Pattern

# The record key each MAC matcher reads; `mac` matches any of them.
MAC_KEYS = {
    "source": ("kismet.alert.source_mac",),
    "dest": ("kismet.alert.dest_mac",),
    "transmitter": ("kismet.alert.transmitter_mac",),
    "other": ("kismet.alert.other_mac",),
    "mac": (
        "kismet.alert.source_mac",
        "kismet.alert.dest_mac",
        "kismet.alert.transmitter_mac",
        "kismet.alert.other_mac",
    ),
}
# A raise's `bssid` argument is the record's transmitter_mac (model.md).
ALIASES = {"bssid": "transmitter"}
MATCHERS = ("header", *MAC_KEYS, "channel", "text")
MAX_SILENCES = 1000  # in force or pending: each one costs every forwarded alert a check
MAX_COMMENT = 1024
MAX_CHANNEL = 64
MAX_DURATION = 10 * 365 * 86400.0
RETENTION = 5 * 86400.0  # how long an expired silence is still listed (Alertmanager's)
# Expired silences still listed, at most: those that ended last. Without a bound,
# making and expiring silences in a loop would grow memory and the store without end.
MAX_EXPIRED = 1000
ID = re.compile(r"(?:[0-9a-f]{32}|cfg-[0-9a-f]{16})")
_DURATION = re.compile(r"(\d+(?:\.\d+)?)\s*([smhdw]?)")
_UNITS = {"": 1.0, "s": 1.0, "m": 60.0, "h": 3600.0, "d": 86400.0, "w": 604800.0}

ACTIVE, PENDING, EXPIRED = "active", "pending", "expired"
CONFIG, API = "config", "api"


class SilenceError(ValueError):
    """A silence that cannot be made; str() is one line saying why."""


def parse_duration(text: str) -> float:
    """`90`, `90s`, `15m`, `2h`, `7d` or `1w` in seconds."""
    found = _DURATION.fullmatch(text.strip().lower())
    if found is None:
        raise SilenceError(f"duration needs a number of seconds or e.g. 15m, 2h, 7d, not {text!r}")
    seconds = float(found[1]) * _UNITS[found[2]]
    if not 1 <= seconds <= MAX_DURATION:
        raise SilenceError(f"duration {text!r} is out of range (1 s to 10 years)")
    return seconds


@dataclass(frozen=True, slots=True)
class Matchers:
    """What an alert must have to be silenced: every matcher given, a list (`A|B`) on
    any entry, a MAC with an optional mask, the channel exactly, the text by RE2."""

    given: dict[str, str]  # each matcher in its normal form: listed, stored, parsed again
    headers: frozenset[str] | None = None
    macs: tuple[tuple[tuple[str, ...], MacMask], ...] = ()
    channel: str | None = None
    text: Pattern | None = None

    @classmethod
    def parse(cls, values: Mapping[str, str]) -> Matchers:
        given: dict[str, str] = {}
        headers = channel = text = None
        macs: list[tuple[tuple[str, ...], MacMask]] = []
        for raw_key, value in values.items():
            key = ALIASES.get(raw_key, raw_key)
            if key in given:
                raise SilenceError(f"{raw_key} is given twice")
            try:
                if key == "header":
                    headers = names("header", value)
                    given[key] = "|".join(sorted(headers))
                elif key in MAC_KEYS:
                    mask = _mac_mask(raw_key, value)
                    macs.append((MAC_KEYS[key], mask))
                    given[key] = _mac_text(mask)
                elif key == "channel":
                    channel = value.strip()
                    if not channel or len(channel) > MAX_CHANNEL:
                        raise SilenceError(f"channel needs 1 to {MAX_CHANNEL} characters")
                    given[key] = channel
                elif key == "text":
                    text = pattern(value)
                    given[key] = value
                else:
                    raise SilenceError(f"unknown matcher {raw_key!r}; use {', '.join(MATCHERS)}")
            except SpecError as exc:
                raise SilenceError(str(exc)) from None
        if not given:
            raise SilenceError(f"a silence needs at least one matcher: {', '.join(MATCHERS)}")
        return cls(given, headers, tuple(macs), channel, text)

    def matches(self, alert: Alert) -> bool:
        record = alert.record
        if self.headers is not None and alert.header.upper() not in self.headers:
            return False
        for keys, mask in self.macs:
            if not any(mask.matches(record[key]) for key in keys):
                return False
        if self.channel is not None and record["kismet.alert.channel"] != self.channel:
            return False
        return self.text is None or self.text.search(record["kismet.alert.text"]) is not None


def _mac_mask(key: str, text: str) -> MacMask:
    try:
        return MacMask.parse(text)
    except MacError:
        raise SilenceError(f"{key} needs a MAC address, optionally /MASK, not {text!r}") from None


def _mac_text(mask: MacMask) -> str:
    mac = ":".join(f"{mask.value:012X}"[i : i + 2] for i in range(0, 12, 2))
    if mask.mask == 0xFFFFFFFFFFFF:
        return mac
    return mac + "/" + ":".join(f"{mask.mask:012X}"[i : i + 2] for i in range(0, 12, 2))


@dataclass(slots=True)
class Silence:
    id: str
    matchers: Matchers
    comment: str
    created_by: str
    starts: float  # seconds since the epoch
    expires: float | None  # None: until the config line goes
    origin: str = API
    hits: int = 0
    # The newest alert counted: every output checks every alert, and an alert counts
    # once. Outputs read in raise order, so the one ahead counts for the others.
    counted_us: int = field(default=0, compare=False)

    def state(self, now: float) -> str:
        if self.expires is not None and now >= self.expires:
            return EXPIRED
        return PENDING if now < self.starts else ACTIVE

    def in_force(self, now: float) -> bool:
        return self.starts <= now and (self.expires is None or now < self.expires)

    def record(self, now: float) -> dict[str, Any]:
        """The silence in the API's answers (docs/forwarding.md)."""
        prefix = "kisalert.silence."
        return {
            prefix + "id": self.id,
            prefix + "state": self.state(now),
            prefix + "origin": self.origin,
            prefix + "matchers": dict(self.matchers.given),
            prefix + "comment": self.comment,
            prefix + "created_by": self.created_by,
            prefix + "starts": self.starts,
            prefix + "expires": 0 if self.expires is None else self.expires,
            prefix + "hits": self.hits,
        }

    def stored(self) -> dict[str, Any]:
        """What a store keeps of it (hits are kept apart: they change all the time)."""
        return {
            "id": self.id,
            "matchers": self.matchers.given,
            "comment": self.comment,
            "created_by": self.created_by,
            "starts": self.starts,
            "expires": self.expires,
        }

    @classmethod
    def from_stored(cls, entry: Mapping[str, Any]) -> Silence:
        """Raises SilenceError, KeyError, TypeError or ValueError for a damaged entry."""
        silence_id, matchers = entry["id"], entry["matchers"]
        comment, created_by = entry["comment"], entry["created_by"]
        starts, expires = entry["starts"], entry["expires"]
        if (
            not isinstance(silence_id, str)
            or not ID.fullmatch(silence_id)
            or not isinstance(matchers, dict)
            or not all(isinstance(value, str) for value in matchers.values())
            or not isinstance(comment, str)
            or not isinstance(created_by, str)
            or not isinstance(starts, (int, float))
            or not (expires is None or isinstance(expires, (int, float)))
        ):
            raise ValueError("not a silence")
        return cls(
            silence_id,
            Matchers.parse(matchers),
            comment,
            created_by,
            float(starts),
            None if expires is None else float(expires),
        )


def _text(args: Mapping[str, Any], key: str) -> str | None:
    value = args.get(key)
    if value is None:
        return None
    if not isinstance(value, str):
        raise SilenceError(f"'{key}' must be a string")
    return value


def _seconds(args: Mapping[str, Any], key: str) -> float | None:
    value = args.get(key)
    if value is None:
        return None
    if isinstance(value, str):
        return parse_duration(value) if key == "duration" else _number(key, value)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise SilenceError(f"'{key}' must be a number")
    return float(value)


def _number(key: str, text: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise SilenceError(f"'{key}' must be a number of seconds since the epoch") from None


def _window(
    now: float, starts: float | None, duration: float | None, expires: float | None
) -> tuple[float, float | None]:
    start = now if starts is None else starts
    if not math.isfinite(start) or not 0 <= start <= now + MAX_DURATION:
        raise SilenceError("starts is out of range")
    if duration is not None and expires is not None:
        raise SilenceError("give duration or expires, not both")
    if duration is not None:
        if not 1 <= duration <= MAX_DURATION:
            raise SilenceError("duration is out of range (1 s to 10 years)")
        return start, start + duration
    if expires is not None:
        if not math.isfinite(expires) or not start < expires <= start + MAX_DURATION:
            raise SilenceError("expires must be after starts, within 10 years")
        return start, expires
    return start, None


def _comment(value: str | None) -> str:
    comment = (value or "").strip()
    if not comment:
        raise SilenceError("a silence needs a comment saying why")
    if len(comment) > MAX_COMMENT:
        raise SilenceError(f"comment may be at most {MAX_COMMENT} characters")
    return comment


def from_command(args: Mapping[str, Any], created_by: str, now: float) -> Silence:
    """A silence from an API command: matchers, `comment`, and `duration` (seconds or
    e.g. `2h`) or `expires` (seconds since the epoch), optionally `starts`."""
    values: dict[str, str] = {}
    for key in args:
        if key in ("comment", "duration", "expires", "starts"):
            continue
        text = _text(args, key)
        if text is not None:
            values[key] = text
    starts, expires = _window(
        now, _seconds(args, "starts"), _seconds(args, "duration"), _seconds(args, "expires")
    )
    if expires is None:
        raise SilenceError("a silence made over the API needs a duration or expires")
    if expires <= now:
        raise SilenceError("that silence would already be over")
    return Silence(
        uuid.uuid4().hex,
        Matchers.parse(values),
        _comment(_text(args, "comment")),
        created_by,
        starts,
        expires,
    )


def parse_when(text: str) -> float:
    """A moment as seconds since the epoch, or ISO 8601 (`2026-12-31T18:00:00Z`)."""
    value = text.strip()
    try:
        return float(value)
    except ValueError:
        pass
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise SilenceError(
            f"expires needs seconds since the epoch or an ISO 8601 time, not {text!r}"
        ) from None
    if moment.tzinfo is None:
        raise SilenceError(f"expires needs a time zone (e.g. Z or +01:00): {text!r}")
    return moment.timestamp()


def from_config(options: Mapping[str, str], now: float) -> Silence:
    """A `silence=` line: matchers, `comment` and optionally `expires`; without one it
    holds while the line is in the config. Its id is the line's digest, so it keeps
    its hits across restarts."""
    values = {key: value for key, value in options.items() if key not in ("comment", "expires")}
    given = options.get("expires")
    expires = None if given is None else parse_when(given)
    if expires is not None and not math.isfinite(expires):
        raise SilenceError("expires is out of range")
    matchers = Matchers.parse(values)
    digest = hashlib.sha256(repr(sorted(options.items())).encode()).hexdigest()[:16]
    comment = _comment(options.get("comment"))
    starts = now if expires is None else min(now, expires)
    return Silence(f"cfg-{digest}", matchers, comment, "config file", starts, expires, CONFIG)


class Silences:
    """The silences of a server. Every output's runner asks `mutes` of each alert."""

    def __init__(self, configured: Iterable[Silence] = ()) -> None:
        self._by_id: dict[str, Silence] = {}
        for silence in configured:
            self._by_id[silence.id] = silence
        self._checked: list[Silence] = []  # the ones that may be in force: all but expired
        self.dirty = False  # hits counted since the store last saved them
        # Told of every change to the set (not to hits): the forwarding process
        # keeps a copy.
        self.listeners: list[Callable[[], None]] = []
        self._refresh_checked(0.0)

    def mutes(self, alert: Alert, now: float) -> bool:
        muted = False
        for silence in self._checked:
            if silence.in_force(now) and silence.matchers.matches(alert):
                muted = True
                if alert.timestamp_us > silence.counted_us:
                    silence.counted_us = alert.timestamp_us
                    silence.hits += 1
                    self.dirty = True
        return muted

    def load(self, stored: Iterable[Silence], hits: Mapping[str, int], now: float) -> None:
        """What the store kept: the API's silences, and every silence's hits."""
        for silence in stored:
            known = self._by_id.get(silence.id)
            if known is None:
                self._by_id[silence.id] = silence
            elif known.origin == API and silence.expires is not None:
                # Expired on another replica; an expiry only ever comes sooner.
                known.expires = min(known.expires or silence.expires, silence.expires)
        self._merge_hits(hits)
        self._refresh_checked(now)

    def add(self, silence: Silence, now: float) -> None:
        if sum(1 for item in self._by_id.values() if item.state(now) != EXPIRED) >= MAX_SILENCES:
            raise SilenceError(f"at most {MAX_SILENCES} silences may be in force or pending")
        self._by_id[silence.id] = silence
        self._refresh_checked(now)

    def discard(self, silence_id: str) -> None:
        self._by_id.pop(silence_id, None)
        self._checked = [item for item in self._checked if item.id != silence_id]
        for listener in self.listeners:
            listener()

    def get(self, silence_id: str) -> Silence | None:
        return self._by_id.get(silence_id)

    def expire(self, silence: Silence, now: float) -> None:
        """End it now (a config line's silence only ends with its line)."""
        if silence.origin == CONFIG:
            raise SilenceError(f"silence {silence.id} is from a silence= line in the config file")
        if silence.expires is None or silence.expires > now:
            # A pending one ends before it began: starts moves back to now with it
            # (kept at its future start, it stayed pending, and counted against the
            # cap of live silences until then).
            silence.starts = min(silence.starts, now)
            silence.expires = now
        self._refresh_checked(now)

    def all(self, now: float) -> list[Silence]:
        """Newest first, without those expired for longer than RETENTION."""
        kept = [item for item in self._by_id.values() if not _past_retention(item, now)]
        return sorted(kept, key=lambda item: item.starts, reverse=True)

    def forget(self, now: float) -> list[str]:
        """Forget the expired silences listed long enough: those that ended RETENTION
        ago or more, and those past the MAX_EXPIRED that ended last. Their ids, for
        the store to forget too."""
        expired = sorted(
            (item for item in self._by_id.values() if item.state(now) == EXPIRED),
            key=lambda item: item.expires or 0.0,
            reverse=True,
        )
        gone = [
            item.id
            for rank, item in enumerate(expired)
            if rank >= MAX_EXPIRED or _past_retention(item, now)
        ]
        for key in gone:
            del self._by_id[key]
        return gone

    def hits(self) -> dict[str, int]:
        return {key: item.hits for key, item in self._by_id.items() if item.hits}

    def count(self, hits: Mapping[str, int]) -> None:
        """Hits counted elsewhere (the forwarding process), as totals: the store is
        told of those that grew."""
        if self._merge_hits(hits):
            self.dirty = True

    def _merge_hits(self, hits: Mapping[str, int]) -> bool:
        """Take the larger of each count; whether any grew."""
        grew = False
        for silence_id, total in hits.items():
            found = self._by_id.get(silence_id)
            if found is not None and total > found.hits:
                found.hits = total
                grew = True
        return grew

    def wire(self) -> list[dict[str, Any]]:
        """Every silence, as `replace` takes them (without hits: they are counted
        where the alerts are checked)."""
        return [{"stored": item.stored(), "origin": item.origin} for item in self._by_id.values()]

    def replace(self, wired: Iterable[Mapping[str, Any]], now: float) -> None:
        """Become the set `wire` gave (the server's), keeping the hits counted here.
        Raises what Silence.from_stored raises for a damaged entry."""
        fresh: dict[str, Silence] = {}
        for entry in wired:
            silence = Silence.from_stored(entry["stored"])
            silence.origin = CONFIG if entry["origin"] == CONFIG else API
            known = self._by_id.get(silence.id)
            if known is not None:
                known.expires = silence.expires
                silence = known
            fresh[silence.id] = silence
        self._by_id = fresh
        self._refresh_checked(now)

    def _refresh_checked(self, now: float) -> None:
        self._checked = [item for item in self._by_id.values() if item.state(now) != EXPIRED]
        for listener in self.listeners:
            listener()


def _past_retention(silence: Silence, now: float) -> bool:
    return silence.expires is not None and now >= silence.expires + RETENTION
