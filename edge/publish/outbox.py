"""A durable, bounded outbox: every event stays on disk until the hub acknowledges it.

SQLite in WAL mode, one connection guarded by a lock. A ``put`` that returned is committed,
so a process kill (SIGKILL) loses nothing already put; ``fsync`` also covers power loss.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from uuid import UUID

from edge.publish.config import OutboxConfig
from models import PassageEvent, encode

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY,
    event_id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    sent_at REAL,
    sends INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS counters (name TEXT PRIMARY KEY, value INTEGER NOT NULL);
INSERT OR IGNORE INTO counters (name, value) VALUES ('dropped', 0);
"""


@dataclass(frozen=True)
class OutboxEntry:
    """One stored event: its encoded payload and how often it was sent."""

    event_id: UUID
    payload: bytes
    sends: int
    sent_at: float | None


class Outbox:
    """Events in insertion order, kept until :meth:`remove`; thread-safe."""

    def __init__(self, config: OutboxConfig) -> None:
        self.config = config
        config.path.parent.mkdir(parents=True, exist_ok=True)
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(config.path, check_same_thread=False, timeout=10.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute(f"PRAGMA synchronous={'FULL' if config.fsync else 'NORMAL'}")
        with self._conn:
            self._conn.executescript(_SCHEMA)
        self._depth: int = self._conn.execute("SELECT COUNT(*) FROM outbox").fetchone()[0]
        self._dropped: int = self._conn.execute(
            "SELECT value FROM counters WHERE name = 'dropped'"
        ).fetchone()[0]

    def put(self, event: PassageEvent) -> bool:
        """Store ``event`` (committed on return); False if its id is already stored.

        When the outbox is full, the oldest events are dropped and counted in :attr:`dropped`.
        """
        with self._lock, self._conn:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO outbox (event_id, payload) VALUES (?, ?)",
                (str(event.event_id), encode(event)),
            )
            if cur.rowcount == 0:
                return False
            depth = self._depth + 1
            excess = depth - self.config.max_events
            if excess > 0:
                self._conn.execute(
                    "DELETE FROM outbox WHERE seq IN (SELECT seq FROM outbox ORDER BY seq LIMIT ?)",
                    (excess,),
                )
                self._conn.execute(
                    "UPDATE counters SET value = value + ? WHERE name = 'dropped'", (excess,)
                )
            # Only after the commit (end of the ``with``) do the counters change.
        if excess > 0:
            self._dropped += excess
            depth -= excess
        self._depth = depth
        return True

    def due(self, now: float, ack_timeout: float, limit: int) -> list[OutboxEntry]:
        """Events never sent, or sent before ``now - ack_timeout``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT event_id, payload, sends, sent_at FROM outbox"
                " WHERE sent_at IS NULL OR sent_at < ? ORDER BY seq LIMIT ?",
                (now - ack_timeout, limit),
            ).fetchall()
        return [OutboxEntry(UUID(r[0]), bytes(r[1]), r[2], r[3]) for r in rows]

    def mark_sent(self, event_ids: Iterable[UUID], at: float) -> None:
        """Record that these events were (re)sent at ``at`` (seconds since the epoch)."""
        params = [(at, str(i)) for i in event_ids]
        if not params:
            return
        with self._lock, self._conn:
            self._conn.executemany(
                "UPDATE outbox SET sent_at = ?, sends = sends + 1 WHERE event_id = ?", params
            )

    def remove(self, event_ids: Iterable[UUID]) -> int:
        """Forget acknowledged events; returns how many were stored."""
        params = [(str(i),) for i in event_ids]
        if not params:
            return 0
        with self._lock:
            with self._conn:
                removed = self._conn.executemany(
                    "DELETE FROM outbox WHERE event_id = ?", params
                ).rowcount
            self._depth -= removed
        return removed

    def depth(self) -> int:
        """Events stored (not yet acknowledged)."""
        return self._depth

    @property
    def dropped(self) -> int:
        """Events dropped, ever, because the outbox was full (persisted)."""
        return self._dropped

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
