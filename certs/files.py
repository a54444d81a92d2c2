"""Durable file writes and the CA directory lock.

Every file Cordon replaces (the CA's, keys, state files, settings, evidence bundles)
goes through :func:`write_atomic`: the bytes go to a
temporary file in the same directory, created with its final mode, fsynced,
then renamed over the target with :func:`os.replace`, and the directory is
fsynced. A reader sees the old file or the new one, never a torn one; a crash
leaves at worst a stray ``.<name>.<random>.tmp`` file.
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import secrets
from collections.abc import Iterator
from pathlib import Path

__all__ = ["KEY_MODE", "PUBLIC_MODE", "locked", "write_atomic"]

#: Private keys: owner read/write only.
KEY_MODE = 0o600
#: Certificates, CRL, index: world-readable, owner-writable.
PUBLIC_MODE = 0o644

_LOCK_NAME = ".lock"


def _fsync_dir(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_atomic(path: Path, data: bytes, *, mode: int) -> None:
    """Replace ``path`` with ``data`` atomically; the file ends up with exactly ``mode``."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(8)}.tmp")
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC
    fd = os.open(tmp, flags, mode)
    try:
        try:
            os.fchmod(fd, mode)  # the umask may have removed bits we want (0644)
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    _fsync_dir(path.parent)


@contextlib.contextmanager
def locked(directory: Path) -> Iterator[None]:
    """Hold an exclusive :func:`fcntl.flock` on ``<directory>/.lock`` (blocking)."""
    fd = os.open(directory / _LOCK_NAME, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, KEY_MODE)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
