"""The kiosk's durable outbox of registration requests, kept until the hub's ack.

The same mechanics as :mod:`edge.publish.outbox` (SQLite WAL, committed on return), in its
own file so passage events and registrations never wait on each other.
"""

from __future__ import annotations

import sqlite3
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from uuid import UUID

from models import encode
from models.registrations import RegistrationRequest

_SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    seq INTEGER PRIMARY KEY,
    request_id TEXT NOT NULL UNIQUE,
    payload BLOB NOT NULL,
    sent_at REAL,
    sends INTEGER NOT NULL DEFAULT 0
);
"""


@dataclass(frozen=True)
class PendingRequest:
    """One stored request and how often it was sent."""

    request_id: UUID
    payload: bytes
    sends: int


class RegistrationOutbox:
    """Requests in order, kept until :meth:`remove`; thread-safe; oldest dropped past a bound."""

    def __init__(self, path: Path, max_requests: int = 1000) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.max_requests = max_requests
        self._lock = threading.Lock()
        self._conn = sqlite3.connect(path, check_same_thread=False, timeout=10.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")
        with self._conn:
            self._conn.executescript(_SCHEMA)
        path.chmod(0o600)  # face encodings are biometric data

    def put(self, request: RegistrationRequest) -> bool:
        """Store ``request`` (committed on return); False if its id is already stored."""
        with self._lock, self._conn:
            cur = self._conn.execute(
                "INSERT OR IGNORE INTO requests (request_id, payload) VALUES (?, ?)",
                (str(request.request_id), encode(request)),
            )
            self._conn.execute(
                "DELETE FROM requests WHERE seq NOT IN"
                " (SELECT seq FROM requests ORDER BY seq DESC LIMIT ?)",
                (self.max_requests,),
            )
            return cur.rowcount == 1

    def due(self, now: float, ack_timeout: float, limit: int = 50) -> list[PendingRequest]:
        """Requests never sent, or sent before ``now - ack_timeout``, oldest first."""
        with self._lock:
            rows = self._conn.execute(
                "SELECT request_id, payload, sends FROM requests"
                " WHERE sent_at IS NULL OR sent_at < ? ORDER BY seq LIMIT ?",
                (now - ack_timeout, limit),
            ).fetchall()
        return [PendingRequest(UUID(r[0]), bytes(r[1]), r[2]) for r in rows]

    def mark_sent(self, request_ids: Iterable[UUID], at: float) -> None:
        """Record that these requests were (re)sent at ``at`` (seconds since the epoch)."""
        params = [(at, str(i)) for i in request_ids]
        with self._lock, self._conn:
            self._conn.executemany(
                "UPDATE requests SET sent_at = ?, sends = sends + 1 WHERE request_id = ?", params
            )

    def remove(self, request_ids: Iterable[UUID]) -> int:
        """Forget acknowledged requests; returns how many were stored."""
        params = [(str(i),) for i in request_ids]
        with self._lock, self._conn:
            return self._conn.executemany(
                "DELETE FROM requests WHERE request_id = ?", params
            ).rowcount

    def depth(self) -> int:
        """Requests stored (not yet acknowledged)."""
        with self._lock:
            count: int = self._conn.execute("SELECT COUNT(*) FROM requests").fetchone()[0]
        return count

    def close(self) -> None:
        """Close the database (idempotent)."""
        with self._lock:
            self._conn.close()
