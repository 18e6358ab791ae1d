"""Login sessions in the data directory: how the memory store keeps them across a
restart, as Kismet keeps its own, so a browser's cookie outlives an upgrade.

Only what checking a cookie needs is kept, never a token: the token's SHA-256, the
login's name and role, the expiry, and the digest that names the password the
session was made with (AdminLogin.stamp). A session is a convenience: a file that
cannot be read costs the sessions, with a warning, not the server's start.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import orjson

from kisalert.auth import Principal
from kisalert.credentials import Session
from kisalert.datadir import warn_unreadable, write_private

SESSIONS_FILE = "sessions.json"


class SessionFile:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self, now: float) -> list[tuple[bytes, Session]]:
        """The sessions saved last that are still live at `now`, oldest first."""
        try:
            entries = orjson.loads(self.path.read_bytes())
            if not isinstance(entries, list):
                raise TypeError
            sessions = [self._entry(entry) for entry in entries]
        except FileNotFoundError:
            return []
        except (OSError, orjson.JSONDecodeError, TypeError, KeyError, ValueError) as exc:
            then = "browsers must log in again"
            warn_unreadable(self.path, "the login sessions", exc, "a session list", then)
            return []
        return [(digest, session) for digest, session in sessions if now < session.expires]

    @staticmethod
    def _entry(entry: dict[str, object]) -> tuple[bytes, Session]:
        digest = bytes.fromhex(str(entry["digest"]))
        expires = entry["expires"]
        name, role = entry["name"], entry["role"]
        stamp = entry["stamp"]
        if (
            len(digest) != 32
            or not isinstance(expires, (int, float))
            or not isinstance(name, str)
            or not isinstance(role, str)
            or not (stamp is None or isinstance(stamp, str))
        ):
            raise ValueError
        login_stamp = None if stamp is None else bytes.fromhex(stamp)
        return digest, Session(Principal(name, role), float(expires), login_stamp)

    def save(self, sessions: Iterable[tuple[bytes, Session]], now: float) -> None:
        entries = [
            {
                "digest": digest.hex(),
                "name": session.principal.name,
                "role": session.principal.role,
                "expires": session.expires,
                "stamp": None if session.login_stamp is None else session.login_stamp.hex(),
            }
            for digest, session in sessions
            if now < session.expires
        ]
        write_private(self.path, orjson.dumps(entries))
