"""The data directory: where the admin login (and later the log and keys) live."""

from __future__ import annotations

import os
from pathlib import Path


class DataDirError(Exception):
    """The data directory cannot be used; str() says why."""


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or os.path.join(os.path.expanduser("~"), ".local/share")
    return Path(base) / "kisalert"


def prepare(path: Path) -> Path:
    """Create `path` (mode 0700) if needed and check that it is writable."""
    path = path.expanduser().absolute()
    try:
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    except OSError as exc:
        raise DataDirError(f"cannot create data directory {path}: {exc.strerror}") from None
    if not path.is_dir():
        raise DataDirError(f"data directory {path} is not a directory")
    probe = path / f".write-test-{os.getpid()}"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        raise DataDirError(f"data directory {path} is not writable: {exc.strerror}") from None
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write a file readable only by its owner, replacing any old one atomically."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
