"""The data directory: where the admin login, the API keys and the alert log live."""

from __future__ import annotations

import fcntl
import os
import sys
from pathlib import Path

LOCK_FILE = "kisalert.lock"


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


def create_private(path: Path) -> None:
    """Create `path` empty and readable only by its owner, if it does not exist yet.

    For files other code (SQLite) opens by name: it would create them 0666 less the
    umask, and SQLite gives a database's -wal and -shm files its mode, so settling the
    main file's mode first settles theirs.

    An existing file is never opened here: closing any descriptor of a file drops
    every POSIX lock this process holds on it, SQLite's included, and a log whose
    locks vanish while open can have its WAL checkpointed away by another reader."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def make_private(*paths: Path) -> None:
    """Take group and other access off those of `paths` that exist (say, files an
    older version created 0644)."""
    for path in paths:
        try:
            mode = os.stat(path).st_mode
            if mode & 0o077:
                os.chmod(path, mode & 0o700)
        except FileNotFoundError:
            pass


class DataDirLock:
    """This process's hold on a data directory; released when closed or when the
    process ends, however it ends (the kernel drops the lock with the descriptor)."""

    def __init__(self, *fds: int) -> None:
        self._fds = list(fds)

    def close(self) -> None:
        while self._fds:
            os.close(self._fds.pop())


def lock(path: Path, instead: str = "use another --data-dir") -> DataDirLock:
    """Take the data directory for this process alone: two servers on one directory
    would each give out alert ids the other does not know of, and overwrite each
    other's API keys. Raises DataDirError naming the holder if it is taken, and
    what to do `instead` of stopping it.

    The lock is on the directory itself; `kisalert.lock` names the process holding
    it. Held on that file alone, it was gone with the file: deleting a lock that
    looked stale let a second server start, and both gave out the same ids."""
    try:
        dir_fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    except OSError as exc:
        raise DataDirError(f"cannot lock data directory {path}: {exc.strerror}") from None
    try:
        fd = os.open(path / LOCK_FILE, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
    except OSError as exc:
        os.close(dir_fd)
        raise DataDirError(f"cannot lock data directory {path}: {exc.strerror}") from None
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        holder = os.read(fd, 32).decode("ascii", "replace").strip()
        os.close(fd)
        os.close(dir_fd)
        who = f"kisalert process {holder}" if holder.isdigit() else "another kisalert process"
        raise DataDirError(
            f"data directory {path} is in use by {who}; stop it first, or {instead}"
        ) from None
    os.ftruncate(fd, 0)
    os.write(fd, f"{os.getpid()}\n".encode())
    return DataDirLock(dir_fd, fd)


def warn_unreadable(path: Path, what: str, exc: Exception, kind: str, then: str) -> None:
    """One line on stderr for a data file whose loss costs a convenience, not the
    start: what could not be read, why (the OS's reason, or that it is not `kind`),
    and what `then` happens."""
    reason = exc if isinstance(exc, OSError) else f"not {kind}"
    print(f"kisalert: warning: cannot read {what} in {path} ({reason}); {then}", file=sys.stderr)
