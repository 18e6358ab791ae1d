"""Who may do what: roles, the admin login and password checks.

Passwords kept in the data directory are stored only as scrypt hashes. A password
check is expensive on purpose, so a successful one is remembered briefly: clients
that send Basic auth on every request cost no more than cookie clients.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import secrets
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

import orjson

from kisalert.clock import Clock
from kisalert.datadir import write_private

ADMIN = "admin"
READONLY = "readonly"
ANY_LOGIN = "*"  # a route any valid login may use, whatever its role
LOGIN_FILE = "admin_login.json"
SCRYPT_N, SCRYPT_R, SCRYPT_P = 1 << 14, 8, 1
CHECK_CACHE_SECONDS = 10.0


@dataclass(frozen=True, slots=True)
class Principal:
    name: str
    role: str

    def may(self, role: str) -> bool:
        """Admin may do everything; other roles only what routes name them for."""
        return role == ANY_LOGIN or self.role == ADMIN or self.role == role


MIN_PASSWORD_LENGTH = 12
MAX_PASSWORD_LENGTH = 1024  # sent in a Basic header, within the request-head limit
MAX_USERNAME_LENGTH = 64


def username_problem(username: str) -> str | None:
    """Why `username` cannot name a login, or None: Basic auth splits at the first
    colon, and a header holds no control character."""
    if 0 < len(username) <= MAX_USERNAME_LENGTH and ":" not in username and username.isprintable():
        return None
    return f"the user name must be 1 to {MAX_USERNAME_LENGTH} printable characters, without ':'"


def login_problem(username: str, password: str) -> str | None:
    """Why this login cannot be set (passwd, /session/set_password), or None."""
    problem = username_problem(username)
    if problem is not None:
        return problem
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"the password must be at least {MIN_PASSWORD_LENGTH} characters"
    if len(password) > MAX_PASSWORD_LENGTH:
        return f"the password may be at most {MAX_PASSWORD_LENGTH} characters"
    return None


def _scrypt(password: str, salt: bytes, n: int, r: int, p: int) -> bytes:
    return hashlib.scrypt(password.encode(), salt=salt, n=n, r=r, p=p, maxmem=64 << 20, dklen=32)


@dataclass(frozen=True, slots=True)
class StoredLogin:
    """An admin login as the data directory keeps it: a name and a scrypt hash."""

    username: str
    salt: bytes
    digest: bytes
    n: int = SCRYPT_N
    r: int = SCRYPT_R
    p: int = SCRYPT_P
    # Made at first start rather than chosen by someone, so the banner can say which
    # password works; None in files written before this was kept.
    generated: bool | None = None

    @classmethod
    def create(cls, username: str, password: str, generated: bool = False) -> StoredLogin:
        salt = secrets.token_bytes(16)
        digest = _scrypt(password, salt, SCRYPT_N, SCRYPT_R, SCRYPT_P)
        return cls(username, salt, digest, generated=generated)

    def verify(self, password: str) -> bool:
        return hmac.compare_digest(
            _scrypt(password, self.salt, self.n, self.r, self.p), self.digest
        )

    def dump(self) -> bytes:
        return orjson.dumps(
            {
                "username": self.username,
                "scrypt": {
                    "salt": self.salt.hex(),
                    "hash": self.digest.hex(),
                    "n": self.n,
                    "r": self.r,
                    "p": self.p,
                },
                "generated": self.generated,
            },
            option=orjson.OPT_INDENT_2,
        )

    @classmethod
    def load(cls, data: bytes) -> StoredLogin:
        doc = orjson.loads(data)
        s = doc["scrypt"]
        return cls(
            str(doc["username"]),
            bytes.fromhex(s["salt"]),
            bytes.fromhex(s["hash"]),
            int(s["n"]),
            int(s["r"]),
            int(s["p"]),
            doc.get("generated") if isinstance(doc.get("generated"), bool) else None,
        )


def login_key(username: str, password: str) -> bytes:
    """A digest naming one user-and-password pair, so that neither is kept as given."""
    return hashlib.sha256(b"%s\0%s" % (username.encode(), password.encode())).digest()


def generate_password() -> str:
    return secrets.token_urlsafe(15)


def save_login(data_dir: Path, username: str, password: str, generated: bool = False) -> None:
    login = StoredLogin.create(username, password, generated)
    write_private(data_dir / LOGIN_FILE, login.dump())


def load_login(data_dir: Path) -> StoredLogin | None:
    try:
        return StoredLogin.load((data_dir / LOGIN_FILE).read_bytes())
    except FileNotFoundError:
        return None


class LoginKeeper(Protocol):
    """Where the admin login is kept: the data directory, or a shared store."""

    def current(self) -> tuple[object, StoredLogin | None]:
        """The login and a version that changes whenever it does. Never blocks."""
        ...

    def save(self, login: StoredLogin) -> None:
        """Keep `login` in place of the current one (may block: call from a thread)."""
        ...

    def load(self) -> StoredLogin | None:
        """Read the login now (may block)."""
        ...

    def create(self, login: StoredLogin) -> bool:
        """Keep `login` unless there is a login already; False then (may block)."""
        ...

    @property
    def where(self) -> str:
        """Where it is kept, for messages."""
        ...


class FileLogin:
    """The login in the data directory's login file."""

    def __init__(self, data_dir: Path) -> None:
        self._data_dir = data_dir
        self._version: tuple[int, int] | None = None
        self._stored: StoredLogin | None = None

    def current(self) -> tuple[object, StoredLogin | None]:
        try:
            st = (self._data_dir / LOGIN_FILE).stat()
        except FileNotFoundError:
            self._version, self._stored = None, None
            return None, None
        version = (st.st_mtime_ns, st.st_ino)
        if version != self._version:
            self._stored, self._version = load_login(self._data_dir), version
        return self._version, self._stored

    def save(self, login: StoredLogin) -> None:
        write_private(self._data_dir / LOGIN_FILE, login.dump())

    def load(self) -> StoredLogin | None:
        return self.current()[1]

    def create(self, login: StoredLogin) -> bool:
        # The data directory is locked by the one server using it.
        if self.load() is not None:
            return False
        self.save(login)
        return True

    @property
    def where(self) -> str:
        return str(self._data_dir / LOGIN_FILE)


class LoginGuard:
    """Slows password guessing: after `limit` failures from one client within
    `window` seconds, its password attempts are refused until `window` seconds
    have passed without a failure. Tokens and sessions are not affected.

    An attempt counts as a failure from the moment it is let in (`reserve`), not when
    its slow check ends: otherwise any number of concurrent guesses would all pass the
    gate before the first failure is counted. A successful check gives it back."""

    def __init__(
        self, clock: Clock, limit: int = 10, window: float = 60.0, max_clients: int = 65536
    ) -> None:
        self._clock = clock
        self._limit = limit
        self._window = window
        self._max = max_clients
        self._failures: OrderedDict[str, list[float]] = OrderedDict()

    def retry_after(self, client: str) -> float | None:
        """Seconds until `client` may try a password again, or None if it may now."""
        times = self._failures.get(client)
        if times is None or len(times) < self._limit:
            return None
        wait = times[-1] + self._window - self._clock.now()
        return wait if wait > 0 else None

    def reserve(self, client: str) -> float | None:
        """Let one attempt of `client` in, counting it as failed until `succeeded`;
        or, when it may not try now, the seconds until it may (nothing is counted)."""
        wait = self.retry_after(client)
        if wait is None:
            self.failed(client)
        return wait

    def succeeded(self, client: str) -> None:
        """Give back the attempt `reserve` counted: the password was right."""
        times = self._failures.get(client)
        if times:
            times.pop()
            if not times:
                del self._failures[client]

    def failed(self, client: str) -> None:
        now = self._clock.now()
        recent = [t for t in self._failures.pop(client, ()) if now - t < self._window]
        recent.append(now)
        self._failures[client] = recent[-self._limit :]
        while len(self._failures) > self._max:
            self._failures.popitem(last=False)


class AdminLogin:
    """The admin user's credentials: fixed in a config file, or kept in the data directory."""

    def __init__(
        self,
        clock: Clock,
        keeper: LoginKeeper,
        configured: tuple[str, str] | None = None,
    ) -> None:
        self._clock = clock
        self._keeper = keeper
        self._configured = configured
        self._stored: StoredLogin | None = None
        self._version: object = None
        self._recent: OrderedDict[bytes, float] = OrderedDict()
        self._checking: dict[bytes, asyncio.Future[Principal | None]] = {}
        self._dummy: StoredLogin | None = None
        self._stored_stamp = b""
        self._config_stamp = (
            hashlib.sha256(f"config\0{configured[0]}\0{configured[1]}".encode()).digest()
            if configured is not None
            else b""
        )

    def _refresh(self) -> None:
        """Pick up a login changed by `kisalert passwd` (or another replica) while the
        server runs."""
        version, stored = self._keeper.current()
        if version != self._version:
            self._stored, self._version = stored, version
            self._stored_stamp = (
                hashlib.sha256(b"stored\0" + stored.salt + stored.digest).digest()
                if stored is not None
                else b""
            )
            self._recent.clear()

    @property
    def from_config(self) -> bool:
        return self._configured is not None

    @property
    def stamp(self) -> bytes:
        """Names the current credentials: it changes whenever the password is set,
        here, by `kisalert passwd` or in the config file, so sessions can end with the
        password they were made with. A digest, never the password's hash itself:
        sessions are kept in the data directory with it."""
        if self._configured is not None:
            return self._config_stamp
        self._refresh()
        return self._stored_stamp

    @property
    def username(self) -> str | None:
        if self._configured:
            return self._configured[0]
        self._refresh()
        return self._stored.username if self._stored else None

    def set_password(self, username: str, password: str) -> None:
        """Blocking (scrypt, and the keeper's write): run it in a thread."""
        self._keeper.save(StoredLogin.create(username, password))
        self._refresh()

    def _dummy_for(self, stored: StoredLogin | None) -> StoredLogin:
        """A login no password matches, hashed with the same cost as the real one."""
        n, r, p = (stored.n, stored.r, stored.p) if stored else (SCRYPT_N, SCRYPT_R, SCRYPT_P)
        dummy = self._dummy
        if dummy is None or (dummy.n, dummy.r, dummy.p) != (n, r, p):
            # No password hashes to all zero bytes: verify always fails.
            dummy = StoredLogin("", secrets.token_bytes(16), bytes(32), n, r, p)
            self._dummy = dummy
        return dummy

    def recall(self, username: str, password: str) -> Principal | None:
        """The login, if these are the configured credentials or ones `check` found
        right moments ago: known without the slow check (and without waiting)."""
        configured = self._configured
        if configured is not None:
            user_ok = hmac.compare_digest(username.encode(), configured[0].encode())
            pass_ok = hmac.compare_digest(password.encode(), configured[1].encode())
            return Principal(username, ADMIN) if user_ok and pass_ok else None
        self._refresh()
        remembered = self._recent.get(login_key(username, password))
        if remembered is not None and remembered > self._clock.now():
            return Principal(username, ADMIN)
        return None

    async def check(self, username: str, password: str) -> Principal | None:
        if self._configured is not None:
            return self.recall(username, password)
        self._refresh()
        stored = self._stored
        if stored is None or not hmac.compare_digest(username.encode(), stored.username.encode()):
            # As slow as a wrong password, so the time taken does not tell whether
            # the user name is right.
            await asyncio.to_thread(self._dummy_for(stored).verify, password)
            return None
        key = login_key(username, password)
        remembered = self._recent.get(key)
        if remembered is not None and remembered > self._clock.now():
            return Principal(username, ADMIN)
        checking = self._checking.get(key)
        if checking is None:
            # One check of these credentials at a time, whoever asks: a task of its
            # own, so that a client going away does not cancel it for the others.
            checking = asyncio.ensure_future(self._verify(stored, key, username, password))
            self._checking[key] = checking
        return await asyncio.shield(checking)

    def in_flight(self, username: str, password: str) -> bool:
        """Whether these very credentials are being checked now: a request with them
        waits for that check's answer rather than counting as another attempt."""
        return self._configured is None and login_key(username, password) in self._checking

    async def _verify(
        self, stored: StoredLogin, key: bytes, username: str, password: str
    ) -> Principal | None:
        try:
            # scrypt takes tens of milliseconds and releases the GIL: off the loop.
            if not await asyncio.to_thread(stored.verify, password):
                return None
            if self._stored is not stored:  # changed while we were checking
                return None
            self._recent[key] = self._clock.now() + CHECK_CACHE_SECONDS
            while len(self._recent) > 64:
                self._recent.popitem(last=False)
            return Principal(username, ADMIN)
        finally:
            self._checking.pop(key, None)
