"""The HTTP API through FastAPI's TestClient: health, metrics, events, devices."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from prometheus_client import CollectorRegistry

from hub.api.main import create_app
from hub.config import HubSettings
from hub.ingest.consumer import IngestConsumer, IngestStats
from hub.store import Store
from hub.store.events import store_events, upsert_device_status
from models import ComponentVersions, DeviceStatus, PassageEvent
from models.base import utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.factories import passage_event
from tests.support.logins import operator_headers


def _settings(store: Store, tmp_path: Path) -> HubSettings:
    return HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    with TestClient(create_app(_settings(store, tmp_path), store)) as test_client:
        test_client.headers.update(operator_headers(store, test_client))
        yield test_client


class FakeIngest:
    """An ingest state with a chosen link state."""

    def __init__(self, subscribed: bool) -> None:
        self.subscribed = subscribed

    def stats(self) -> IngestStats:
        return IngestStats(
            connected=self.subscribed,
            subscribed=self.subscribed,
            received=0,
            stored=0,
            duplicates=0,
            dead_letters=0,
            statuses=0,
            acks_published=0,
            dropped=0,
            batches=0,
            db_errors=0,
            queue_depth=3,
        )


def _events(store: Store) -> list[PassageEvent]:
    base = utc_now() - timedelta(minutes=10)
    made = []
    for i in range(6):
        event = passage_event(device_id=f"gate-0{i % 2}", site_id="site-a" if i < 4 else "site-b")
        made.append(event.model_copy(update={"occurred_at": base + timedelta(seconds=i)}))
    with store.transaction() as session:
        store_events(session, made)
    return made


def test_healthz_without_ingest(client: TestClient) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["ok"] is True
    assert body["mqtt"] == {
        "enabled": False,
        "connected": False,
        "subscribed": False,
        "queue_depth": 0,
    }


@pytest.mark.parametrize(("subscribed", "code"), [(True, 200), (False, 503)])
def test_healthz_reports_the_broker_link(
    store: Store, tmp_path: Path, subscribed: bool, code: int
) -> None:
    app = create_app(_settings(store, tmp_path), store, ingest=FakeIngest(subscribed))
    with TestClient(app) as test_client:
        response = test_client.get("/healthz")
    assert response.status_code == code
    assert response.json()["mqtt"]["queue_depth"] == 3
    assert response.json()["status"] == ("ok" if subscribed else "degraded")


def test_healthz_with_the_database_gone(store: Store, tmp_path: Path) -> None:
    broken = Store.open("postgresql+psycopg://nobody@127.0.0.1:1/none", migrate=False)
    app = create_app(_settings(store, tmp_path), broken)
    with TestClient(app) as test_client:
        response = test_client.get("/healthz")
    broken.close()
    assert response.status_code == 503
    assert response.json()["database"]["ok"] is False


def test_healthz_with_a_running_consumer(
    consumer: IngestConsumer, store: Store, tmp_path: Path
) -> None:
    app = create_app(_settings(store, tmp_path), store, ingest=consumer, registry=consumer.registry)
    with TestClient(app) as test_client:
        health = test_client.get("/healthz")
        metrics = test_client.get("/metrics")
    assert health.status_code == 200 and health.json()["mqtt"]["connected"] is True
    assert metrics.headers["content-type"].startswith("text/plain")
    assert "gridgate_hub_events_ingested_total 0.0" in metrics.text
    assert "gridgate_hub_mqtt_connected 1.0" in metrics.text


def test_metrics_endpoint_serves_the_given_registry(store: Store, tmp_path: Path) -> None:
    registry = CollectorRegistry()
    app = create_app(_settings(store, tmp_path), store, registry=registry)
    with TestClient(app) as test_client:
        assert test_client.get("/metrics").status_code == 200


def test_events_newest_first_with_filters(client: TestClient, store: Store) -> None:
    made = _events(store)
    body = client.get("/api/events").json()
    assert [e["event_id"] for e in body] == [str(e.event_id) for e in reversed(made)]
    assert all(e["event"] is None for e in body)
    site_b = client.get("/api/events", params={"site": "site-b"}).json()
    assert {e["event_id"] for e in site_b} == {str(e.event_id) for e in made[4:]}
    gate_1 = client.get("/api/events", params={"device": "gate-01", "site": "site-a"}).json()
    assert [e["event_id"] for e in gate_1] == [str(made[3].event_id), str(made[1].event_id)]
    assert len(client.get("/api/events", params={"limit": 2}).json()) == 2


def test_events_with_payload(client: TestClient, store: Store) -> None:
    made = _events(store)
    [latest] = client.get("/api/events", params={"limit": 1, "include_payload": True}).json()
    assert PassageEvent.model_validate(latest["event"]) == made[-1]
    assert latest["direction"] == "entry"


@pytest.mark.parametrize("limit", [0, 501])
def test_events_limit_is_bounded(client: TestClient, limit: int) -> None:
    assert client.get("/api/events", params={"limit": limit}).status_code == 422


def test_devices(client: TestClient, store: Store) -> None:
    with store.transaction() as session:
        for device_id, site in [("gate-02", "site-b"), ("gate-01", "site-a")]:
            upsert_device_status(
                session,
                DeviceStatus(
                    device_id=device_id,
                    site_id=site,
                    online=True,
                    reported_at=utc_now(),
                    versions=ComponentVersions(agent="0.1.0"),
                ),
            )
    body = client.get("/api/devices").json()
    assert [d["device_id"] for d in body] == ["gate-01", "gate-02"]
    assert body[0]["online"] is True and body[0]["status"]["versions"]["agent"] == "0.1.0"
    assert [
        d["device_id"] for d in client.get("/api/devices", params={"site": "site-b"}).json()
    ] == ["gate-02"]


def test_coverage_counts_the_ledger_per_grid(client: TestClient, store: Store) -> None:
    from hub.ledger import sample
    from hub.store.ledger_tables import ResidentRow

    generated = sample.generate(40, seed=9)
    sample.load(store, generated, b"identity-key-for-coverage-test-0000")
    with store.transaction() as session:
        first = session.get(ResidentRow, session.query(ResidentRow.resident_id).limit(1).scalar())
        assert first is not None
        first.face_enrolled = True
    (grid,) = client.get("/api/coverage").json()
    assert grid["grid_id"] == generated.grids[0]["grid_id"]
    assert grid["residents"] == 40 and grid["faces_enrolled"] == 1
    assert grid["faces_enrolled_pct"] == 2.5
    assert grid["households"] >= grid["occupied"] > 0
    assert grid["open_alerts"] == 0
