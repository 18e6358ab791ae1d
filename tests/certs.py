"""Test certificates, made with the `openssl` command line."""

from __future__ import annotations

import subprocess
from pathlib import Path


def self_signed(where: Path, name: str = "") -> tuple[Path, Path]:
    """A self-signed certificate for 127.0.0.1 and its unencrypted key, in `where`."""
    cert, key = where / f"{name}cert.pem", where / f"{name}key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec",
            "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "2",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return cert, key
