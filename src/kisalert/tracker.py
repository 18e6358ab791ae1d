"""The alert tracker: defining and raising alerts, independent of HTTP and storage.

A raise, in order: validate; check the throttle; stamp; count it; append to the
backlog; publish ALERT on the bus; post `"<HEADER> <text>"` to the messagebus.

With the log in strict mode, nothing a client can see may be lost, so an alert is
shown (backlog, bus, messagebus) only once the commit that holds it is done, in the
order alerts were stamped; until then only its stamp and id are taken.
"""

from __future__ import annotations

import asyncio
import html
from collections import Counter, deque
from collections.abc import Mapping
from typing import NamedTuple

from kisalert import messages, severity
from kisalert.alert import Alert, AlertDraft
from kisalert.alertlog.log import AlertLog
from kisalert.bus import ALERT, Bus
from kisalert.catalog import BUILTIN_ALERTS
from kisalert.clock import Clock
from kisalert.definition import MAX_CHANNEL, MAX_TEXT_BYTES, Definition, canonical_name
from kisalert.definition_state import enabled, zero_part
from kisalert.errors import (
    AlreadyDefined,
    Disabled,
    InvalidRequest,
    Throttled,
    Unavailable,
    UnknownAlert,
    UnknownSeverity,
)
from kisalert.location import NO_LOCATION, Location
from kisalert.mac import ZERO_MAC
from kisalert.messages import MessageBus
from kisalert.phy import PHY_ANY
from kisalert.rates import Limits, RateError
from kisalert.store import Store
from kisalert.throttle import PacketThrottles

DEFAULT_THROTTLE = "10/min"
DEFAULT_BURST = "1/sec"


class RaiseRequest(NamedTuple):
    """A raise as a client asks for it: MACs already normalised. (A named tuple, as
    AlertDraft is, for the same reason.)"""

    name: str
    text: str
    transmitter: str = ZERO_MAC
    source: str = ZERO_MAC
    dest: str = ZERO_MAC
    other: str = ZERO_MAC
    channel: str = ""
    frequency: float = 0.0  # kHz


def parse_limits(throttle: str, burst: str) -> Limits:
    """Limits from rate strings, or InvalidRequest with Kismet's wording."""
    try:
        return Limits.parse(throttle, burst)
    except RateError as exc:
        part = exc.args[1] if len(exc.args) > 1 else "throttle"
        if part == "order":
            raise InvalidRequest("burst unit may not be longer than throttle unit") from None
        raise InvalidRequest(f"could not parse {part} limits") from None


def builtin_definitions(configured_rates: Mapping[str, Limits]) -> list[Definition]:
    """The built-in definitions, in Kismet's order, with the configured rates."""
    definitions = []
    for builtin in BUILTIN_ALERTS:
        throttle, burst = builtin.fallback.split(",")
        limits = configured_rates.get(builtin.name) or Limits.parse(throttle, burst)
        definitions.append(
            Definition(
                builtin.name,
                builtin.klass,
                builtin.severity,
                builtin.description,
                builtin.phy,
                limits,
            )
        )
    return definitions


def _refusal(definition: Definition) -> Throttled:
    """Why the store did not admit a raise: a throttle, or an alert that is off."""
    limits = definition.limits
    if enabled(limits):
        return Throttled()
    return Disabled(definition.name, zero_part(limits), f"{DEFAULT_THROTTLE},{DEFAULT_BURST}")


class AlertTracker:
    def __init__(
        self,
        store: Store,
        bus: Bus,
        messagebus: MessageBus,
        clock: Clock,
        configured_rates: Mapping[str, Limits],
        location: Location = NO_LOCATION,
        log: AlertLog | None = None,
        relayed: bool = False,
    ) -> None:
        self.store = store
        # With several replicas, every replica's relay publishes each alert from the
        # shared stream, the raising one's included, so all see the same order.
        self._relayed = relayed
        self._log = log
        self._bus = bus
        self._messagebus = messagebus
        self._clock = clock
        self._rates = configured_rates
        self._location = location
        # Raises look names up case-insensitively; definitions are stored upper case.
        self._cache: dict[str, Definition] = {}
        # Raises refused by a throttle, per header (read by /metrics); raised alerts
        # are counted from the bus.
        self.throttled: Counter[str] = Counter()
        # Strict mode: committed alerts waiting to be shown, in commit (= stamp) order;
        # the task showing them; the raises waiting for theirs, by alert id.
        self._visible_at_once = log is None or not log.strict
        self._to_show: deque[Alert] = deque()
        self._showing: asyncio.Task[None] | None = None
        self._waiting: dict[int, asyncio.Future[None]] = {}
        if not self._visible_at_once:
            assert log is not None
            log.settled = self._settled

    async def register_builtins(self) -> None:
        for definition in builtin_definitions(self._rates):
            await self.store.add_definition(definition)

    async def define(
        self,
        name: str,
        description: str,
        klass: str = "OTHER",
        severity_value: int = severity.MEDIUM,
        throttle: str | None = None,
        burst: str | None = None,
        phy: int = PHY_ANY,
    ) -> bool:
        """Define an alert; True if it is new, False if an identical one existed.

        A config `alert=` line for the name wins over the requested rates.
        """
        key = canonical_name(name)
        if key is None:
            raise InvalidRequest("alert name must be 1-64 letters, digits, '_', '-' or '.'")
        name = key
        if not severity.is_severity(severity_value):
            raise UnknownSeverity(str(severity_value))
        requested = parse_limits(throttle or DEFAULT_THROTTLE, burst or DEFAULT_BURST)
        limits = self._rates.get(name, requested)
        wanted = Definition(name, klass.upper(), severity_value, description, phy, limits)
        if self._log is not None and not self._log.has_room():
            # A definition the log does not keep is gone at the next start, and every
            # raise of it refused: say so now, as a raise would.
            reason = self._log.failure or "the alert log writer is behind"
            raise Unavailable(f"Alert not defined: {reason}")
        registered = await self.store.add_definition(wanted)
        if registered is wanted:
            if self._log is not None:
                self._log.save_definition(wanted)
            self._messagebus.post(f"Alert {name} defined over the API", messages.INFO)
            return True
        if registered != wanted:
            raise AlreadyDefined(name)
        return False

    async def _definition(self, name: str) -> Definition:
        # The cache is keyed by canonical names, so a hit needs no check: raises,
        # which mostly give the name as it was defined, skip the name rule.
        cached = self._cache.get(name)
        if cached is not None:
            return cached
        key = canonical_name(name)
        if key is None:
            # Not a name any definition can have (upper-casing it could make one).
            raise UnknownAlert(html.escape(name))
        found = self._cache.get(key)
        if found is None:
            found = await self.store.definition(key)
            if found is None:
                raise UnknownAlert(html.escape(name))
            self._cache[key] = found
        return found

    def _draft(self, definition: Definition, request: RaiseRequest) -> AlertDraft:
        return AlertDraft(
            header=definition.name,
            klass=definition.klass,
            severity=definition.severity,
            phy=definition.phy,
            text=request.text,
            transmitter=request.transmitter,
            source=request.source,
            dest=request.dest,
            other=request.other,
            channel=request.channel,
            frequency=request.frequency,
            location=self._location,
        )

    async def raise_alert(self, request: RaiseRequest) -> Alert:
        if len(request.text.encode()) > MAX_TEXT_BYTES:
            raise InvalidRequest("alert text is longer than 16 KiB")
        if len(request.channel) > MAX_CHANNEL:
            raise InvalidRequest("channel is longer than 64 characters")
        definition = await self._definition(request.name)
        draft = self._draft(definition, request)
        self._check_log_room()
        alert = await self.store.admit(definition, draft, self._visible_at_once)
        if alert is None:
            self.throttled[definition.name] += 1
            raise _refusal(definition)
        await self._accept(alert, request.text)
        return alert

    async def raise_detected(
        self, request: RaiseRequest, at_us: int, book: PacketThrottles
    ) -> Alert | None:
        """Raise what a detector found in a frame captured at `at_us`.

        Throttling runs on packet time in `book`, the source's own throttles, so a
        capture raises the same alerts however fast it is read. The alert is stamped
        by the store's clock like any other and counted in its definition's windows.
        Returns None when throttled; raises Unavailable when the log has no room.
        """
        definition = await self._definition(request.name)
        if not book.admits(definition, at_us):
            self.throttled[definition.name] += 1
            return None
        draft = self._draft(definition, request)
        self._check_log_room()
        book.record(definition, at_us)
        alert = await self.store.record(definition, draft, self._visible_at_once)
        await self._accept(alert, request.text)
        return alert

    async def raise_oneshot(self, header: str, text: str) -> Alert:
        """A server-raised SYSTEM alert that needs no definition and is never throttled."""
        draft = AlertDraft(
            header=header.upper(),
            klass="SYSTEM",
            severity=severity.CRITICAL,
            phy=PHY_ANY,
            text=text,
            location=self._location,
        )
        self._check_log_room()
        alert = await self.store.append(draft, self._visible_at_once)
        await self._accept(alert, text)
        return alert

    async def alert_by_id(self, alert_id: int) -> Alert | None:
        """From the backlog or, when the log is enabled, from the log."""
        found = await self.store.by_id(alert_id)
        if found is None and self._log is not None:
            found = self._log.by_id(alert_id)
        return found

    def _check_log_room(self) -> None:
        # Before stamping, so that a 503 leaves nothing behind.
        if self._log is not None and not self._log.has_room():
            reason = self._log.failure or "the alert log writer is behind"
            raise Unavailable(f"Alert not raised: {reason}")

    async def _accept(self, alert: Alert, text: str) -> None:
        """Hand a stamped alert to the log and the bus; in strict mode, wait until it
        is committed and shown."""
        log = self._log
        if self._visible_at_once:
            # The store made the alert visible: nothing may run before the log has
            # journaled its id (no await from the store's stamping to here).
            if log is not None:
                log.append(alert)
            self._publish(alert, text)
            return
        assert log is not None
        shown = asyncio.get_running_loop().create_future()
        self._waiting[alert.alert_id] = shown
        log.append(alert)
        await shown

    def _publish(self, alert: Alert, text: str) -> None:
        if self._relayed:
            # The store posted the alert's message in the step that added the alert.
            return
        self._bus.publish(ALERT, alert)
        self._messagebus.post(f"{alert.header} {text}", messages.ALERT)

    def _settled(self, alerts: list[Alert], failure: str | None) -> None:
        """The log's report on a strict-mode transaction (on the event loop)."""
        if failure is not None:
            # Answer the raises 503 now; their alerts are shown when the retried
            # commit succeeds, though nobody waits for them any more.
            for alert in alerts:
                waiter = self._waiting.get(alert.alert_id)
                if waiter is not None and not waiter.done():
                    waiter.set_exception(
                        Unavailable(f"Alert kept in memory, not yet logged: {failure}")
                    )
            return
        self._to_show.extend(alerts)
        if self._showing is None:
            self._showing = asyncio.get_running_loop().create_task(self._show())

    async def _show(self) -> None:
        """Show committed alerts one by one, in order (the store may really wait)."""
        try:
            while self._to_show:
                alert = self._to_show.popleft()
                await self.store.reveal(alert)
                self._publish(alert, alert.record["kismet.alert.text"])
                waiter = self._waiting.pop(alert.alert_id, None)
                if waiter is not None and not waiter.done():
                    waiter.set_result(None)
        finally:
            self._showing = None
