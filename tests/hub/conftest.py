"""Hub fixtures: a store on SQLite and on PostgreSQL, settings, a running consumer, an edge."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import URL

from hub.config import HubSettings
from hub.ingest.consumer import IngestConsumer
from hub.store.db import Store
from tests.hub.postgres import (
    PostgresUnavailableError,
    admin_url,
    temporary_database,
    temporary_schema,
)
from tests.support.broker import MosquittoBroker
from tests.support.hub_publisher import HubPublisher

TEST_SECRET = "test-secret-key-that-is-long-enough-0123456789"


@pytest.fixture(scope="module")
def pg_database() -> Iterator[URL]:
    """A fresh PostgreSQL database for this test module, dropped afterwards."""
    try:
        server = admin_url()
    except PostgresUnavailableError as exc:
        pytest.skip(f"PostgreSQL variant skipped: {exc}")
    with temporary_database(server) as url:
        yield url


@pytest.fixture
def pg_url(pg_database: URL) -> Iterator[str]:
    """A fresh schema's URL in the module's PostgreSQL database."""
    with temporary_schema(pg_database) as url:
        yield url.render_as_string(hide_password=False)


@pytest.fixture(params=["sqlite", "postgresql"])
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database: an SQLite file, or a fresh schema in the module's PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'hub.db'}"
    return str(request.getfixturevalue("pg_url"))


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """The migrated store on ``db_url``."""
    opened = Store.open(db_url)
    yield opened
    opened.close()


def make_settings(
    broker: MosquittoBroker, db_url: str, data_dir: Path, **extra: Any
) -> HubSettings:
    """Settings for a hub on ``broker`` and ``db_url`` with a unique MQTT client id."""
    values: dict[str, Any] = {
        "data_dir": data_dir,
        "database_url": db_url,
        "mqtt_host": broker.host,
        "mqtt_port": broker.port,
        "mqtt_client_id": f"hub-{uuid.uuid4().hex[:8]}",
        "secret_key": TEST_SECRET,
    }
    values.update(extra)
    return HubSettings(**values)


@pytest.fixture
def settings(broker: MosquittoBroker, db_url: str, tmp_path: Path) -> HubSettings:
    """Hub settings for the test's broker and database."""
    return make_settings(broker, db_url, tmp_path / "hub")


@pytest.fixture
def consumer(settings: HubSettings, store: Store) -> Iterator[IngestConsumer]:
    """A running, subscribed ingest consumer."""
    running = IngestConsumer(settings, store)
    running.start()
    assert running.wait_ready(10), "the ingest consumer did not subscribe"
    yield running
    running.stop()


@pytest.fixture
def publisher(broker: MosquittoBroker) -> Iterator[HubPublisher]:
    """A connected stand-in edge link that resends unacked events."""
    edge = HubPublisher(broker.host, broker.port, client_id=f"edge-{uuid.uuid4().hex[:8]}")
    edge.start()
    yield edge
    edge.stop()
