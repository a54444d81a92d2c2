"""The desktop's local cache: one SQLite file per hub and principal, in the user's data dir.

It keeps exactly what the hub delivered — each alert's signed bytes and
signature, by channel and offset — plus the signers' certificates, the
channel list, each channel's subscription cursor (epoch and last offset
processed) and the last offset the officer has read. It never stores a
verification *result*: rows are verified again, on this machine, against the
CA when they are loaded (:mod:`client.desktop.verify`), so a row altered on
disk shows as failed exactly like an alert forged on the wire.

An alert and the cursor that passes it are written in one transaction, so
after a crash the subscription resumes right after the last stored alert.

The cache holds every handling-coded record of the officer's channels: its
folder is made 0700 and the database (with its ``-wal`` and ``-shm`` files,
which SQLite creates with the database's mode) 0600, also when an older
cache was more open.
"""

from __future__ import annotations

import hashlib
import os
import sqlite3
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Cache", "CachedChannel", "StoredItem", "cache_path", "private_dir", "private_file"]

_SCHEMA_VERSION = 1
_SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS channels (
    ch TEXT PRIMARY KEY,
    title TEXT NOT NULL DEFAULT '',
    role TEXT NOT NULL DEFAULT '',
    state TEXT NOT NULL DEFAULT '',
    head INTEGER NOT NULL DEFAULT 0,
    epoch TEXT,
    cursor INTEGER,
    read_off INTEGER NOT NULL DEFAULT 0,
    complete INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS alerts (
    ch TEXT NOT NULL,
    off INTEGER NOT NULL,
    alert BLOB NOT NULL,
    sig BLOB NOT NULL,
    PRIMARY KEY (ch, off)
) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS certs (kid TEXT PRIMARY KEY, der BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS attachments (
    sha256 TEXT PRIMARY KEY, media TEXT NOT NULL, data BLOB NOT NULL
);
"""

StoredItem = tuple[int, bytes, bytes]  # (offset, alert bytes, signature)


@dataclass(frozen=True, slots=True)
class CachedChannel:
    channel: str
    title: str
    role: str
    state: str
    head: int
    epoch: str | None
    cursor: int | None
    read_off: int
    complete: bool


def private_dir(path: Path) -> Path:
    """Create ``path`` (and parents) and make it readable by the user only (0700)."""
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` if needed, readable and writable by the user only (0600)."""
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)
    return path


def cache_path(data_dir: Path, hub_url: str, principal: str) -> Path:
    """The cache file of one principal on one hub (so two accounts never mix)."""
    digest = hashlib.sha256(f"{hub_url}\n{principal}".encode()).hexdigest()[:16]
    return Path(data_dir) / f"cache-{digest}.sqlite3"


class Cache:
    """Synchronous SQLite access (small, indexed statements: fast enough for the GUI thread)."""

    def __init__(self, path: Path) -> None:
        self.path = Path(path)
        private_dir(self.path.parent)
        private_file(self.path)
        for suffix in ("-wal", "-shm", "-journal"):
            side = self.path.with_name(self.path.name + suffix)
            if side.exists():
                private_file(side)
        self._db = sqlite3.connect(str(self.path), isolation_level=None)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")
        self._db.executescript(_SCHEMA)
        self._db.execute(
            "INSERT OR IGNORE INTO meta(key, value) VALUES ('schema', ?)", (str(_SCHEMA_VERSION),)
        )

    def close(self) -> None:
        self._db.close()

    # --- channels -------------------------------------------------------------
    def save_channels(self, rows: Iterable[tuple[str, str, str, str, int]]) -> None:
        """Upsert ``(channel, title, role, state, head)`` rows from the hub's channel list."""
        with self._tx():
            for ch, title, role, state, head in rows:
                self._db.execute(
                    "INSERT INTO channels(ch, title, role, state, head) VALUES (?, ?, ?, ?, ?) "
                    "ON CONFLICT(ch) DO UPDATE SET title=excluded.title, role=excluded.role, "
                    "state=excluded.state, head=MAX(channels.head, excluded.head)",
                    (ch, title, role, state, head),
                )

    def channels(self) -> list[CachedChannel]:
        cur = self._db.execute(
            "SELECT ch, title, role, state, head, epoch, cursor, read_off, complete "
            "FROM channels ORDER BY ch"
        )
        return [
            CachedChannel(r[0], r[1], r[2], r[3], r[4], r[5], r[6], r[7], bool(r[8]))
            for r in cur.fetchall()
        ]

    def channel(self, ch: str) -> CachedChannel | None:
        for row in self.channels():
            if row.channel == ch:
                return row
        return None

    def _ensure(self, ch: str) -> None:
        self._db.execute("INSERT OR IGNORE INTO channels(ch) VALUES (?)", (ch,))

    def reset_channel(self, ch: str, epoch: str | None = None) -> None:
        """Forget a channel's alerts and cursor (its epoch changed: offsets mean something else)."""
        with self._tx():
            self._ensure(ch)
            self._db.execute("DELETE FROM alerts WHERE ch = ?", (ch,))
            self._db.execute(
                "UPDATE channels SET epoch = ?, cursor = NULL, read_off = 0, complete = 0 "
                "WHERE ch = ?",
                (epoch, ch),
            )

    # --- alerts -----------------------------------------------------------------
    def add_alerts(
        self,
        ch: str,
        epoch: str,
        items: Iterable[StoredItem],
        *,
        cursor: int | None = None,
    ) -> None:
        """Store alerts (existing offsets are kept) and, in the same transaction, the cursor."""
        with self._tx():
            self._ensure(ch)
            self._db.executemany(
                "INSERT OR IGNORE INTO alerts(ch, off, alert, sig) VALUES (?, ?, ?, ?)",
                [(ch, off, alert, sig) for off, alert, sig in items],
            )
            self._db.execute(
                "UPDATE channels SET epoch = ?, head = MAX(head, COALESCE("
                "(SELECT MAX(off) FROM alerts WHERE ch = ?), 0)) WHERE ch = ?",
                (epoch, ch, ch),
            )
            if cursor is not None:
                self._db.execute(
                    "UPDATE channels SET cursor = MAX(COALESCE(cursor, 0), ?) WHERE ch = ?",
                    (cursor, ch),
                )

    def set_cursor(self, ch: str, epoch: str, cursor: int) -> None:
        with self._tx():
            self._ensure(ch)
            self._db.execute(
                "UPDATE channels SET epoch = ?, cursor = ? WHERE ch = ?", (epoch, cursor, ch)
            )

    def set_complete(self, ch: str, complete: bool = True) -> None:
        """Record that the cache reaches back to the hub's first retained alert."""
        with self._tx():
            self._ensure(ch)
            self._db.execute("UPDATE channels SET complete = ? WHERE ch = ?", (int(complete), ch))

    def newest(self, ch: str, limit: int) -> list[StoredItem]:
        """The newest ``limit`` cached alerts of ``ch``, ascending."""
        cur = self._db.execute(
            "SELECT off, alert, sig FROM alerts WHERE ch = ? ORDER BY off DESC LIMIT ?",
            (ch, limit),
        )
        return list(reversed(cur.fetchall()))

    def older(self, ch: str, before: int, limit: int) -> list[StoredItem]:
        """Up to ``limit`` cached alerts with offset < ``before``, ascending."""
        cur = self._db.execute(
            "SELECT off, alert, sig FROM alerts WHERE ch = ? AND off < ? ORDER BY off DESC LIMIT ?",
            (ch, before, limit),
        )
        return list(reversed(cur.fetchall()))

    def oldest_offset(self, ch: str) -> int | None:
        row = self._db.execute("SELECT MIN(off) FROM alerts WHERE ch = ?", (ch,)).fetchone()
        return None if row is None or row[0] is None else int(row[0])

    def count(self, ch: str) -> int:
        row = self._db.execute("SELECT COUNT(*) FROM alerts WHERE ch = ?", (ch,)).fetchone()
        return int(row[0])

    # --- read marks ---------------------------------------------------------------
    def mark_read(self, ch: str, offset: int) -> None:
        with self._tx():
            self._ensure(ch)
            self._db.execute(
                "UPDATE channels SET read_off = MAX(read_off, ?) WHERE ch = ?", (offset, ch)
            )

    def unread(self, ch: str) -> int:
        row = self._db.execute(
            "SELECT COUNT(*) FROM alerts a JOIN channels c ON a.ch = c.ch "
            "WHERE a.ch = ? AND a.off > c.read_off",
            (ch,),
        ).fetchone()
        return int(row[0])

    # --- certificates -------------------------------------------------------------
    def add_certs(self, certs: dict[str, bytes]) -> None:
        with self._tx():
            self._db.executemany(
                "INSERT OR IGNORE INTO certs(kid, der) VALUES (?, ?)", list(certs.items())
            )

    def certs(self) -> dict[str, bytes]:
        return {kid: bytes(der) for kid, der in self._db.execute("SELECT kid, der FROM certs")}

    # --- attachments (photos, by SHA-256; checked against it when fetched) ---------
    def add_attachment(self, sha256: str, media: str, data: bytes) -> None:
        with self._tx():
            self._db.execute(
                "INSERT OR IGNORE INTO attachments(sha256, media, data) VALUES (?, ?, ?)",
                (sha256, media, data),
            )

    def attachment(self, sha256: str) -> tuple[str, bytes] | None:
        row = self._db.execute(
            "SELECT media, data FROM attachments WHERE sha256 = ?", (sha256,)
        ).fetchone()
        return None if row is None else (str(row[0]), bytes(row[1]))

    # --- internals -----------------------------------------------------------------
    def _tx(self) -> _Transaction:
        return _Transaction(self._db)


class _Transaction:
    def __init__(self, db: sqlite3.Connection) -> None:
        self._db = db

    def __enter__(self) -> None:
        self._db.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        self._db.execute("COMMIT" if exc_type is None else "ROLLBACK")
