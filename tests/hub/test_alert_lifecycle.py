"""The alert lifecycle over the API: acknowledge, sweep, resolve, audit, scoping, escalation."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.alerts.escalation import Escalator
from hub.alerts.lifecycle import escalate_due, remind_due
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.config import HubSettings
from hub.ledger import sample
from hub.ledger.address_search import address_text
from hub.push.sse import SseBroadcaster, Subscription
from hub.store import Store
from hub.store.alert_tables import AlertAuditRow, AlertRow
from hub.store.events import store_events
from hub.store.ledger_tables import AddressRow, ResidentRow
from models.alerts import Alert, AlertRule, AlertState
from models.base import new_id, utc_now
from models.events import (
    Direction,
    DoorPlateObservation,
    GateAction,
    GateDecision,
    PassageEvent,
)
from models.identity import mask_name
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


def test_the_detail_names_the_resident_and_suggests_leads_in_the_alerts_grid(
    client: TestClient, store: Store
) -> None:
    generated = sample.generate(20, seed=3)
    sample.load(store, generated, b"identity-key-for-lifecycle-tests-0000")
    grid = generated.grids[0]["grid_id"]
    with store.transaction() as session:
        shared = (
            select(ResidentRow.address_code)
            .where(ResidentRow.address_code.is_not(None))
            .group_by(ResidentRow.address_code)
            .having(func.count() > 1)
        )
        holder = session.scalars(
            select(ResidentRow).where(ResidentRow.address_code.in_(shared)).limit(1)
        ).first()
        assert holder is not None and holder.address_code is not None
        plate, holder_id, holder_ref = holder.address_code, holder.resident_id, holder.holder_ref
        name, phone = holder.name, holder.phone
        event = PassageEvent(
            event_id=new_id(),
            device_id="gate-01",
            site_id="site-a",
            gate_id="east",
            direction=Direction.ENTRY,
            occurred_at=utc_now(),
            observations=[DoorPlateObservation(address_code=plate, seen_at=utc_now())],
            decision=GateDecision(action=GateAction.OBSERVE),
        )
        store_events(session, [event])
    operator = bearer(client, "ops")

    # a red pass whose holder is in the ledger, raised before they were matched: no resident_id
    red = raise_alert(store, grid, holder_ref, rule=AlertRule.RED_CODE)
    detail = client.get(f"/api/alerts/{red.alert_id}", headers=operator).json()
    assert detail["resident"]["resident_id"] == holder_id
    assert detail["resident"]["address_code"] == plate
    assert "*" in detail["resident"]["id_masked"]
    lead, *household = detail["suggestions"]
    assert lead.startswith(mask_name(name)) and f"({plate})" in lead
    assert phone not in lead and phone[-4:] in lead  # the phone masked
    (others,) = household  # the others registered at the holder's address: close contacts
    assert others.startswith(f"{address_text_of(store, plate)} ({plate}): ")
    assert mask_name(name) not in others.split(": ", 1)[1].split(", ")

    # an unregistered face with the household's door plate: who is registered there
    face = raise_alert(store, grid, "face:stranger", event_id=event.event_id)
    detail = client.get(f"/api/alerts/{face.alert_id}", headers=operator).json()
    assert detail["resident"] is None
    (registered,) = detail["suggestions"]
    assert registered.startswith(f"{address_text_of(store, plate)} ({plate}): ")
    assert mask_name(name) in registered and name not in registered

    # the same plate seen by an alert of another grid: nothing from this grid leaks into it
    foreign = raise_alert(store, "G-B", "face:elsewhere", event_id=event.event_id)
    detail = client.get(f"/api/alerts/{foreign.alert_id}", headers=operator).json()
    assert detail["suggestions"] == [] and detail["seen"]["door_plates"] == [plate]
    assert (
        client.get(f"/api/alerts/{face.alert_id}", headers=bearer(client, "wang")).status_code
        == 404
    )


def address_text_of(store: Store, code: str) -> str:
    with store.sessions() as session:
        row = session.get(AddressRow, code)
        assert row is not None
        return address_text(row)
