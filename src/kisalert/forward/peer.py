"""What every network output reads from its options the same way: the peer's
`scheme://HOST:PORT`, true/false flags, the TLS context of `tls_ca=` and
`tls_verify=`, and templates with `{placeholders}`."""

from __future__ import annotations

import os
import re
import ssl
import urllib.parse
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from kisalert.forward.base import SpecError


def flag(options: Mapping[str, str], key: str, default: bool) -> bool:
    text = options.get(key, str(default)).lower()
    if text not in ("true", "false"):
        raise SpecError(f"{key} needs true or false, not {text!r}")
    return text == "true"


def host_port(
    parts: urllib.parse.SplitResult, key: str, text: str, scheme: str, default_port: int
) -> tuple[str, int]:
    """The host and port of `key=text` (already split): a number, not 0, and no path
    after them but a `/`. Raises SpecError."""
    try:
        port = parts.port
    except ValueError as exc:
        what = "out of range (1-65535)" if "range" in str(exc) else "not a number"
        raise SpecError(f"{key}={text!r} has a port that is {what}") from None
    if not parts.hostname:
        raise SpecError(f"{key}={text!r} names no host")
    if port == 0:
        raise SpecError(f"{key}={text!r} has port 0: use a port from 1 to 65535")
    if parts.path not in ("", "/"):
        raise SpecError(f"{key}={text!r}: use {scheme}://HOST:PORT")
    return parts.hostname, port or default_port


@dataclass(frozen=True, slots=True)
class Peer:
    """A server an output connects to: `scheme://HOST[:PORT]`, nothing more."""

    scheme: str
    host: str
    port: int

    @classmethod
    def parse(cls, key: str, text: str, default_ports: Mapping[str, int], what: str) -> Peer:
        """`key=text`, one of `default_ports`' schemes; `what` the peer is ("the
        broker"). Credentials in the URL are refused first, so that no message repeats
        a password. Raises SpecError."""
        parts = split_url(key, text)
        if "@" in parts.netloc:
            raise SpecError(f"give {what}'s credentials as username= and password=")
        scheme = parts.scheme.lower()
        if scheme not in default_ports:
            forms = " or ".join(f"{known}://HOST:PORT" for known in default_ports)
            raise SpecError(f"{key}={text!r} must be {forms}")
        host, port = host_port(parts, key, text, scheme, default_ports[scheme])
        if parts.query or parts.fragment:
            raise SpecError(f"{key}={text!r}: use {scheme}://HOST:PORT")
        return cls(scheme, host, port)

    def __str__(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


def split_url(key: str, text: str) -> urllib.parse.SplitResult:
    """`key=text` split as a URL. Raises SpecError (not repeating the URL, which may
    hold a secret) where urlsplit raises ValueError: an IPv6 address without its
    closing bracket."""
    try:
        return urllib.parse.urlsplit(text.strip())
    except ValueError:
        raise SpecError(f"{key}= is not a usable URL (an IPv6 address goes in [ ])") from None


PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def template_parts(key: str, text: str, placeholders: Sequence[str]) -> tuple[str, ...]:
    """`key=text` split into literal text and placeholder names, alternating (the
    names are `parts[1::2]`). Raises SpecError for an unknown name or a stray brace."""
    pieces = PLACEHOLDER.split(text)
    for name in pieces[1::2]:
        if name not in placeholders:
            known = ", ".join("{" + known + "}" for known in placeholders)
            raise SpecError(f"{key}={text!r}: unknown placeholder {{{name}}}; use {known}")
    literal = "".join(pieces[0::2])
    if "{" in literal or "}" in literal:
        raise SpecError(f"{key}={text!r}: a '{{' or '}}' outside a placeholder")
    return tuple(pieces)


def tls_context(options: Mapping[str, str], secure: bool, needs: str) -> ssl.SSLContext | None:
    """The context for a TLS peer (`secure`), verified unless `tls_verify=false`,
    against `tls_ca=` if given; None for a plain one, which may not have either option
    (`needs` says what would: "a tls:// target")."""
    verify = flag(options, "tls_verify", True)
    ca = options.get("tls_ca")
    if not secure:
        if ca is not None or "tls_verify" in options:
            raise SpecError(f"tls_ca and tls_verify need {needs}")
        return None
    try:
        context = ssl.create_default_context(cafile=os.path.expanduser(ca) if ca else None)
    except (OSError, ssl.SSLError) as exc:
        raise SpecError(f"tls_ca={ca!r}: {getattr(exc, 'strerror', None) or exc}") from None
    if not verify:
        # For testing against a self-signed peer only: anyone can pose as it.
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    return context
