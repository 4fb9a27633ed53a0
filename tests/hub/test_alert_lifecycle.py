"""The alert lifecycle over the API: acknowledge, sweep, resolve, audit, scoping, escalation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.alerts.escalation import Escalator
from hub.alerts.lifecycle import escalate_due, remind_due
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.config import HubSettings
from hub.push.sse import SseBroadcaster, Subscription
from hub.store import Store
from hub.store.alert_tables import AlertAuditRow, AlertRow
from models.alerts import Alert, AlertState
from models.base import utc_now
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET
from tests.support.grids import raise_alert, seed_grids
from tests.support.logins import add_login, bearer


@pytest.fixture
def stream() -> SseBroadcaster:
    return SseBroadcaster()


@pytest.fixture
def client(store: Store, tmp_path: Path, stream: SseBroadcaster) -> Iterator[TestClient]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    seed_grids(store)
    add_login(store, "ops")
    add_login(store, "wang", Role.GRID_WORKER, worker_id="W-A")
    with TestClient(create_app(settings, store, alerts_stream=stream)) as test_client:
        yield test_client


def test_acknowledge_sweep_resolve_with_audit_and_live_updates(
    client: TestClient, store: Store, stream: SseBroadcaster
) -> None:
    alert = raise_alert(store, "G-A")
    loop = asyncio.new_event_loop()  # a browser's stream loop, in its own thread
    threading.Thread(target=loop.run_forever, daemon=True).start()

    async def subscribe() -> Subscription:
        return stream.subscribe(frozenset({"G-A"}))

    subscription = asyncio.run_coroutine_threadsafe(subscribe(), loop).result(10)
    headers = bearer(client, "wang")
    url = f"/api/alerts/{alert.alert_id}"
    early = client.post(f"{url}/resolve", json={"resolution": "false_alarm"}, headers=headers)
    assert early.status_code == 409 and "open" in early.json()["detail"]
    acked = client.post(f"{url}/acknowledge", json={"note": "on my way"}, headers=headers)
    assert acked.status_code == 200 and acked.json()["state"] == "acknowledged"
    twice = client.post(f"{url}/acknowledge", json={}, headers=headers)
    assert twice.status_code == 409
    for step in ("door_visit", "phone"):
        swept = client.post(f"{url}/sweep", json={"step": step, "note": step}, headers=headers)
        assert swept.json()["state"] == "in_progress"
    bad = client.post(f"{url}/sweep", json={"step": "teleport"}, headers=headers)
    assert bad.status_code == 422
    done = client.post(
        f"{url}/resolve",
        json={"resolution": "registered_now", "note": "tenant, registered today"},
        headers=headers,
    )
    assert done.status_code == 200
    assert done.json()["state"] == "resolved" and done.json()["resolution"] == "registered_now"

    detail = client.get(url, headers=headers).json()
    actions = [(a["actor"], a["action"]) for a in detail["audit"]]
    assert actions == [
        ("hub", "raised"),
        ("wang", "acknowledged"),
        ("wang", "sweep:door_visit"),
        ("wang", "sweep:phone"),
        ("wang", "resolved"),
        ("wang", "viewed"),
    ]
    assert detail["acknowledged_by"] == "wang" and detail["resolved_by"] == "wang"

    async def drain() -> list[AlertState]:
        await asyncio.sleep(0)  # deliver what send() scheduled on the loop
        return [subscription.queue.get_nowait().state for _ in range(subscription.queue.qsize())]

    pushed = asyncio.run_coroutine_threadsafe(drain(), loop).result(10)
    loop.call_soon_threadsafe(loop.stop)
    assert pushed == [
        AlertState.ACKNOWLEDGED,
        AlertState.IN_PROGRESS,
        AlertState.IN_PROGRESS,
        AlertState.RESOLVED,
    ]
    again = raise_alert(store, "G-A")  # the same person seen again after resolution: a new alert
    assert again.alert_id != alert.alert_id


def test_grid_workers_see_and_act_only_on_their_grids(client: TestClient, store: Store) -> None:
    mine, theirs = raise_alert(store, "G-A", "face:1"), raise_alert(store, "G-B", "face:2")
    worker, operator = bearer(client, "wang"), bearer(client, "ops")
    listed = client.get("/api/alerts", headers=worker).json()
    assert [a["alert_id"] for a in listed] == [str(mine.alert_id)]
    assert len(client.get("/api/alerts", headers=operator).json()) == 2
    assert client.get(f"/api/alerts/{theirs.alert_id}", headers=worker).status_code == 404
    foreign = client.post(f"/api/alerts/{theirs.alert_id}/acknowledge", json={}, headers=worker)
    assert foreign.status_code == 404
    with store.sessions() as session:
        assert session.get(AlertRow, theirs.alert_id).state == "open"  # type: ignore[union-attr]
    active = client.get("/api/alerts", params={"active": True}, headers=operator).json()
    assert len(active) == 2


def test_unacknowledged_alerts_escalate_to_the_grid_leader_once(store: Store) -> None:
    seed_grids(store)
    stale, fresh = raise_alert(store, "G-A", "face:1"), raise_alert(store, "G-B", "face:2")
    with store.transaction() as session:
        row = session.get(AlertRow, stale.alert_id)
        assert row is not None
        row.raised_at = utc_now() - timedelta(minutes=20)
    with store.transaction() as session:
        escalated = escalate_due(session, utc_now(), timedelta(minutes=15))
        assert [r.alert_id for r in escalated] == [stale.alert_id]
    with store.transaction() as session:
        assert escalate_due(session, utc_now(), timedelta(minutes=15)) == []
        audit = session.scalars(
            select(AlertAuditRow).where(AlertAuditRow.action == "escalated")
        ).all()
        assert [a.alert_id for a in audit] == [stale.alert_id]
        assert "王芳 (W-A)" in audit[0].detail
        assert session.get(AlertRow, fresh.alert_id).escalated_at is None  # type: ignore[union-attr]


class Collected:
    """An alert sink that keeps what it is given."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def test_the_escalation_timer_pushes_each_stale_alert_once_marked_escalated(store: Store) -> None:
    seed_grids(store)
    alert = raise_alert(store, "G-A")
    sink = Collected()
    escalator = Escalator(store, sink, timedelta(0), interval_s=0.05)
    escalator.start()
    try:
        wait_for(lambda: len(sink.alerts) == 1, 10, "the escalated alert")
        assert escalator.run_once() == 0
    finally:
        escalator.stop()
    (pushed,) = sink.alerts
    assert pushed.alert_id == alert.alert_id and pushed.escalated


def test_acknowledged_alerts_left_unhandled_are_reminded_then_again_later(
    client: TestClient, store: Store
) -> None:
    alert = raise_alert(store, "G-A")
    client.post(
        f"/api/alerts/{alert.alert_id}/acknowledge", json={}, headers=bearer(client, "wang")
    )
    untouched = raise_alert(store, "G-B", "face:2")  # open: escalation's business, not reminders
    with store.transaction() as session:
        for alert_id in (alert.alert_id, untouched.alert_id):
            row = session.get(AlertRow, alert_id)
            assert row is not None
            row.updated_at = utc_now() - timedelta(hours=5)
    with store.transaction() as session:
        reminded = remind_due(session, utc_now(), timedelta(hours=4))
        assert [r.alert_id for r in reminded] == [alert.alert_id]
    with store.transaction() as session:
        assert remind_due(session, utc_now(), timedelta(hours=4)) == []  # touched by the reminder
        actions = session.scalars(
            select(AlertAuditRow.action).where(AlertAuditRow.alert_id == alert.alert_id)
        ).all()
    assert actions[-1] == "reminded"
