"""Alerts raised in the ingest transaction: one active per subject and rule, pushed after commit."""

from __future__ import annotations

import sqlite3
import threading
import uuid
from datetime import timedelta

import numpy as np
import pytest
from sqlalchemy import func, select

from hub.alerts.effects import AlertEffects, AlertSink
from hub.match.faces import FaceIndex
from hub.match.ledger import ResidentView
from hub.push.dispatcher import PushDispatcher
from hub.store.alert_tables import AlertAuditRow, AlertRow, DeliveryRow
from hub.store.db import Store
from models.alerts import Alert, AlertRule, AlertState, Severity
from models.base import new_id, utc_now
from models.events import (
    CodeColour,
    FaceObservation,
    HealthCodeFormat,
    HealthCodeObservation,
    Observation,
    PassageEvent,
    VerificationStatus,
)
from tests.edge.helpers import wait_for
from tests.support.dict_ledger import DictLedger
from tests.support.factories import passage_of

STRANGER = np.random.default_rng(5).normal(0, 0.1, 128)


class Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def _ledger() -> DictLedger:
    alice = ResidentView("r-alice", "王丽", "ADDR-1", "grid-1", last_test_at=utc_now())
    return DictLedger(
        residents={"r-alice": alice},
        holders={"h1:alice": "r-alice"},
        addresses={"ADDR-1": "grid-1"},
        sites={"site-a": "grid-9"},
    )


def _event(*observations: Observation) -> PassageEvent:
    return passage_of(*observations)


def _code(colour: CodeColour) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=VerificationStatus.VALID,
        colour=colour,
        holder_ref="h1:alice",
        seen_at=utc_now(),
    )


def _stranger() -> FaceObservation:
    return FaceObservation(
        track_id=1, encoding=[float(v) for v in STRANGER], quality=0.7, seen_at=utc_now()
    )


def _effects(sink: AlertSink | None = None) -> AlertEffects:
    ledger = _ledger()
    return AlertEffects(ledger=lambda session: ledger, faces=FaceIndex(), sink=sink)


def test_red_code_raises_one_alert_and_repeats_count_on_it(store: Store) -> None:
    sink = Sink()
    effects = _effects(sink)
    for _ in range(3):
        with store.transaction() as session:
            effects.apply(session, _event(_code(CodeColour.RED)))
    with store.transaction() as session:
        rows = session.scalars(select(AlertRow)).all()
        assert len(rows) == 1
        (row,) = rows
        assert (row.rule, row.severity, row.state, row.grid_id) == (
            "red_code",
            "critical",
            "open",
            "grid-1",
        )
        assert row.repeat_count == 3
        audit = session.scalar(select(func.count()).select_from(AlertAuditRow))
        assert audit == 3
    assert [a.repeat_count for a in sink.alerts] == [1, 2, 3]
    assert len({a.alert_id for a in sink.alerts}) == 1


def test_severity_escalates_but_never_drops(store: Store) -> None:
    effects = _effects()
    with store.transaction() as session:
        effects.apply(session, _event(_code(CodeColour.YELLOW)))
    with store.transaction() as session:
        row = session.scalars(select(AlertRow)).one()
        row.rule = str(AlertRule.RED_CODE)  # same subject and rule as the next red code
        row.active_key = "red_code:r-alice"
        row.severity = str(Severity.WARNING)
    with store.transaction() as session:
        effects.apply(session, _event(_code(CodeColour.RED)))
        assert session.scalars(select(AlertRow)).one().severity == "critical"


def test_a_resolved_alert_lets_a_new_one_open(store: Store) -> None:
    effects = _effects()
    with store.transaction() as session:
        effects.apply(session, _event(_code(CodeColour.RED)))
    with store.transaction() as session:
        row = session.scalars(select(AlertRow)).one()
        row.state, row.active_key = str(AlertState.RESOLVED), None
    with store.transaction() as session:
        effects.apply(session, _event(_code(CodeColour.RED)))
        states = sorted(r.state for r in session.scalars(select(AlertRow)))
    assert states == ["open", "resolved"]


def test_nothing_is_pushed_when_the_transaction_rolls_back(store: Store) -> None:
    sink = Sink()
    effects = _effects(sink)
    with pytest.raises(RuntimeError), store.transaction() as session:
        effects.apply(session, _event(_stranger()))
        raise RuntimeError("the batch failed after the effects ran")
    assert sink.alerts == []
    with store.transaction() as session:
        assert session.scalars(select(AlertRow)).all() == []
        effects.apply(session, _event(_stranger()))
    assert [a.rule for a in sink.alerts] == [AlertRule.UNREGISTERED_PERSON]
    assert sink.alerts[0].grid_id == "grid-9"


def test_dispatcher_records_deliveries_and_retries_failures(store: Store) -> None:
    class Flaky:
        name = "flaky"

        def __init__(self) -> None:
            self.calls = 0

        def send(self, alert: Alert) -> str:
            from hub.push.base import ChannelError

            self.calls += 1
            if self.calls < 3:
                raise ChannelError("gateway busy")
            return "gateway"

        def close(self) -> None:
            pass

    class Recording:
        name = "sms"

        def __init__(self) -> None:
            self.sent: list[str] = []

        def send(self, alert: Alert) -> str:
            self.sent.append(f"{alert.rule}: {alert.summary}")
            return f"grid:{alert.grid_id}"

        def close(self) -> None:
            pass

    sms, flaky = Recording(), Flaky()
    dispatcher = PushDispatcher(store, [sms, flaky], backoff_s=0.01)
    dispatcher.start()
    effects = _effects(dispatcher)
    with store.transaction() as session:
        effects.apply(session, _event(_code(CodeColour.RED)))
    assert dispatcher.wait_idle(10)
    dispatcher.stop()
    assert len(sms.sent) == 1 and "red_code" in sms.sent[0]
    with store.transaction() as session:
        rows = {r.channel: r for r in session.scalars(select(DeliveryRow))}
    assert rows["sms"].status == "sent"
    assert (rows["flaky"].status, rows["flaky"].attempts) == ("sent", 3)


def test_alert_ids_are_stable_across_repeats(store: Store) -> None:
    sink = Sink()
    effects = _effects(sink)
    first = _event(_code(CodeColour.RED))
    with store.transaction() as session:
        effects.apply(session, first)
    later = first.model_copy(
        update={"event_id": new_id(), "occurred_at": utc_now() + timedelta(minutes=5)}
    )
    with store.transaction() as session:
        effects.apply(session, later)
    assert sink.alerts[0].alert_id == sink.alerts[1].alert_id
    assert isinstance(sink.alerts[1].event_id, uuid.UUID)
    assert sink.alerts[1].event_id == later.event_id


def test_the_same_stranger_repeats_one_alert_and_another_stranger_gets_their_own(
    store: Store,
) -> None:
    sink = Sink()
    effects = _effects(sink)
    other = np.random.default_rng(11).normal(0, 0.1, 128)
    for vector in (STRANGER, STRANGER + 0.002, other):
        face = FaceObservation(
            track_id=1, encoding=[float(v) for v in vector], quality=0.7, seen_at=utc_now()
        )
        with store.transaction() as session:
            effects.apply(session, _event(face))
    with store.transaction() as session:
        rows = session.scalars(select(AlertRow).order_by(AlertRow.raised_at)).all()
        counts = sorted(r.repeat_count for r in rows)
    assert counts == [1, 2]
    assert all(r.subject_ref.startswith("stranger:site-a:") for r in rows)


class GridChannel:
    """A channel that delivers at once and notes which alerts it sent."""

    name = "mqtt"

    def __init__(self) -> None:
        self.sent: list[uuid.UUID] = []

    def send(self, alert: Alert) -> str:
        self.sent.append(alert.alert_id)
        return f"grid:{alert.grid_id}"

    def close(self) -> None:
        pass


def test_a_stuck_channel_does_not_hold_up_the_others(store: Store) -> None:
    """Each channel has its own worker: an SMS gateway hanging on one alert leaves the
    grid's other channels delivering every alert meanwhile."""
    release = threading.Event()

    class Stuck:
        name = "sms"

        def send(self, alert: Alert) -> str:
            release.wait(20)
            return "gateway"

        def close(self) -> None:
            pass

    fast = GridChannel()
    dispatcher = PushDispatcher(store, [Stuck(), fast], backoff_s=0.01)
    dispatcher.start()
    effects = _effects(dispatcher)
    try:
        for colour in (CodeColour.RED, CodeColour.YELLOW):
            with store.transaction() as session:
                effects.apply(session, _event(_code(colour)))
        wait_for(lambda: len(fast.sent) == 2, 10, "both alerts on the fast channel")
        assert len(fast.sent) == 2  # both delivered while the SMS gateway hangs on the first
        assert not dispatcher.wait_idle(0.1)
    finally:
        release.set()
    assert dispatcher.wait_idle(10)
    dispatcher.stop()
    with store.transaction() as session:
        rows = session.scalars(select(DeliveryRow)).all()
    assert sorted((r.channel, r.status) for r in rows) == [
        ("mqtt", "sent"),
        ("mqtt", "sent"),
        ("sms", "sent"),
        ("sms", "sent"),
    ]


def test_a_locked_database_does_not_hold_up_delivery(store: Store) -> None:
    """Outcomes are recorded by a thread of their own: while another writer holds SQLite's
    lock (ingest at a high rate), alerts still go out; their records follow."""
    if store.dialect != "sqlite":
        pytest.skip("SQLite's single writer lock")
    sink = Sink()
    effects = _effects(sink)
    for colour in (CodeColour.RED, CodeColour.YELLOW):
        with store.transaction() as session:
            effects.apply(session, _event(_code(colour)))

    fast = GridChannel()
    dispatcher = PushDispatcher(store, [fast])
    dispatcher.start()
    other_writer = sqlite3.connect(str(store.engine.url.database))
    other_writer.execute("BEGIN IMMEDIATE")  # holds the write lock
    try:
        published: list[uuid.UUID] = []
        for alert in sink.alerts:  # one by one: each record must wait
            dispatcher.publish([alert])
            published.append(alert.alert_id)
            # within 5 s: under SQLite's 10 s busy timeout, after which a record gives up
            wait_for(lambda: fast.sent == published, 5, "the alert delivered")
        assert len(fast.sent) == 2  # both delivered while the database was locked
        assert not dispatcher.wait_idle(0.2)  # their records wait for the lock
    finally:
        other_writer.rollback()
        other_writer.close()
    assert dispatcher.wait_idle(15)
    dispatcher.stop()
    with store.transaction() as session:
        rows = session.scalars(select(DeliveryRow)).all()
    assert sorted(r.alert_id for r in rows) == sorted(fast.sent)
