"""The TLS certificate and key `serve` is given, checked before anything is announced.

OpenSSL's own answer to a bad pair is "PEM lib", after the banner, from deep inside the
server; and for an encrypted key it asks for a passphrase on the terminal, which a
service started by systemd does not have. Here the pair is loaded once up front and a
failure is told in one line that names the file and what is wrong with it.
"""

from __future__ import annotations

import ssl
from pathlib import Path

_PRIVATE_KEY = b"PRIVATE KEY-----"
_CERTIFICATE = b"-----BEGIN CERTIFICATE-----"
_SNIFF = 1 << 20  # a certificate chain is a few KiB; enough to tell what a file holds


class TlsError(Exception):
    """The pair cannot serve; str() is the one line to print."""


class _Encrypted(Exception):
    pass


def _no_passphrase() -> bytes:
    # OpenSSL asks this only for an encrypted key: fail at once instead of prompting.
    raise _Encrypted


def _head(path: Path, option: str) -> bytes:
    try:
        with path.open("rb") as file:
            return file.read(_SNIFF)
    except OSError as exc:
        raise TlsError(f"cannot read {option} {path}: {exc.strerror}") from None


def _holds_certificate(path: Path) -> bool:
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_verify_locations(cafile=path)
    except (ssl.SSLError, OSError):
        return False
    return True


def check_pair(cert: Path, key: Path) -> None:
    """Raises TlsError unless `cert` and `key` load as a server's certificate and key."""
    cert_text = _head(cert, "--tls-cert")
    key_text = _head(key, "--tls-key")
    try:
        ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER).load_cert_chain(cert, key, _no_passphrase)
        return
    except _Encrypted:
        raise TlsError(f"--tls-key {key} is encrypted; kisalert needs an unencrypted key") from None
    except ssl.SSLError as exc:
        failure = exc
    except OSError as exc:  # the file changed since it was read above
        raise TlsError(f"cannot read --tls-cert {cert} or --tls-key {key}: {exc}") from None
    if failure.reason == "KEY_VALUES_MISMATCH":
        raise TlsError(f"the key in {key} does not match the certificate in {cert}")
    if not _holds_certificate(cert):
        swapped = _PRIVATE_KEY in cert_text
        hint = " (did you swap --tls-cert and --tls-key?)" if swapped else ""
        raise TlsError(f"--tls-cert {cert} is not a PEM certificate{hint}")
    if _PRIVATE_KEY not in key_text:
        hint = " (it holds a certificate)" if _CERTIFICATE in key_text else ""
        raise TlsError(f"--tls-key {key} is not a PEM private key{hint}")
    raise TlsError(f"cannot use --tls-cert {cert} with --tls-key {key}: {failure}")
