"""Ingest end to end: a real Mosquitto, a real database, a plain paho publisher."""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from hub.alerts.effects import AlertEffects
from hub.config import HubSettings
from hub.ingest.consumer import IngestConsumer, _transient
from hub.store import DeadLetterRow, DeviceRow, EventRow, Store
from hub.store.alert_tables import AlertRow
from models import Alert, ComponentVersions, DeviceStatus, PassageEvent, encode
from models.base import utc_now
from models.topics import events, status
from tests.hub.conftest import make_settings
from tests.support.broker import MosquittoBroker
from tests.support.factories import passage_event
from tests.support.grids import raise_alert, seed_grids
from tests.support.hub_publisher import HubPublisher

SETTLE_S = 30.0


def _event_ids(store: Store) -> list[uuid.UUID]:
    with store.sessions() as session:
        return list(session.scalars(select(EventRow.event_id)))


def _dead_letters(store: Store) -> list[DeadLetterRow]:
    with store.sessions() as session:
        return list(session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)))


def _eventually(condition: Callable[[], bool], timeout: float = SETTLE_S) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return condition()


def test_events_are_stored_once_and_acked(
    consumer: IngestConsumer, publisher: HubPublisher, store: Store
) -> None:
    sent = [passage_event(device_id=f"gate-0{i % 3}", seq=i) for i in range(60)]
    for event in sent:
        publisher.publish(event)
    assert publisher.wait_settled(SETTLE_S)
    assert sorted(_event_ids(store)) == sorted(e.event_id for e in sent)
    assert set(publisher.acked) == {e.event_id for e in sent}
    assert not publisher.rejected and not publisher.bad_acks
    assert {a.device_id for a in publisher.acks} == {"gate-00", "gate-01", "gate-02"}
    stats = consumer.stats()
    assert stats.stored == 60 and stats.dead_letters == 0 and stats.connected


def test_same_event_twice_is_stored_once_and_acked_twice(
    consumer: IngestConsumer, publisher: HubPublisher, store: Store
) -> None:
    event = passage_event()
    publisher.publish(event)
    assert publisher.wait_settled(SETTLE_S)
    publisher.publish(event)
    assert publisher.wait_for(lambda: publisher.acked[event.event_id] == 2, SETTLE_S)
    assert _event_ids(store) == [event.event_id]
    assert consumer.stats().duplicates == 1


def test_bad_payloads_become_dead_letters_and_ingest_goes_on(
    consumer: IngestConsumer, publisher: HubPublisher, store: Store
) -> None:
    topic = events("site-a", "gate-01")
    valid = passage_event()
    data = json.loads(encode(valid))
    wrong_version = {**data, "schema_version": 2, "event_id": str(passage_event().event_id)}
    foreign = passage_event(device_id="gate-99")
    publisher.publish_raw(topic, b"garbage")
    publisher.publish_raw(topic, encode(valid)[:40])
    publisher.publish_raw(topic, b"\xc3\x28" + encode(valid))
    publisher.publish_raw(
        topic,
        json.dumps(wrong_version).encode(),
        track=uuid.UUID(wrong_version["event_id"]),
    )
    publisher.publish(foreign, topic=topic)
    bad_level = "gridgate/v1/dev/site a!/gate-01/events"  # matches dev/+/+/events
    publisher.publish_raw(bad_level, encode(passage_event()))
    publisher.publish(valid)
    assert publisher.wait_settled(SETTLE_S)
    assert _eventually(lambda: len(_dead_letters(store)) == 6)
    kinds = sorted(row.kind for row in _dead_letters(store))
    assert kinds == ["encoding", "json", "json", "mismatch", "schema_version", "topic"]
    assert all(row.reason for row in _dead_letters(store))
    assert {row.topic for row in _dead_letters(store)} == {topic, bad_level}
    assert set(publisher.rejected) == {uuid.UUID(wrong_version["event_id"]), foreign.event_id}
    assert "gate-99" in publisher.rejected[foreign.event_id]
    assert _event_ids(store) == [valid.event_id]
    assert consumer.stats().dead_letters == 6


def _device_status(device_id: str, online: bool) -> DeviceStatus:
    return DeviceStatus(
        device_id=device_id,
        site_id="site-a",
        online=online,
        reported_at=utc_now(),
        fps=12.5,
        versions=ComponentVersions(agent="0.1.0"),
    )


def test_retained_status_reaches_the_devices_table(
    broker: MosquittoBroker, settings: HubSettings, store: Store, publisher: HubPublisher
) -> None:
    publisher.publish_raw(
        status("site-a", "gate-01"), encode(_device_status("gate-01", True)), retain=True
    )
    consumer = IngestConsumer(settings, store)  # subscribes after the status was retained
    consumer.start()
    try:
        assert consumer.wait_ready(10)

        def device() -> DeviceRow | None:
            with store.sessions() as session:
                return session.get(DeviceRow, "gate-01")

        assert _eventually(lambda: device() is not None)
        row = device()
        assert row is not None and row.online and row.last_status["fps"] == 12.5
        publisher.publish_raw(
            status("site-a", "gate-01"), encode(_device_status("gate-01", False)), retain=True
        )
        assert _eventually(lambda: (d := device()) is not None and not d.online)
    finally:
        consumer.stop()


class CountingEffects:
    """Counts applications per event id; fails for the ids in ``fail_on``."""

    def __init__(self, fail_on: set[uuid.UUID] | None = None) -> None:
        self.calls: dict[uuid.UUID, int] = {}
        self.fail_on = fail_on or set()

    def apply(self, session: Session, event: PassageEvent) -> None:
        if event.event_id in self.fail_on:
            raise RuntimeError("the match engine broke on this event")
        self.calls[event.event_id] = self.calls.get(event.event_id, 0) + 1


def test_effects_see_each_new_event_once(
    settings: HubSettings, store: Store, publisher: HubPublisher
) -> None:
    effects = CountingEffects()
    consumer = IngestConsumer(settings, store, effects=effects)
    consumer.start()
    try:
        assert consumer.wait_ready(10)
        sent = [passage_event(seq=i) for i in range(20)]
        for event in [*sent, *sent[:5]]:
            publisher.publish(event)
        assert publisher.wait_settled(SETTLE_S)
        assert _eventually(lambda: consumer.stats().stored + consumer.stats().duplicates == 25)
    finally:
        consumer.stop()
    assert effects.calls == {e.event_id: 1 for e in sent}


@pytest.mark.allow_logged_exceptions
def test_an_event_whose_effects_fail_is_dead_lettered_alone(
    settings: HubSettings, store: Store, publisher: HubPublisher
) -> None:
    sent = [passage_event(seq=i) for i in range(10)]
    poison = sent[4]
    consumer = IngestConsumer(settings, store, effects=CountingEffects({poison.event_id}))
    consumer.start()
    try:
        assert consumer.wait_ready(10)
        for event in sent:
            publisher.publish(event)
        assert publisher.wait_settled(SETTLE_S)
    finally:
        consumer.stop()
    assert set(publisher.rejected) == {poison.event_id}
    assert sorted(_event_ids(store)) == sorted(e.event_id for e in sent if e is not poison)
    [row] = _dead_letters(store)
    assert row.kind == "processing" and "match engine" in row.reason


def test_consumer_reconnects_after_a_broker_restart(
    consumer: IngestConsumer, publisher: HubPublisher, store: Store, broker: MosquittoBroker
) -> None:
    publisher.publish(passage_event(seq=1))
    assert publisher.wait_settled(SETTLE_S)
    broker.stop()
    assert _eventually(lambda: not consumer.connected, 10)
    broker.start()
    assert consumer.wait_ready(SETTLE_S)
    later = [passage_event(seq=i) for i in range(2, 12)]
    for event in later:
        publisher.publish(event)
    assert publisher.wait_settled(SETTLE_S)
    assert len(_event_ids(store)) == 11


def test_persistent_session_queues_events_while_the_hub_is_away(
    broker: MosquittoBroker, db_url: str, store: Store, tmp_path: Path
) -> None:
    settings = make_settings(broker, db_url, tmp_path / "hub")
    first = IngestConsumer(settings, store)
    first.start()
    assert first.wait_ready(10)
    first.stop()
    edge = HubPublisher(broker.host, broker.port, resend_after=3600)  # no resends
    edge.start()
    try:
        sent = [passage_event(seq=i) for i in range(20)]
        for event in sent:
            edge.publish(event)
        second = IngestConsumer(settings, store)  # same client id: resumes the session
        second.start()
        try:
            assert edge.wait_settled(SETTLE_S)
        finally:
            second.stop()
    finally:
        edge.stop()
    assert sorted(_event_ids(store)) == sorted(e.event_id for e in sent)


def test_metrics_count_what_happened(consumer: IngestConsumer, publisher: HubPublisher) -> None:
    event = passage_event()
    publisher.publish(event)
    publisher.publish_raw(events("site-a", "gate-01"), b"nope")
    assert publisher.wait_settled(SETTLE_S)
    assert _eventually(lambda: consumer.stats().dead_letters == 1)
    registry = consumer.registry
    assert registry.get_sample_value("gridgate_hub_events_ingested_total") == 1
    assert registry.get_sample_value("gridgate_hub_dead_letters_total", {"kind": "json"}) == 1
    assert (registry.get_sample_value("gridgate_hub_ingest_batch_seconds_count") or 0) >= 1
    assert registry.get_sample_value("gridgate_hub_mqtt_connected") == 1


def test_database_outage_is_retried_nothing_acked_and_stop_does_not_hang(
    broker: MosquittoBroker, publisher: HubPublisher, tmp_path: Path
) -> None:
    unreachable = "postgresql+psycopg://nobody@127.0.0.1:1/none"
    down = Store.open(unreachable, migrate=False)
    consumer = IngestConsumer(make_settings(broker, unreachable, tmp_path), down)
    consumer.start()
    try:
        assert consumer.wait_ready(10)
        for i in range(3):
            publisher.publish(passage_event(seq=i))
        assert _eventually(lambda: consumer.stats().db_errors >= 2)
        assert publisher.pending == 3 and not publisher.acks
    finally:
        consumer.stop()
        down.close()
    stats = consumer.stats()
    assert stats.stored == 0 and stats.acks_published == 0 and stats.dropped >= 3


def _district_events(n: int) -> list[PassageEvent]:
    """Passages raising, repeating and not raising alerts, for the ledger of ``_fill``."""
    from datetime import timedelta

    from models import (
        CodeColour,
        FaceObservation,
        HealthCodeFormat,
        HealthCodeObservation,
        VerificationStatus,
    )
    from models.identity import holder_ref
    from tests.hub.test_ledger_import import KEY
    from tests.hub.test_ledger_lookup import ALICE_ID
    from tests.support.factories import encoding

    sent = []
    for i in range(n):
        event = passage_event(seq=i % 7, faces=0)  # the factory's unknown holder: repeats
        now = utc_now()
        extra: list[FaceObservation | HealthCodeObservation] = [
            FaceObservation(track_id=1, encoding=encoding(i % 5), quality=0.8, seen_at=now)
        ]
        if i % 3 == 0:  # Alice, quarantined returnee with a red code
            extra.append(
                HealthCodeObservation(
                    format=HealthCodeFormat.GRIDGATE,
                    status=VerificationStatus.VALID,
                    colour=CodeColour.RED,
                    holder_ref=holder_ref(ALICE_ID, KEY),
                    expires_at=now + timedelta(hours=1),
                    seen_at=now,
                )
            )
        sent.append(event.model_copy(update={"observations": [*event.observations, *extra]}))
    return sent


def _alert_state(store: Store) -> tuple[list[tuple[str, str, int, str]], int]:
    from sqlalchemy import func

    from hub.store.alert_tables import AlertAuditRow, AlertRow

    with store.sessions() as session:
        rows = session.scalars(select(AlertRow)).all()
        audits = session.scalar(select(func.count()).select_from(AlertAuditRow)) or 0
    subjects = {r.subject_ref: f"s{i}" for i, r in enumerate(sorted(rows, key=_raised))}
    return sorted(
        (r.rule, subjects[r.subject_ref], r.repeat_count, r.severity) for r in rows
    ), audits


def _raised(row: Any) -> tuple[Any, str]:
    return (row.raised_at, row.subject_ref)


class _Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def _alert_effects(sink: _Sink) -> AlertEffects:
    from hub.ledger.lookup import SqlLedgerLookup
    from hub.match.faces import FaceIndex

    return AlertEffects(ledger=SqlLedgerLookup, faces=FaceIndex(), sink=sink)


def test_one_batch_raises_the_same_alerts_as_event_by_event(db_url: str, tmp_path: Path) -> None:
    from hub.ingest.batch import Batch, write_batch
    from hub.ingest.classify import AcceptedEvent, Inbound
    from tests.hub.test_ledger_lookup import _fill

    sent = _district_events(24)
    batched, single = Store.open(db_url), Store.open(f"sqlite:///{tmp_path / 'single.db'}")
    try:
        pushed: dict[str, _Sink] = {"batched": _Sink(), "single": _Sink()}
        for store in (batched, single):
            _fill(store)
        effects = _alert_effects(pushed["batched"])
        inbound = [
            AcceptedEvent(e, Inbound(events("site-a", e.device_id), encode(e), utc_now()))
            for e in [*sent, sent[0]]  # a repeated event id is stored and applied once
        ]
        with batched.transaction() as session:
            new = write_batch(session, Batch(events=inbound), effects)
        assert new == [e.event_id for e in sent]
        one_by_one = _alert_effects(pushed["single"])
        for event in sent:
            with single.transaction() as session:
                one_by_one.apply(session, event)
        assert _alert_state(batched) == _alert_state(single)
        rules, audits = _alert_state(batched)
        assert audits == len(pushed["batched"].alerts) > len(rules) >= 4
        assert [(a.rule, a.repeat_count, a.event_id) for a in pushed["batched"].alerts] == [
            (a.rule, a.repeat_count, a.event_id) for a in pushed["single"].alerts
        ]
    finally:
        batched.close()
        single.close()


def test_consumer_pushes_alerts_after_the_batch_commits(
    settings: HubSettings, store: Store, publisher: HubPublisher
) -> None:
    sink = _Sink()  # one writer (the default): batches commit in arrival order
    consumer = IngestConsumer(settings, store, effects=_alert_effects(sink))
    consumer.start()
    try:
        assert consumer.wait_ready(10)
        sent = [passage_event(seq=i) for i in range(40)]
        for event in [*sent, *sent[:10]]:
            publisher.publish(event)
        assert publisher.wait_settled(SETTLE_S)
        assert _eventually(lambda: len(sink.alerts) == 80)
    finally:
        consumer.stop()
    holder = [a for a in sink.alerts if a.subject_ref == "h1:abcdefghijklmnop"]
    assert [a.repeat_count for a in holder] == list(range(1, 41))
    assert [a.event_id for a in holder] == [e.event_id for e in sent]
    assert len({a.alert_id for a in holder}) == 1
    strangers = {a.subject_ref for a in sink.alerts if a.subject_ref.startswith("stranger:")}
    assert len(strangers) == 40
    assert sorted(_event_ids(store)) == sorted(e.event_id for e in sent)


class _SlowEffects(AlertEffects):
    """Alert effects that note which writer ran them and hold each batch a moment, so the
    next batch goes to another writer."""

    def __init__(self, sink: _Sink) -> None:
        from hub.ledger.lookup import SqlLedgerLookup
        from hub.match.faces import FaceIndex

        super().__init__(ledger=SqlLedgerLookup, faces=FaceIndex(), sink=sink)
        self.writers: set[str] = set()

    def apply_many(self, session: Session, events: Sequence[PassageEvent]) -> None:
        self.writers.add(threading.current_thread().name)
        time.sleep(0.02)
        super().apply_many(session, events)


def test_two_writers_store_each_event_once_and_count_every_repeat(
    settings: HubSettings, store: Store, publisher: HubPublisher
) -> None:
    sink = _Sink()
    effects = _SlowEffects(sink)
    consumer = IngestConsumer(settings, store, effects=effects, writers=2)
    consumer.start()
    try:
        assert consumer.wait_ready(10)
        sent = [passage_event(seq=i) for i in range(60)]
        for event in [*sent, *sent[:15]]:
            publisher.publish(event)
        assert publisher.wait_settled(SETTLE_S)
        assert _eventually(lambda: len(sink.alerts) == 120)
    finally:
        consumer.stop()
    assert effects.writers == {"hub-ingest-1", "hub-ingest-2"}
    assert sorted(_event_ids(store)) == sorted(e.event_id for e in sent)
    holder = [a for a in sink.alerts if a.subject_ref == "h1:abcdefghijklmnop"]
    assert len({a.alert_id for a in holder}) == 1  # two batches opening it at once: one wins
    assert sorted(a.repeat_count for a in holder) == list(range(1, 61))
    assert {a.event_id for a in holder} == {e.event_id for e in sent}
    assert consumer.stats().dead_letters == 0


def test_one_writer_unless_configured(settings: HubSettings, store: Store) -> None:
    assert IngestConsumer(settings, store).writers == 1
    chosen = IngestConsumer(settings.model_copy(update={"ingest_writers": 3}), store)
    assert chosen.writers == 3


def test_a_concurrent_alert_conflict_is_retried_not_dead_lettered(store: Store) -> None:
    seed_grids(store)
    raise_alert(store, "G-A", "face:9")
    with pytest.raises(IntegrityError) as conflict, store.transaction() as session:
        session.add(  # what a second worker's insert of the same active alert meets
            AlertRow(**{
                **{c.name: getattr(session.scalars(select(AlertRow)).one(), c.name)
                   for c in AlertRow.__table__.columns},
                "alert_id": uuid.uuid4(),
            })
        )  # fmt: skip
    assert _transient(conflict.value)
