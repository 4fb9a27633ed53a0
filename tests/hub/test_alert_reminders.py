"""Unhandled alerts are pushed again: through the hub's own escalation timer (as ``hub.app``
wires it) and its real push dispatcher, an open alert nobody takes is escalated once, then
reminded every ``remind_after_h`` like an acknowledged one; a resolved alert never is."""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import insert, select

from hub.alerts.lifecycle import acknowledge, resolve
from hub.app import Hub
from hub.push.log import LogSender
from hub.store.alert_tables import AlertAuditRow, AlertRow, DeliveryRow
from hub.store.ledger_tables import GridRow, GridWorkerRow, worker_grids
from models.alerts import Alert, AlertState, Resolution
from models.base import utc_now
from tests.hub.conftest import make_settings
from tests.support.broker import MosquittoBroker
from tests.support.grids import raise_alert

LEADER, ON_DUTY = "13900000000", "13800000001"


class Recorded:
    """A push channel that delivers at once and keeps what it was given."""

    name = "recorded"

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._alerts: list[Alert] = []

    def send(self, alert: Alert) -> str:
        with self._lock:
            self._alerts.append(alert)
        return f"grid:{alert.grid_id}"

    def take(self) -> list[Alert]:
        """What was pushed since the last call."""
        with self._lock:
            taken, self._alerts = self._alerts, []
        return taken

    def close(self) -> None:
        pass


@pytest.fixture
def hub(
    broker: MosquittoBroker, db_url: str, tmp_path: Path
) -> Iterator[tuple[Hub, Recorded, LogSender]]:
    """The hub as built for production (escalate after 15 min, remind after 4 h), its push
    running; grid G-A with an on-duty worker and an off-duty leader, both on SMS."""
    settings = make_settings(
        broker, db_url, tmp_path / "hub", escalate_after_min=15, remind_after_h=4
    )
    recorded = Recorded()
    built = Hub(settings, with_api=False, extra_channels=[recorded])
    assert isinstance(built.sms, LogSender)  # the log driver: it keeps what it sent
    with built.store.transaction() as session:
        for worker_id, phone, on_duty in (("W-LEAD", LEADER, False), ("W-1", ON_DUTY, True)):
            session.add(
                GridWorkerRow(
                    worker_id=worker_id, name=worker_id, channels={"sms": phone}, on_duty=on_duty
                )
            )
        session.flush()
        session.add(GridRow(grid_id="G-A", name="网格 A", leader_worker_id="W-LEAD"))
        session.flush()
        session.execute(insert(worker_grids).values(worker_id="W-1", grid_id="G-A"))
    built.push.start()
    yield built, recorded, built.sms
    built.stop()


def _age(hub: Hub, alert_id: uuid.UUID, by: timedelta) -> None:
    """Move the alert's times back, as if ``by`` had passed since it last changed."""
    with hub.store.transaction() as session:
        row = session.get(AlertRow, alert_id)
        assert row is not None
        row.raised_at -= by
        row.updated_at -= by


def _tick(hub: Hub, recorded: Recorded) -> list[Alert]:
    """One round of the hub's timer; what it pushed (once every channel delivered it)."""
    hub.escalator.run_once()
    assert hub.push.wait_idle(20)
    return recorded.take()


def _actions(hub: Hub, alert_id: uuid.UUID) -> list[str]:
    with hub.store.transaction() as session:
        return list(
            session.scalars(
                select(AlertAuditRow.action)
                .where(AlertAuditRow.alert_id == alert_id)
                .order_by(AlertAuditRow.id)
            )
        )


def test_an_open_alert_nobody_takes_is_escalated_then_reminded_every_interval(
    hub: tuple[Hub, Recorded, LogSender],
) -> None:
    app, recorded, sms = hub
    alert = raise_alert(app.store, "G-A")
    assert _tick(app, recorded) == []  # fresh: nothing due

    _age(app, alert.alert_id, timedelta(minutes=20))
    (escalated,) = _tick(app, recorded)
    assert (escalated.alert_id, escalated.state, escalated.escalated) == (
        alert.alert_id,
        AlertState.OPEN,
        True,
    )
    assert sorted(target for target, _ in sms.sent) == [ON_DUTY, LEADER]
    assert _tick(app, recorded) == []  # escalated once; a reminder only after 4 h

    pushed_at = [escalated.updated_at]
    for _ in range(2):  # 4 h untouched, twice: pushed again each time
        _age(app, alert.alert_id, timedelta(hours=4, minutes=1))
        (reminder,) = _tick(app, recorded)
        assert (reminder.alert_id, reminder.state, reminder.escalated) == (
            alert.alert_id,
            AlertState.OPEN,
            True,
        )
        assert reminder.updated_at >= pushed_at[-1]  # news again for personal channels
        pushed_at.append(reminder.updated_at)
        assert _tick(app, recorded) == []  # the reminder counts as a touch
    assert _actions(app, alert.alert_id) == ["raised", "escalated", "reminded", "reminded"]
    assert sorted(target for target, _ in sms.sent) == [ON_DUTY] * 3 + [LEADER] * 3
    assert all(text.startswith("[gridgate 升级]") for _, text in sms.sent)
    with app.store.transaction() as session:
        details = session.scalars(
            select(AlertAuditRow.detail).where(AlertAuditRow.action == "reminded")
        ).all()
        delivered = session.scalars(
            select(DeliveryRow.status).where(DeliveryRow.channel == "recorded")
        ).all()
    assert details == ["unacknowledged for 4 h"] * 2
    assert delivered == ["sent"] * 3


def test_acknowledged_alerts_are_reminded_and_resolved_ones_never(
    hub: tuple[Hub, Recorded, LogSender],
) -> None:
    app, recorded, sms = hub
    taken = raise_alert(app.store, "G-A", "face:taken")
    done = raise_alert(app.store, "G-A", "face:done")
    with app.store.transaction() as session:
        for alert_id in (taken.alert_id, done.alert_id):
            row = session.get(AlertRow, alert_id)
            assert row is not None
            acknowledge(session, row, "W-1", utc_now())
        row = session.get(AlertRow, done.alert_id)
        assert row is not None
        resolve(session, row, "W-1", Resolution.FALSE_ALARM, utc_now())
    for alert_id in (taken.alert_id, done.alert_id):
        _age(app, alert_id, timedelta(hours=5))
    (reminder,) = _tick(app, recorded)  # acknowledged: not escalated, but reminded
    assert (reminder.alert_id, reminder.state, reminder.escalated) == (
        taken.alert_id,
        AlertState.ACKNOWLEDGED,
        False,
    )
    assert [target for target, _ in sms.sent] == [ON_DUTY]  # the leader only once escalated
    assert _tick(app, recorded) == []
    assert _actions(app, done.alert_id) == ["raised", "acknowledged", "resolved"]
