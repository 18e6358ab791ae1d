"""Login sessions: the opaque token a password login gets (the `KISMET` cookie).

Sessions live in the store, so that a cookie issued by one server works on every
server sharing it (scale.md); they expire `httpd_session_timeout` seconds after the
login, and when the admin password they were made with is changed.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections import OrderedDict

from kisalert.auth import AdminLogin, Principal, login_key
from kisalert.clock import Clock
from kisalert.credentials import Session
from kisalert.store import Store

MAX_LOGINS_REMEMBERED = 4096


def session_digest(token: str) -> bytes:
    """What a session is kept under: never the token itself, and a lookup's time says
    nothing about a live token."""
    return hashlib.sha256(token.encode()).digest()


class Sessions:
    def __init__(
        self, store: Store, clock: Clock, timeout: float, login: AdminLogin | None = None
    ) -> None:
        self._store = store
        self._clock = clock
        self._timeout = timeout
        # Which session each password login got here: clients that send Basic auth on
        # every request and never return the cookie get one session, not one per
        # request. Only this process's memory; the sessions themselves are shared.
        self._by_login: OrderedDict[bytes, str] = OrderedDict()
        # The login whose password sessions depend on. Given by the server; without
        # it, known from the first password session made here. Another server sharing
        # the store may have made a session before this one has seen any login.
        self._login: AdminLogin | None = login

    async def for_login(
        self,
        principal: Principal,
        username: str,
        password: str,
        login: AdminLogin | None = None,
        stamp: bytes | None = None,
    ) -> str:
        """The session of a password login, reused while it lives. With `login`, the
        session ends when that login's password changes from the one `stamp` names
        (taken before the password was checked)."""
        stamp = self._remember_login(login, stamp)
        key = login_key(username, password)
        token = self._by_login.get(key)
        if token is not None:
            session = await self._live(session_digest(token))
            if (
                session is not None
                and session.principal == principal
                and session.login_stamp == stamp
            ):
                return token
        token = await self.create(principal, stamp)
        self._by_login[key] = token
        while len(self._by_login) > MAX_LOGINS_REMEMBERED:
            self._by_login.popitem(last=False)
        return token

    async def for_new_login(
        self, principal: Principal, login: AdminLogin | None = None, stamp: bytes | None = None
    ) -> str:
        """A session of its own for a password login that is ended on its own (the
        console's, whose logout must not end another browser's or a script's)."""
        return await self.create(principal, self._remember_login(login, stamp))

    def _remember_login(self, login: AdminLogin | None, stamp: bytes | None) -> bytes | None:
        """Keep `login` to check sessions against; the stamp a new session takes."""
        if login is None:
            return stamp
        self._login = login
        return login.stamp if stamp is None else stamp

    async def create(self, principal: Principal, login_stamp: bytes | None = None) -> str:
        token = secrets.token_hex(16).upper()
        expires = self._clock.now() + self._timeout
        session = Session(principal, expires, login_stamp)
        await self._store.add_session(session_digest(token), session)
        return token

    async def expiry(self, token: str) -> float:
        """When the session behind `token` ends (0 if it is not live)."""
        session = await self._live(session_digest(token))
        return session.expires if session is not None else 0.0

    async def get(self, token: str) -> Principal | None:
        """The login behind `token`, if it is a live session."""
        session = await self._live(session_digest(token))
        return session.principal if session is not None else None

    async def end(self, token: str) -> bool:
        """Ends the session behind `token` (a logout); False if it was not one."""
        digest = session_digest(token)
        if await self._store.session(digest) is None:
            return False
        await self._store.remove_session(digest)
        return True

    async def _live(self, digest: bytes) -> Session | None:
        """The session kept under `digest` if it lives; a dead one is forgotten."""
        session = await self._store.session(digest)
        if session is None:
            return None
        if self._clock.now() >= session.expires or self._same_password(session) is False:
            await self._store.remove_session(digest)
            return None
        if self._same_password(session) is None:
            # Refused, not trusted; but kept: another server may know the login.
            return None
        return session

    def _same_password(self, session: Session) -> bool | None:
        """Whether the session's password is the login's now; None if this process
        cannot tell."""
        if session.login_stamp is None:
            return True
        if self._login is None:
            return None
        return hmac.compare_digest(self._login.stamp, session.login_stamp)
