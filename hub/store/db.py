"""Engines and sessions: SQLite (WAL, foreign keys, busy timeout) or PostgreSQL (psycopg 3)."""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, make_url, text
from sqlalchemy.engine import URL
from sqlalchemy.orm import Session, sessionmaker

from hub.store.types import json_serializer

SQLITE_BUSY_TIMEOUT_MS = 10_000
SQLITE_CHECKPOINT_INTERVAL_S = 1.0

log = logging.getLogger(__name__)


def normalise_url(url: str | URL) -> URL:
    """Parse a database URL; a bare ``postgresql://`` means psycopg 3."""
    parsed = make_url(url)
    if parsed.drivername in {"postgresql", "postgres"}:
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: each commit reaches the disk before the hub acks what it holds (NORMAL may
        # lose the last commits to a power cut, after the edges forgot those events).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _no_autocheckpoint(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA wal_autocheckpoint=0")
    finally:
        cursor.close()


def create_db_engine(url: str | URL) -> Engine:
    """An engine for ``url``; creates the SQLite file's directory when needed."""
    parsed = normalise_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            parsed,
            connect_args={"timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
            json_serializer=json_serializer,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    connect_args: dict[str, Any] = {}
    if parsed.get_backend_name() == "postgresql":
        connect_args["connect_timeout"] = 10
    engine = create_engine(
        parsed, pool_pre_ping=True, connect_args=connect_args, json_serializer=json_serializer
    )
    if parsed.get_backend_name() == "postgresql":
        event.listen(engine, "connect", _custom_plans)
    return engine


def _custom_plans(dbapi_connection: Any, _record: Any) -> None:
    """Plan every statement for the values given (``plan_cache_mode``).

    psycopg prepares a statement run five times; the server's generic plan for a
    ``= ANY(:keys)`` lookup (:mod:`hub.store.keyed`) was 3x slower than one planned for the
    keys given. Set per connection rather than as a startup option, which poolers such as
    PgBouncer refuse.
    """
    with dbapi_connection.cursor() as cursor:
        cursor.execute("SET plan_cache_mode = force_custom_plan")
    dbapi_connection.commit()


class Store:
    """The hub's database: one engine and its session factory."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.sessions = sessionmaker(engine, expire_on_commit=False)
        self._checkpoints: threading.Thread | None = None
        self._stop_checkpoints = threading.Event()

    @classmethod
    def open(cls, url: str | URL, *, migrate: bool = True) -> Store:
        """Connect to ``url`` and (by default) bring its schema up to date, foreign keys that a
        bulk load left lifted included (:mod:`hub.store.foreign_keys`)."""
        store = cls(create_db_engine(url))
        if migrate:
            from hub.store.foreign_keys import restore_foreign_keys
            from hub.store.migrate import upgrade

            upgrade(store.engine)
            restore_foreign_keys(store.engine)
        return store

    @property
    def dialect(self) -> str:
        """``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    @contextmanager
    def transaction(self) -> Iterator[Session]:
        """A session inside one transaction: committed on success, rolled back on error."""
        with self.sessions() as session, session.begin():
            yield session

    def ping(self) -> None:
        """Run a trivial query; raises when the database cannot be reached."""
        with self.engine.connect() as conn:
            conn.execute(text("SELECT 1"))

    def start_checkpoints(self, interval_s: float = SQLITE_CHECKPOINT_INTERVAL_S) -> None:
        """SQLite: copy the WAL into the database from a thread of its own, every
        ``interval_s``, instead of inside whichever commit crosses the WAL's size limit (that
        commit then waits for the copy and its fsync: the tail of ingest latency). A no-op on
        PostgreSQL. Call before the writers start; :meth:`close` stops it."""
        if self.dialect != "sqlite" or self._checkpoints is not None:
            return
        event.listen(self.engine, "connect", _no_autocheckpoint)
        self.engine.dispose()  # pooled connections reopen without automatic checkpoints
        self._stop_checkpoints.clear()
        self._checkpoints = threading.Thread(
            target=self._checkpoint_loop, args=(interval_s,), name="sqlite-wal", daemon=True
        )
        self._checkpoints.start()

    def _checkpoint_loop(self, interval_s: float) -> None:
        while not self._stop_checkpoints.wait(interval_s):
            self.checkpoint()
        self.checkpoint()

    def checkpoint(self) -> None:
        """One passive WAL checkpoint (never blocks writers); failures are logged."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
        except Exception as exc:
            log.warning("WAL checkpoint failed: %s", exc)

    def close(self) -> None:
        """Stop background checkpoints, release every pooled connection."""
        thread, self._checkpoints = self._checkpoints, None
        if thread is not None:
            self._stop_checkpoints.set()
            thread.join(10)
        self.engine.dispose()
