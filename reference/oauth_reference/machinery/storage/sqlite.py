"""SQLite storage: one table, WAL journal, every commit one ``BEGIN IMMEDIATE`` transaction.

Durable across restarts and safe for several processes on one file: the immediate transaction
takes the write lock before the version checks, so a conditional commit in one process cannot
interleave with another's. A process killed mid-commit leaves the previous state (SQLite's
atomic commit). Calls run inline on the event loop: a local SQLite statement takes microseconds,
less than a hop to a thread would.
"""

from __future__ import annotations

import random
import sqlite3
import threading
from collections.abc import Mapping
from collections.abc import Sequence
from pathlib import Path

import orjson

from oauth_reference.machinery.clock import Clock
from oauth_reference.machinery.clock import base_now
from oauth_reference.machinery.storage import Delete
from oauth_reference.machinery.storage import DeletePrefix
from oauth_reference.machinery.storage import Entry
from oauth_reference.machinery.storage import ListedKey
from oauth_reference.machinery.storage import Page
from oauth_reference.machinery.storage import Put
from oauth_reference.machinery.storage import StorageUnavailableError
from oauth_reference.machinery.storage import Write
from oauth_reference.machinery.storage import check_limit
from oauth_reference.machinery.storage import prefix_end

_SCHEMA = """
CREATE TABLE IF NOT EXISTS kv (
    key TEXT PRIMARY KEY,
    value BLOB NOT NULL,
    version INTEGER NOT NULL,
    expires_at REAL,
    metadata BLOB
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS kv_expiry ON kv (expires_at) WHERE expires_at IS NOT NULL;
"""
_SWEEP_EVERY = 512  # commits between sweeps of expired rows


class SQLiteStorage:
    def __init__(self, path: str, clock: Clock, *, busy_timeout_ms: int = 5000) -> None:
        self._clock = clock
        self.path = path
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute(f"PRAGMA busy_timeout = {int(busy_timeout_ms)}")
        self._db.execute("PRAGMA journal_mode = WAL")
        self._db.execute("PRAGMA synchronous = NORMAL")
        self._db.executescript(_SCHEMA)
        self._lock = threading.Lock()
        self._commits = 0

    async def get(self, key: str) -> Entry | None:
        now = self._clock.now()
        with self._lock:
            try:
                row = self._db.execute(
                    "SELECT value, version, expires_at, metadata FROM kv WHERE key = ?"
                    " AND (expires_at IS NULL OR expires_at > ?)",
                    (key, now),
                ).fetchone()
            except sqlite3.OperationalError as exc:
                raise StorageUnavailableError(str(exc)) from exc
        if row is None:
            return None
        return Entry(row[0], row[1], row[2], orjson.loads(row[3]) if row[3] is not None else None)

    async def list(self, prefix: str, *, limit: int = 1000, cursor: str | None = None) -> Page:
        limit = check_limit(limit)
        now = self._clock.now()
        low = cursor if cursor and cursor >= prefix else None
        with self._lock:
            try:
                rows = self._db.execute(
                    "SELECT key, expires_at, metadata FROM kv WHERE key >= ? AND key < ?"  # noqa: S608
                    + (" AND key > ?" if low is not None else "")
                    + " AND (expires_at IS NULL OR expires_at > ?) ORDER BY key LIMIT ?",
                    (prefix, prefix_end(prefix), *((low,) if low is not None else ()), now, limit + 1),
                ).fetchall()
            except sqlite3.OperationalError as exc:
                raise StorageUnavailableError(str(exc)) from exc
        keys = [ListedKey(r[0], r[1], orjson.loads(r[2]) if r[2] is not None else None) for r in rows[:limit]]
        return Page(keys, keys[-1].name if len(rows) > limit else None)

    async def commit(self, writes: Sequence[Write], *, expect: Mapping[str, int | None] | None = None) -> bool:
        now = self._clock.now()
        with self._lock:
            db = self._db
            try:
                db.execute("BEGIN IMMEDIATE")  # write lock before the checks: ROBUST-HOSTILE-CONCURRENT-CODE
            except sqlite3.OperationalError as exc:
                raise StorageUnavailableError(str(exc)) from exc
            try:
                for key, version in (expect or {}).items():
                    row = db.execute(
                        "SELECT version FROM kv WHERE key = ? AND (expires_at IS NULL OR expires_at > ?)",
                        (key, now),
                    ).fetchone()
                    if (None if row is None else row[0]) != version:
                        db.execute("ROLLBACK")
                        return False
                for write in writes:
                    if isinstance(write, Put):
                        db.execute(
                            "INSERT OR REPLACE INTO kv (key, value, version, expires_at, metadata)"
                            " VALUES (?, ?, ?, ?, ?)",
                            (
                                write.key,
                                write.value,
                                random.getrandbits(62),
                                write.expires_at,
                                orjson.dumps(write.metadata) if write.metadata is not None else None,
                            ),
                        )
                    elif isinstance(write, Delete):
                        db.execute("DELETE FROM kv WHERE key = ?", (write.key,))
                    elif isinstance(write, DeletePrefix):
                        db.execute(
                            "DELETE FROM kv WHERE key >= ? AND key < ?",
                            (write.prefix, prefix_end(write.prefix)),
                        )
                self._commits += 1
                if self._commits % _SWEEP_EVERY == 0:
                    # Purge by the base clock: a request's own time travel only hides entries.
                    db.execute(
                        "DELETE FROM kv WHERE expires_at IS NOT NULL AND expires_at <= ?", (base_now(self._clock),)
                    )
                db.execute("COMMIT")
            except BaseException as exc:
                if db.in_transaction:
                    db.execute("ROLLBACK")
                if isinstance(exc, sqlite3.OperationalError):
                    raise StorageUnavailableError(str(exc)) from exc
                raise
            return True

    def integrity_check(self) -> str:
        with self._lock:
            return str(self._db.execute("PRAGMA integrity_check").fetchone()[0])

    async def close(self) -> None:
        with self._lock:
            self._db.close()
