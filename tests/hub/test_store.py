"""The store on SQLite and PostgreSQL: migrations, idempotent event writes, dead letters."""

from __future__ import annotations

import time
from datetime import UTC, timedelta
from pathlib import Path

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import func, inspect, select, text
from sqlalchemy.orm import Session

from hub.ingest.batch import Batch, write_batch
from hub.ingest.classify import AcceptedEvent, Inbound
from hub.store import DeadLetterRow, DeviceRow, EventRow, Store, upgrade
from hub.store.events import dead_letter, store_events, upsert_device_status
from hub.store.migrate import current_revision, head_revision
from hub.store.tables import DEAD_LETTER_PAYLOAD_CAP, Base
from models import ComponentVersions, DeviceStatus, PassageEvent, encode
from models.base import utc_now
from models.topics import events as events_topic
from tests.support.factories import passage_event


class RecordingEffects:
    """Records the events it is applied to; raises for the ids in ``fail_on``."""

    def __init__(self, fail_on: set[object] | None = None) -> None:
        self.applied: list[PassageEvent] = []
        self.fail_on = fail_on or set()

    def apply(self, session: Session, event: PassageEvent) -> None:
        if event.event_id in self.fail_on:
            raise RuntimeError("effects failed")
        self.applied.append(event)


def _accepted(event: PassageEvent) -> AcceptedEvent:
    inbound = Inbound(events_topic(event.site_id, event.device_id), encode(event), utc_now())
    return AcceptedEvent(event, inbound)


def _count(store: Store, table: type[Base]) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_migrations_create_the_schema_without_drift(store: Store) -> None:
    tables = set(inspect(store.engine).get_table_names())
    assert {"events", "dead_letters", "devices", "alembic_version"} <= tables
    assert current_revision(store.engine) == head_revision()
    with store.engine.connect() as conn:
        context = MigrationContext.configure(conn, opts={"compare_type": True})
        assert compare_metadata(context, Base.metadata) == []


def test_upgrade_by_url_is_idempotent(db_url: str) -> None:
    upgrade(db_url)
    upgrade(db_url)
    reopened = Store.open(db_url)
    try:
        assert current_revision(reopened.engine) == head_revision()
    finally:
        reopened.close()


def test_sqlite_pragmas(store: Store) -> None:
    if store.dialect != "sqlite":
        pytest.skip("SQLite only")
    with store.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
        assert conn.execute(text("PRAGMA busy_timeout")).scalar() == 10_000
        assert conn.execute(text("PRAGMA synchronous")).scalar() == 2  # FULL: durable acks


def test_sqlite_wal_is_checkpointed_in_the_background_not_by_commits(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    store.start_checkpoints(interval_s=0.05)
    try:
        with store.engine.connect() as conn:
            assert conn.execute(text("PRAGMA wal_autocheckpoint")).scalar() == 0
        size = (tmp_path / "hub.db").stat().st_size
        with store.transaction() as session:  # ~1,000 WAL pages: no commit checkpoints them
            store_events(session, [passage_event(seq=i) for i in range(1000)])
        deadline = time.monotonic() + 10
        while (tmp_path / "hub.db").stat().st_size == size and time.monotonic() < deadline:
            time.sleep(0.02)
        assert (tmp_path / "hub.db").stat().st_size > size  # the checkpointer copied the WAL
    finally:
        store.close()
    reopened = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with reopened.sessions() as session:
            assert session.scalar(select(func.count()).select_from(EventRow)) == 1000
    finally:
        reopened.close()


def test_repeated_event_ids_are_ignored(store: Store) -> None:
    first = [passage_event(seq=i) for i in range(3)]
    with store.transaction() as session:
        new = store_events(session, [*first, first[0]])
    assert new == [e.event_id for e in first]
    later = passage_event(seq=9)
    with store.transaction() as session:
        new = store_events(session, [first[1], later, first[2]])
    assert new == [later.event_id]
    assert _count(store, EventRow) == 4


def test_stored_event_round_trips(store: Store) -> None:
    event = passage_event(faces=2)
    with store.transaction() as session:
        store_events(session, [event])
    with store.sessions() as session:
        row = session.get_one(EventRow, event.event_id)
    assert row.occurred_at == event.occurred_at
    assert row.occurred_at.tzinfo is not None
    assert row.received_at.utcoffset() == timedelta(0)
    assert PassageEvent.model_validate(row.payload) == event


def test_an_event_is_stored_as_the_text_it_arrived_as(store: Store) -> None:
    event = passage_event(faces=1)
    arrived = encode(event).replace(b'{"', b'{ "', 1)  # as sent: spacing and key order kept
    with store.transaction() as session:
        assert store_events(session, [event], payloads={event.event_id: arrived}) == [
            event.event_id
        ]
    with store.sessions() as session:
        stored = session.scalar(
            text("SELECT CAST(payload AS TEXT) FROM events WHERE device_id = :d"),
            {"d": event.device_id},
        )
        row = session.get_one(EventRow, event.event_id)
    assert stored == arrived.decode()  # PostgreSQL: json, not jsonb (which rewrites it)
    assert PassageEvent.model_validate(row.payload) == event


def test_many_events_in_one_call(store: Store) -> None:
    batch = [passage_event(seq=i, faces=0) for i in range(1200)]
    with store.transaction() as session:
        assert len(store_events(session, batch)) == 1200
    assert _count(store, EventRow) == 1200


def test_effects_run_once_per_new_event(store: Store) -> None:
    effects = RecordingEffects()
    first = [passage_event(seq=i) for i in range(3)]
    with store.transaction() as session:
        write_batch(session, Batch(events=[_accepted(e) for e in [*first, first[0]]]), effects)
    with store.transaction() as session:
        write_batch(session, Batch(events=[_accepted(e) for e in first]), effects)
    assert [e.event_id for e in effects.applied] == [e.event_id for e in first]


def test_failing_effects_roll_the_batch_back(store: Store) -> None:
    events = [passage_event(seq=i) for i in range(3)]
    effects = RecordingEffects(fail_on={events[1].event_id})
    with pytest.raises(RuntimeError), store.transaction() as session:
        write_batch(session, Batch(events=[_accepted(e) for e in events]), effects)
    assert _count(store, EventRow) == 0


def test_dead_letters_are_stored_capped(store: Store) -> None:
    big = b"\xff" * (DEAD_LETTER_PAYLOAD_CAP + 10)
    with store.transaction() as session:
        dead_letter(
            session, topic="gridgate/v1/x", kind="encoding", reason="not UTF-8", payload=big
        )
        dead_letter(session, topic="t", kind="json", reason="truncated", payload=b'{"a":')
    with store.sessions() as session:
        rows = session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)).all()
    assert [(r.kind, r.payload_size) for r in rows] == [("encoding", len(big)), ("json", 5)]
    assert rows[0].payload == big[:DEAD_LETTER_PAYLOAD_CAP]
    assert rows[1].payload == b'{"a":'
    assert rows[0].received_at.tzinfo is not None


def _status(online: bool, reported_at_offset: timedelta = timedelta(0)) -> DeviceStatus:
    return DeviceStatus(
        device_id="gate-01",
        site_id="site-a",
        online=online,
        reported_at=utc_now() + reported_at_offset,
        queue_depth=4,
        versions=ComponentVersions(agent="0.1.0"),
    )


def test_device_status_upsert_latest_wins_last_seen_never_goes_back(store: Store) -> None:
    heartbeat = _status(True)
    will = _status(False, timedelta(hours=-1))  # a last will carries its connect time
    with store.transaction() as session:
        upsert_device_status(session, heartbeat)
    with store.transaction() as session:
        upsert_device_status(session, will)
    with store.sessions() as session:
        row = session.get_one(DeviceRow, "gate-01")
    assert row.online is False
    assert DeviceStatus.model_validate(row.last_status) == will
    assert row.last_seen == heartbeat.reported_at.astimezone(UTC)
    assert _count(store, DeviceRow) == 1


def test_device_clock_ahead_does_not_move_last_seen_into_the_future(store: Store) -> None:
    ahead = _status(True, timedelta(days=1))
    received = utc_now()
    with store.transaction() as session:
        upsert_device_status(session, ahead, received)
    with store.sessions() as session:
        assert session.get_one(DeviceRow, "gate-01").last_seen == received
