"""Who sees what: a grid worker only their grids (tasks, results, the live alert stream), a device
no staff endpoint, and only admins manage logins."""

from __future__ import annotations

import json
import threading
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from hub.api.main import create_app
from hub.auth.roles import Role
from hub.broker import free_port
from hub.config import HubSettings
from hub.devices.passwords import hash_password as hash_device_password
from hub.push.sse import SseBroadcaster
from hub.store.db import Store
from hub.store.device_tables import RegisteredDeviceRow
from hub.store.task_tables import TaskRow
from models import Alert
from models.alerts import AlertRule, Severity
from models.base import utc_now
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET
from tests.support.grids import seed_grids
from tests.support.logins import PASSWORD, add_login, bearer

DEVICE_PASSWORD = "device-password-for-scoping"
TODAY = date(2026, 11, 23)


def _settings(store: Store, tmp_path: Path) -> HubSettings:
    return HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )


def _seed(store: Store) -> dict[str, uuid.UUID]:
    """Grids G-A / G-B, logins (worker of A, operator, admin, a device) and a task per grid."""
    seed_grids(store)
    add_login(store, "wang", Role.GRID_WORKER, worker_id="W-A")
    add_login(store, "ops")
    add_login(store, "root", Role.ADMIN)
    tasks = {}
    with store.transaction() as session:
        session.add(
            RegisteredDeviceRow(
                device_id="gate-01",
                site_id="site-a",
                kind="gate",
                created_at=utc_now(),
                credential=hash_device_password(DEVICE_PASSWORD),
            )
        )
        for grid, worker in (("G-A", "W-A"), ("G-B", "W-B")):
            tasks[grid] = uuid.uuid4()
            session.add(
                TaskRow(
                    task_id=tasks[grid],
                    day=TODAY,
                    kind="test_overdue",
                    grid_id=grid,
                    subject=f"resident:{grid}",
                    worker_id=worker,
                    status="pending",
                )
            )
    return tasks


@pytest.fixture
def scoped(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, uuid.UUID]]]:
    tasks = _seed(store)
    with TestClient(create_app(_settings(store, tmp_path), store)) as client:
        yield client, tasks


def test_a_grid_worker_sees_and_records_only_their_grids_tasks(
    scoped: tuple[TestClient, dict[str, uuid.UUID]],
) -> None:
    client, tasks = scoped
    wang, ops = bearer(client, "wang"), bearer(client, "ops")
    everything = client.get("/api/tasks", params={"day": str(TODAY)}, headers=ops).json()
    assert sorted(t["grid_id"] for t in everything) == ["G-A", "G-B"]
    for filters in ({}, {"mine": "false"}, {"mine": "true"}, {"limit": "2000"}):
        seen = client.get("/api/tasks", params={"day": str(TODAY), **filters}, headers=wang)
        assert seen.status_code == 200
        assert [t["task_id"] for t in seen.json()] == [str(tasks["G-A"])], filters
    outcome = {"result": "reached", "note": "seen at the door"}
    other = client.post(f"/api/tasks/{tasks['G-B']}/result", json=outcome, headers=wang)
    assert other.status_code == 404
    # the refusal changed nothing: B's task is still pending for the operator
    (b_task,) = [t for t in everything if t["grid_id"] == "G-B"]
    again = client.get("/api/tasks", params={"day": str(TODAY)}, headers=ops).json()
    assert [t for t in again if t["grid_id"] == "G-B"] == [b_task]
    own = client.post(f"/api/tasks/{tasks['G-A']}/result", json=outcome, headers=wang)
    assert own.status_code == 200 and own.json()["status"] == "done"
    bad = client.post(f"/api/tasks/{tasks['G-A']}/result", json={"result": "?"}, headers=wang)
    assert bad.status_code == 422


def test_a_device_token_opens_no_staff_endpoint(
    scoped: tuple[TestClient, dict[str, uuid.UUID]],
) -> None:
    client, tasks = scoped
    device = bearer(client, "gate-01", DEVICE_PASSWORD)
    assert client.get("/api/gallery/site-a", headers=device).status_code != 403  # its own role
    staff_only = [
        ("GET", "/api/alerts"),
        ("GET", "/api/alerts/stream"),
        ("GET", "/api/tasks"),
        ("POST", f"/api/tasks/{tasks['G-A']}/result"),
        ("POST", "/api/tasks/generate"),
        ("GET", "/api/ledger/addresses/search?q=长庚里"),
        ("GET", "/api/users"),
    ]
    for method, path in staff_only:
        body = {"result": "reached"} if method == "POST" else None
        response = client.request(method, path, headers=device, json=body)
        assert response.status_code == 403, (method, path, response.status_code)
    forged = {"Authorization": "Bearer not-a-token"}
    assert client.get("/api/alerts", headers=forged).status_code == 401


def _alert(grid: str) -> Alert:
    now = utc_now()
    return Alert(
        alert_id=uuid.uuid4(),
        rule=AlertRule.UNREGISTERED_PERSON,
        severity=Severity.MAJOR,
        grid_id=grid,
        site_id="site-a",
        subject_ref=f"face:{grid}",
        summary=f"unregistered face in {grid}",
        raised_at=now,
        updated_at=now,
    )


@pytest.fixture
def streaming(store: Store, tmp_path: Path) -> Iterator[tuple[str, SseBroadcaster]]:
    """The API served on a real port (SSE needs a streaming server) with its broadcaster."""
    _seed(store)
    broadcaster = SseBroadcaster()
    app = create_app(_settings(store, tmp_path), store, alerts_stream=broadcaster)
    port = free_port()
    # an open stream holds a database session: stopping must cut it, or the test's
    # PostgreSQL schema cannot be dropped
    config = uvicorn.Config(
        app, host="127.0.0.1", port=port, log_level="error", timeout_graceful_shutdown=1
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 15, "the API to listen")
    yield f"http://127.0.0.1:{port}", broadcaster
    server.should_exit = True
    thread.join(10)
    wait_for(lambda: broadcaster.subscribers == 0, 10, "the streams closed")


def test_the_alert_stream_carries_only_the_workers_grids(
    streaming: tuple[str, SseBroadcaster],
) -> None:
    base, broadcaster = streaming
    api = httpx.Client(base_url=base, timeout=30)
    wang = bearer(api, "wang")
    received: dict[str, list[Alert]] = {"all": [], "asked_b": []}
    opened = {name: threading.Event() for name in received}

    def listen(name: str, params: dict[str, str]) -> None:
        with api.stream("GET", "/api/alerts/stream", headers=wang, params=params) as response:
            assert response.status_code == 200
            opened[name].set()
            try:
                for line in response.iter_lines():
                    if line.startswith("data:"):
                        received[name].append(Alert.model_validate(json.loads(line[5:])))
                        return
            except httpx.RemoteProtocolError:
                return  # the server stopped (an empty stream stays open until then)

    listeners = [
        threading.Thread(target=listen, args=("all", {}), daemon=True),
        threading.Thread(target=listen, args=("asked_b", {"grid": "G-B"}), daemon=True),
    ]
    for listener in listeners:
        listener.start()
    assert all(event.wait(10) for event in opened.values())
    wait_for(lambda: broadcaster.subscribers == 2, 10, "both streams subscribed")
    b_alert, a_alert = _alert("G-B"), _alert("G-A")
    assert broadcaster.send(b_alert) == "0 streams"  # asking for G-B does not widen the scope
    broadcaster.send(a_alert)
    listeners[0].join(15)
    assert [a.alert_id for a in received["all"]] == [a_alert.alert_id]
    assert received["asked_b"] == []


def test_only_admins_manage_logins_and_a_created_worker_can_log_in(
    scoped: tuple[TestClient, dict[str, uuid.UUID]],
) -> None:
    client, _ = scoped
    ops, root, wang = bearer(client, "ops"), bearer(client, "root"), bearer(client, "wang")
    new = {"username": "zhao", "password": PASSWORD, "role": "grid_worker", "worker_id": "W-B"}
    for caller in (ops, wang):
        assert client.get("/api/users", headers=caller).status_code == 403
        assert client.post("/api/users", json=new, headers=caller).status_code == 403
        assert client.delete("/api/users/wang", headers=caller).status_code == 403
    created = client.post("/api/users", json=new, headers=root)
    assert created.status_code == 201, created.text
    assert created.json()["role"] == "grid_worker" and "password" not in created.json()
    zhao = bearer(client, "zhao")
    assert client.get("/api/auth/me", headers=zhao).json()["grids"] == ["G-B"]
    listed = client.get("/api/users", headers=root).json()
    assert [u["username"] for u in listed] == ["ops", "root", "wang", "zhao"]
    refusals = [
        ({**new, "username": "zhao"}, 409),  # taken
        ({**new, "username": "li", "worker_id": "W-NONE"}, 422),  # not in the ledger
        ({**new, "username": "li", "password": "short"}, 422),
        ({**new, "username": "li", "role": "device"}, 422),
        ({**new, "username": "li", "role": "emperor"}, 422),
        ({**new, "username": "li", "extra": 1}, 422),
    ]
    for body, code in refusals:
        assert client.post("/api/users", json=body, headers=root).status_code == code, body
    assert client.delete("/api/users/zhao", headers=root).json()["disabled"] is True
    assert client.get("/api/auth/me", headers=zhao).status_code == 401
    assert client.delete("/api/users/nobody", headers=root).status_code == 404
    assert client.delete("/api/users/root", headers=root).status_code == 409
