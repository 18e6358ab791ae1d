"""Shared state in Redis, so that several kisalert servers act as one (scale.md).

Every key is under the hash tag `{kisalert}`, so that the scripts, which touch several
keys at once, also run on Redis Cluster (all keys in one slot).

- `clock`: the last stamp handed out (µs); stamps increase across the cluster.
- `alerts`: a stream, one entry per alert, its entry id made from its stamp
  (`ms-µs`), so stream order is stamp order. It keeps `retain` entries, more than the
  backlog, so that a replica tailing it (the eventbus) or the log writer never
  misses one; the backlog is its newest `backlog_size` entries.
- `ids`: alert id -> stream entry, for by-id and for ids unique over the stream.
- `msglog`: a stream of the messagebus, every message, the newest `messages.KEEP`;
  `messages`: a stream of the messages that are not an alert's, which the relays
  tail (an alert's message comes to them in the alert's own entry: one stream
  written per raise, so one wake-up of each relay per raise, not two).
- `defs` (hash) and `deforder` (list): definitions and their registration order.
- `t:<NAME>:limit`, `t:<NAME>:burst`: each a sorted set of sends (member the stamp,
  score its bucket); `last`: each definition's last send.
- `keys`, `keydigests`, `keyseq`: API keys; `s:<digest>`: a session, with a TTL.

When Redis cannot be reached, a change (a raise, a definition, a key, a session, a
wrapped poll's mark) is `Unavailable` (503, one line), and a read is answered from
`mirror`: what this replica last saw, which may be stale (store/mirror.py says what
it holds). While Redis is away (`away()`: the relay cannot read it, or a command here
timed out moments ago), calls do not even try Redis: changes are refused at once and
reads go to the mirror, so that a hung Redis does not make every request wait for its
timeout, nor queue commands that it would run, long after their callers were told
503, once it resumes.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, Mapping, Sequence
from functools import partial
from importlib import resources
from typing import Any, Protocol, TypeVar

import orjson
import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from kisalert.alert import Alert, AlertDraft
from kisalert.alertlog.rows import definition_blob, definition_from_blob
from kisalert.auth import Principal
from kisalert.clock import Clock
from kisalert.credentials import ApiKey, Session
from kisalert.definition import Definition
from kisalert.errors import Unavailable
from kisalert.forward.cursor import CursorUnavailable
from kisalert.forward.silences import Silence
from kisalert.jsonbytes import kept_json
from kisalert.messages import KEEP, Message
from kisalert.rates import Rate
from kisalert.store.mirror import Mirror
from kisalert.store.resp import Connection
from kisalert.throttle import window_shape
from kisalert.timestamps import to_micros

PREFIX = "{kisalert}:"
# Stream entries kept beyond the backlog: what a replica's eventbus may be behind by,
# and what the log writer may fall behind by, before either misses an alert.
RETAIN = 100_000
# Stands in for the id in an alert's JSON while the script picks the id; no real id
# (32 bits) prints as these digits.
_ID_STANDIN = 1 << 40
_HASH_KEY = b'"kismet.alert.hash":'
# Parsed alerts kept per replica, so a backlog read parses only what is new.
_PARSED = 4096
# A hit count only goes up: replicas that counted the same alerts write the larger.
_MAX_HITS = """
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > old then redis.call('HSET', KEYS[1], ARGV[1], ARGV[2]) end
return 1
"""
# Seconds: a Redis that accepts no connection, or does not answer a command, within
# these is taken as away for that call. Every command here is short (the longest
# reads a backlog), so an answer this late means a Redis in trouble, and a client's
# request must not wait longer than this to hear so.
CONNECT_TIMEOUT = 2.0
COMMAND_TIMEOUT = 3.0
# After a command timed out, Redis is taken as away for this long, or until the relay
# reads it again (`found`): long enough for the relay, which waits a little longer,
# to find out for itself.
SILENT_HOLD = COMMAND_TIMEOUT

T = TypeVar("T")


class _Away:
    """What a read returns when Redis could not answer it."""


AWAY = _Away()


def client(url: str, command_timeout: float = COMMAND_TIMEOUT) -> Any:
    """A redis-py client that never repeats a command: a raise is not idempotent, and
    one that timed out may still have run (a stopped Redis runs what it had received
    once it resumes); the callers decide what a failure means."""
    return aioredis.Redis.from_url(
        url,
        socket_connect_timeout=CONNECT_TIMEOUT,
        socket_timeout=command_timeout,
        health_check_interval=10,
        retry=Retry(NoBackoff(), 0),
    )


def _script(name: str) -> str:
    return resources.files("kisalert.store").joinpath("lua", name).read_text()


def redis_key(name: str) -> str:
    """A key's full name in Redis."""
    return PREFIX + name


def where(client: Any) -> str:
    """Which Redis a client talks to, without its password, for messages."""
    kwargs = client.connection_pool.connection_kwargs
    if "path" in kwargs:
        return str(kwargs["path"])
    return f"{kwargs.get('host', 'localhost')}:{kwargs.get('port', 6379)}/{kwargs.get('db', 0)}"


def reason(exc: Exception) -> str:
    """What went wrong with Redis, said for an operator."""
    text = str(exc) or type(exc).__name__
    if "HELLO must be called" in text or text.startswith(("NOAUTH", "Authentication required")):
        return "it needs a password: give it in the URL, redis://:PASSWORD@HOST:PORT/DB"
    if "invalid username-password pair" in text or text.startswith("WRONGPASS"):
        return "it refused the password in the URL"
    return text.rstrip(".")


def message_fields(message: Message) -> dict[bytes, bytes | int]:
    return {b"t": message.text.encode(), b"f": message.flags, b"s": message.time}


def message_from(fields: dict[bytes, bytes]) -> Message:
    return Message(fields[b"t"].decode(), int(fields[b"f"]), int(fields[b"s"]))


def _window_args(rate: Rate) -> list[int]:
    width, span = window_shape(rate)
    return [rate.count, width, span]


class _Counted:
    """A definition's window counts read from Redis, shaped as Definition.record reads
    a Throttle."""

    class _Sent:
        def __init__(self, count: int) -> None:
            self._count = count

        def sent(self, _at_us: int) -> int:
            return self._count

    def __init__(self, limit: int, burst: int, last_us: int) -> None:
        self.limit = self._Sent(limit)
        self.burst = self._Sent(burst)
        self.last_us = last_us


def _split_json(alert: Alert) -> tuple[bytes, bytes]:
    """The alert's JSON before and after its id (made with _ID_STANDIN as the id)."""
    data = alert.json
    start = data.index(_HASH_KEY) + len(_HASH_KEY)
    end = start + len(str(_ID_STANDIN))
    return data[:start], data[end:]


class Earlier(Protocol):
    """Writes that must reach Redis before the next raise (cluster/relay.Outbox)."""

    unsent: int

    async def drained(self) -> None: ...


class RedisStore:
    """The Store interface on Redis; `url` as redis-py takes it (redis://, rediss://,
    a password in it). `replica` names this server in the alerts it raises (a stream
    field, never in the record)."""

    def __init__(
        self,
        url: str,
        clock: Clock,
        backlog_size: int = 50,
        replica: str = "",
        retain: int = RETAIN,
    ) -> None:
        self.url = url
        # Any: redis-py's annotations describe replies as str | bytes | None whatever
        # the client's settings; these replies are bytes.
        self._redis: Any = client(url)
        self._clock = clock
        self._size = backlog_size
        self.replica = replica
        self._retain = max(retain, backlog_size)
        self._floor = 0  # the last stamp this replica saw
        self._raise = self._register("raise.lua")
        # The raise path's commands go on a lean connection of their own (resp.py).
        self._resp = Connection(self._redis, CONNECT_TIMEOUT, COMMAND_TIMEOUT)
        self._define = self._register("define.lua")
        self._poll_mark = self._register("poll_mark.lua")
        self._by_id = self._register("by_id.lua")
        self._add_key = self._register("add_key.lua")
        self._remove_key = self._register("remove_key.lua")
        self._parsed: OrderedDict[bytes, Alert] = OrderedDict()
        # This replica's raises in flight, by their stream entry: each one's record,
        # and its JSON before and after its id.
        self._sending: dict[bytes, tuple[dict[str, Any], bytes, bytes]] = {}
        self._definitions: dict[str, Definition] = {}
        self.mirror = Mirror(backlog_size)
        # The replica's messages not yet in Redis go before a raise, so the messagebus
        # keeps the order things happened in (cluster/relay.Outbox).
        self.earlier: Earlier | None = None
        self._lost: str | None = None  # why the relay cannot read Redis
        self._silent: tuple[str, float] | None = None  # a timeout's reason, and until

    def _register(self, name: str) -> Any:
        return self._redis.register_script(_script(name))

    @property
    def redis(self) -> Any:
        return self._redis

    def unreachable(self, exc: RedisError) -> str:
        """The one line that says why Redis could not be used."""
        if isinstance(exc, RedisTimeoutError):
            return (
                f"Redis at {self.where} did not answer within {COMMAND_TIMEOUT:g} s "
                "(the request may still take effect)"
            )
        return f"Redis at {self.where} is unreachable: {reason(exc)}"

    async def _call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """A change, or a read the mirror cannot answer: Unavailable without Redis."""
        away = self.away()
        if away is not None:
            raise Unavailable(away)
        try:
            return await operation()
        except RedisError as exc:
            await self._failed(exc)
            raise Unavailable(self.unreachable(exc)) from None

    async def _read(self, operation: Callable[[], Awaitable[T]]) -> T | _Away:
        """A read from Redis, or AWAY when Redis cannot answer it: the caller then
        answers from the mirror."""
        if self.away() is not None:
            return AWAY
        try:
            return await operation()
        except RedisError as exc:
            await self._failed(exc)
            return AWAY

    async def _failed(self, exc: RedisError) -> None:
        if isinstance(exc, RedisConnectionError):
            await self.forget_connections()
        elif isinstance(exc, RedisTimeoutError):
            reason = f"Redis at {self.where} is not answering: {exc}"
            self._silent = (reason, time.monotonic() + SILENT_HOLD)

    def away(self) -> str | None:
        """Why Redis is taken as away (one line), or None."""
        if self._lost is not None:
            return self._lost
        if self._silent is not None:
            if time.monotonic() < self._silent[1]:
                return self._silent[0]
            self._silent = None
        return None

    async def forget_connections(self) -> None:
        """Close the idle pooled connections: after Redis restarts, each would fail
        the next command sent on it. The raise connection is left alone: it finds out
        for itself (its socket closes, or an answer is late), and raises in flight on
        it, which Redis may run, are not failed here."""
        await self._redis.connection_pool.disconnect(inuse_connections=False)

    async def lost(self, reason: str) -> None:
        """Redis is away (the relay cannot read it): refuse changes at once and
        answer reads from the mirror until `found()`."""
        self._lost = reason
        await self.forget_connections()

    def found(self) -> None:
        """Redis answered the relay."""
        self._lost = None
        self._silent = None

    @property
    def where(self) -> str:
        return where(self._redis)

    async def ping(self) -> None:
        """Raises RedisError when Redis cannot be reached or refuses the password."""
        await self._redis.ping()

    async def close(self) -> None:
        self._resp.close()
        await self._redis.aclose()

    # Definitions

    async def definitions(self) -> Sequence[Definition]:
        async def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=True)
            pipe.lrange(redis_key("deforder"), 0, -1)
            pipe.hgetall(redis_key("defs"))
            replies: list[Any] = await pipe.execute()
            return replies

        replies = await self._read(read)
        if isinstance(replies, _Away):
            known = self._definitions
            return [known[name] for name in self.mirror.definition_order if name in known]
        order, blobs = replies
        definitions = [self._definition_from(name.decode(), blobs[name]) for name in order]
        self.mirror.definition_order = [definition.name for definition in definitions]
        return definitions

    def _definition_from(self, name: str, blob: bytes) -> Definition:
        known = self._definitions.get(name)
        if known is None:
            # Definitions never change once made, so each is parsed once.
            known = self._definitions[name] = definition_from_blob(blob)
        return known

    async def definition(self, name: str) -> Definition | None:
        known = self._definitions.get(name)
        if known is not None:
            return known
        blob = await self._call(lambda: self._redis.hget(redis_key("defs"), name))
        return None if blob is None else self._definition_from(name, blob)

    async def add_definition(self, definition: Definition) -> Definition:
        blob = definition_blob(definition)
        registered = await self._call(
            lambda: self._define(
                keys=[redis_key("defs"), redis_key("deforder")], args=[definition.name, blob]
            )
        )
        self.mirror.defined(definition.name)
        made, stored = registered
        if made:
            # The caller's own object: that is how it learns the name was new.
            self._definitions[definition.name] = definition
            return definition
        return self._definition_from(definition.name, stored)

    async def definition_records(self, now_us: int) -> list[dict[str, Any]]:
        definitions = await self.definitions()

        async def read() -> list[Any]:
            pipe = self._redis.pipeline(transaction=True)
            for definition in definitions:
                for part, rate in (
                    ("limit", definition.limits.limit),
                    ("burst", definition.limits.burst),
                ):
                    width, span = window_shape(rate)
                    pipe.zcount(
                        redis_key(f"t:{definition.name}:{part}"), now_us // width - span + 1, "+inf"
                    )
            pipe.hgetall(redis_key("last"))
            replies: list[Any] = await pipe.execute()
            return replies

        counts = await self._call(read)
        last = counts.pop()
        records = []
        for i, definition in enumerate(definitions):
            last_us = int(last.get(definition.name.encode(), 0))
            counted = _Counted(counts[2 * i], counts[2 * i + 1], last_us)
            records.append(definition.record(counted, now_us))  # type: ignore[arg-type]
        return records

    # Alerts

    async def admit(
        self, definition: Definition, draft: AlertDraft, visible: bool = True
    ) -> Alert | None:
        return await self._add("admit", definition, draft)

    async def record(
        self, definition: Definition, draft: AlertDraft, visible: bool = True
    ) -> Alert:
        alert = await self._add("record", definition, draft)
        assert alert is not None
        return alert

    async def append(self, draft: AlertDraft, visible: bool = True) -> Alert:
        alert = await self._add("append", None, draft)
        assert alert is not None
        return alert

    async def _add(
        self, mode: str, definition: Definition | None, draft: AlertDraft
    ) -> Alert | None:
        name = definition.name if definition is not None else draft.header
        if definition is not None:
            windows = _window_args(definition.limits.limit) + _window_args(definition.limits.burst)
        else:
            windows = [0, 1, 1, 0, 1, 1]
        keys = [
            redis_key("clock"),
            redis_key("alerts"),
            redis_key("ids"),
            redis_key(f"t:{name}:limit"),
            redis_key(f"t:{name}:burst"),
            redis_key("last"),
            redis_key("msglog"),
        ]
        message = f"{draft.header} {draft.text}"
        earlier = self.earlier
        if earlier is not None and earlier.unsent:
            await self._messages_written(earlier)
        stamp = self._next_stamp()
        while True:
            made = Alert.from_draft(draft, stamp, _ID_STANDIN)
            head, tail = _split_json(made)
            args = [
                stamp,
                draft.checksum(stamp),
                head,
                tail,
                self._retain,
                mode,
                name,
                self.replica,
                *windows,
                message,
                int(self._clock.now()),
                KEEP,
            ]
            entry_id = self._entry_id(stamp)
            # The relay may read the entry before this raise hears its reply: it then
            # takes the record from here rather than parsing the entry's JSON.
            self._sending[entry_id] = (made.record, head, tail)
            try:
                reply = await self._call(partial(self._run_raise, keys, args))
            finally:
                del self._sending[entry_id]
            if reply[0] == 0:
                return None
            if reply[0] == 2:
                # Another replica stamped after us meanwhile: build it again, later.
                self._floor = max(self._floor, int(reply[1]) - 1)
                stamp = self._next_stamp()
                continue
            alert = self._parsed.get(entry_id)
            if alert is None:
                alert_id = int(reply[2])
                made.record["kismet.alert.hash"] = alert_id
                alert = Alert(made.record, head + str(alert_id).encode() + tail, stamp)
                self._remember(entry_id, alert)
            return alert

    async def _messages_written(self, earlier: Earlier) -> None:
        """Unavailable, as the raise would be, when Redis is away or does not take this
        replica's earlier messages in time: they are retried until it does, and a raise
        must not wait for that."""
        away = self.away()
        if away is not None:
            raise Unavailable(away)
        try:
            async with asyncio.timeout(COMMAND_TIMEOUT):
                await earlier.drained()
        except TimeoutError:
            raise Unavailable(
                f"Redis at {self.where} did not take this replica's messages "
                f"within {COMMAND_TIMEOUT:g} s"
            ) from None

    async def _run_raise(self, keys: list[str], args: list[Any]) -> Any:
        try:
            return await self._resp.call("EVALSHA", self._raise.sha, len(keys), *keys, *args)
        except NoScriptError:
            # A Redis restarted or flushed since: EVAL loads the script again.
            return await self._resp.call("EVAL", self._raise.script, len(keys), *keys, *args)

    async def messages(self) -> list[Message] | None:
        """The messagebus as Redis keeps it, oldest first; None while Redis is away
        (the caller answers from what its relay last delivered)."""
        found = await self._read(lambda: self._redis.xrange(redis_key("msglog"), "-", "+"))
        if isinstance(found, _Away):
            return None
        return [message_from(fields) for _entry, fields in found]

    def _next_stamp(self) -> int:
        """The stamp to build the next alert for, taken here at once: raises running
        side by side each get their own, in the order they asked, so the scripts they
        send together all find their stamp after the last."""
        stamp = max(to_micros(self._clock.now()), self._floor + 1)
        self._floor = stamp
        return stamp

    @staticmethod
    def _entry_id(stamp_us: int) -> bytes:
        return f"{stamp_us // 1000}-{stamp_us % 1000}".encode()

    @staticmethod
    def _stamp_of(entry_id: bytes) -> int:
        ms, _, us = entry_id.partition(b"-")
        return int(ms) * 1000 + int(us)

    def _remember(self, entry_id: bytes, alert: Alert) -> None:
        self._parsed[entry_id] = alert
        if len(self._parsed) > _PARSED:
            self._parsed.popitem(last=False)

    def parse(self, entry_id: bytes, fields: dict[bytes, bytes]) -> Alert:
        """An alert from its stream entry (kept, so each is parsed once here)."""
        known = self._parsed.get(entry_id)
        if known is None:
            sending = self._sending.get(entry_id)
            # Another replica's alert may hold the entry a raise here was stamped for
            # (that raise is then refused and stamped again): the JSON tells them apart.
            if sending is not None and fields[b"j"] == sending[1] + fields[b"i"] + sending[2]:
                record = sending[0]
                record["kismet.alert.hash"] = int(fields[b"i"])
            else:
                record = orjson.loads(fields[b"j"])
            known = Alert(record, fields[b"j"], self._stamp_of(entry_id))
            self._remember(entry_id, known)
        return known

    async def reveal(self, alert: Alert) -> None:
        # Alerts are visible from the script that adds them.
        return None

    async def restore(self, alerts: Sequence[Alert], newest_us: int = 0) -> None:
        # Redis keeps its own state; a log is not reloaded into it.
        return None

    async def restore_sends(self, name: str, stamps_us: Sequence[int], last_us: int) -> None:
        return None

    async def backlog(self) -> Sequence[Alert]:
        if self._size <= 0:
            return ()
        entries = await self._read(
            lambda: self._redis.xrevrange(redis_key("alerts"), "+", "-", count=self._size)
        )
        if isinstance(entries, _Away):
            return self.mirror.backlog()
        return [self.parse(entry_id, fields) for entry_id, fields in reversed(entries)]

    @property
    def backlog_size(self) -> int:
        return self._size

    async def since(self, after_us: int) -> Sequence[Alert]:
        if self._size <= 0:
            return ()
        # The backlog is the newest entries: those after `after_us` among them are the
        # newest ones after it, at most a backlog's worth.
        start = "(" + self._entry_id(after_us).decode() if after_us >= 0 else "-"

        async def read() -> Any:
            return await self._redis.xrevrange(redis_key("alerts"), "+", start, count=self._size)

        entries = await self._read(read)
        if isinstance(entries, _Away):
            return self.mirror.since(after_us)
        return [self.parse(entry_id, fields) for entry_id, fields in reversed(entries)]

    async def by_id(self, alert_id: int) -> Alert | None:
        if self._size <= 0:
            return None
        keys = [redis_key("ids"), redis_key("alerts")]
        found = await self._read(partial(self._by_id, keys=keys, args=[alert_id, self._size]))
        if isinstance(found, _Away):
            return self.mirror.by_id(alert_id)
        if not found:
            return None
        entry_id, fields = found
        return self.parse(entry_id, dict(zip(fields[::2], fields[1::2], strict=True)))

    async def poll_mark(self, now_us: int) -> int:
        # Not from the mirror: a mark must be reserved in Redis, and one this replica
        # made up could have a client moving between replicas skip or repeat alerts.
        mark = await self._call(lambda: self._poll_mark(keys=[redis_key("clock")], args=[now_us]))
        return int(mark)

    # Credentials

    async def add_api_key(self, key: ApiKey) -> bool:
        async def add() -> Any:
            seq = await self._redis.incr(redis_key("keyseq"))
            doc = {
                "name": key.name,
                "role": key.role,
                "expires": key.expires,
                "digest": key.digest,
                "token": key.token,
                "seq": seq,
            }
            return await self._add_key(
                keys=[redis_key("keys"), redis_key("keydigests")],
                args=[key.name, key.digest, orjson.dumps(doc)],
            )

        return bool(await self._call(add))

    async def remove_api_key(self, name: str) -> bool:
        self.mirror.forget_api_key(name)
        removed = await self._call(
            lambda: self._remove_key(keys=[redis_key("keys"), redis_key("keydigests")], args=[name])
        )
        return bool(removed)

    @staticmethod
    def _api_key_from(blob: bytes) -> ApiKey:
        doc = orjson.loads(blob)
        return ApiKey(doc["name"], doc["role"], doc["expires"], doc["digest"], doc["token"])

    async def api_key(self, digest: str) -> ApiKey | None:
        async def read() -> bytes | None:
            name = await self._redis.hget(redis_key("keydigests"), digest)
            if name is None:
                return None
            blob: bytes | None = await self._redis.hget(redis_key("keys"), name)
            return blob

        blob = await self._read(read)
        if isinstance(blob, _Away):
            return self.mirror.api_key(digest)
        key = None if blob is None else self._api_key_from(blob)
        self.mirror.keep_api_key(digest, key)
        return key

    async def api_keys(self) -> Sequence[ApiKey]:
        blobs = await self._call(lambda: self._redis.hvals(redis_key("keys")))
        docs = sorted((orjson.loads(blob) for blob in blobs), key=lambda doc: doc["seq"])
        return [ApiKey(d["name"], d["role"], d["expires"], d["digest"], d["token"]) for d in docs]

    async def add_session(self, digest: bytes, session: Session) -> None:
        doc = {
            "name": session.principal.name,
            "role": session.principal.role,
            "expires": session.expires,
            "stamp": None if session.login_stamp is None else session.login_stamp.hex(),
        }
        # Kept a minute past its expiry: the rules above decide when it ends.
        ttl_ms = max(1, int((session.expires - self._clock.now() + 60) * 1000))
        await self._call(
            lambda: self._redis.set(redis_key("s:" + digest.hex()), kept_json(doc), px=ttl_ms)
        )
        self.mirror.keep_session(digest, session)

    async def session(self, digest: bytes) -> Session | None:
        blob: bytes | _Away | None = await self._read(
            lambda: self._redis.get(redis_key("s:" + digest.hex()))
        )
        if isinstance(blob, _Away):
            return self.mirror.session(digest)
        session = None
        if blob is not None:
            doc = orjson.loads(blob)
            stamp = None if doc["stamp"] is None else bytes.fromhex(doc["stamp"])
            session = Session(Principal(doc["name"], doc["role"]), doc["expires"], stamp)
        self.mirror.keep_session(digest, session)
        return session

    async def remove_session(self, digest: bytes) -> None:
        self.mirror.keep_session(digest, None)
        # Only dead sessions are removed (expired, or made with a password since
        # changed: Sessions._live), which every replica refuses anyway and Redis drops
        # at its TTL; so one that Redis cannot hear of now is no loss, and the request
        # that found it dead is answered as such, not 503.
        with contextlib.suppress(Unavailable):
            await self._call(lambda: self._redis.delete(redis_key("s:" + digest.hex())))

    # Silences: the API's in one hash by id, every silence's hits in another, kept
    # apart so that counting never races an expiry made on another replica.

    async def silences(self) -> tuple[Sequence[Silence], Mapping[str, int]]:
        async def read() -> tuple[dict[bytes, bytes], dict[bytes, bytes]]:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hgetall(redis_key("silences"))
                pipe.hgetall(redis_key("silence:hits"))
                found, hits = await pipe.execute()
            return found, hits

        found, hits = await self._call(read)
        silences = []
        for blob in found.values():
            try:
                silences.append(Silence.from_stored(orjson.loads(blob)))
            except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
                continue  # one damaged entry must not cost the others
        counts = {key.decode(): int(value) for key, value in hits.items()}
        return silences, counts

    async def put_silence(self, silence: Silence) -> None:
        blob = orjson.dumps(silence.stored())

        async def write() -> None:
            async with self._redis.pipeline(transaction=True) as pipe:
                pipe.hset(redis_key("silences"), silence.id, blob)
                # Tells the replica that forwards (cluster/relay.py), at once.
                pipe.xadd(
                    redis_key("silences:changed"), {"id": silence.id}, maxlen=100, approximate=True
                )
                await pipe.execute()

        await self._call(write)

    async def forget_silences(self, ids: Sequence[str]) -> None:
        if not ids:
            return

        async def drop() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                pipe.hdel(redis_key("silences"), *ids)
                pipe.hdel(redis_key("silence:hits"), *ids)
                await pipe.execute()

        await self._call(drop)

    async def put_silence_hits(self, hits: Mapping[str, int]) -> None:
        if not hits:
            return

        async def write() -> None:
            async with self._redis.pipeline(transaction=False) as pipe:
                for silence_id, count in hits.items():
                    pipe.eval(_MAX_HITS, 1, redis_key("silence:hits"), silence_id, count)
                await pipe.execute()

        await self._call(write)

    @property
    def cursors(self) -> RedisCursors:
        return RedisCursors(self)


class RedisCursors:
    """The outputs' cursors in one hash, so that the replica holding the log's lease
    next resumes each output where the last one left it."""

    def __init__(self, store: RedisStore) -> None:
        self._store = store

    async def load(self, name: str) -> int | None:
        try:
            found = await self._store._call(
                lambda: self._store.redis.hget(redis_key("forward:cursors"), name)
            )
        except Unavailable as exc:
            raise CursorUnavailable(str(exc)) from None
        return None if found is None else int(found)

    async def save(self, name: str, stamp_us: int, alert_id: int | None) -> None:
        try:
            await self._store._call(
                lambda: self._store.redis.hset(redis_key("forward:cursors"), name, stamp_us)
            )
        except Unavailable as exc:
            raise CursorUnavailable(str(exc)) from None
