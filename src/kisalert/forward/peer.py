"""What every network output reads from its options the same way: the peer's
`scheme://HOST:PORT`, true/false flags, and the TLS context of `tls_ca=` and
`tls_verify=`."""

from __future__ import annotations

import os
import ssl
import urllib.parse
from collections.abc import Mapping

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
    except ValueError:
        raise SpecError(f"{key}={text!r} has a port that is not a number") from None
    if not parts.hostname:
        raise SpecError(f"{key}={text!r} names no host")
    if port == 0 or parts.path not in ("", "/"):
        raise SpecError(f"{key}={text!r}: use {scheme}://HOST:PORT")
    return parts.hostname, port or default_port


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
