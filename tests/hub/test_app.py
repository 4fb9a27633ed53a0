"""The composition root and the ``gridgate-hub`` command line."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import httpx
from fastapi.testclient import TestClient
from threadpoolctl import threadpool_info, threadpool_limits

from hub.app import Hub
from hub.config import HubSettings
from hub.store.db import create_db_engine
from hub.store.migrate import current_revision, head_revision
from tests.hub.conftest import TEST_SECRET
from tests.support.broker import MosquittoBroker, free_port
from tests.support.factories import passage_event
from tests.support.hub_publisher import HubPublisher
from tests.support.logins import operator_headers

REPO = Path(__file__).resolve().parents[2]


def _cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub.cli", *args],
        cwd=REPO,
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_hub_builds_starts_and_stops(settings: HubSettings, publisher: HubPublisher) -> None:
    hub = Hub(settings)
    assert hub.api is not None
    hub.start()
    try:
        assert hub.ingest.wait_ready(10)
        publisher.publish(passage_event())
        assert publisher.wait_settled(30)
        with TestClient(hub.api) as client:
            assert client.get("/healthz").status_code == 200
            assert "gridgate_hub_events_ingested_total 1.0" in client.get("/metrics").text
            assert "process_cpu_seconds_total" in client.get("/metrics").text
            client.headers.update(operator_headers(hub.store, client))
            assert len(client.get("/api/events").json()) == 1
    finally:
        hub.stop()
    assert not hub.ingest.connected


def test_cli_run_serves_the_api_and_stops_cleanly_on_sigterm(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    api_port = free_port()
    env = {
        **os.environ,
        "GRIDGATE_HUB_DATA_DIR": str(tmp_path / "hub"),
        "GRIDGATE_HUB_SECRET_KEY": TEST_SECRET,
        "GRIDGATE_HUB_MQTT_CLIENT_ID": "cli-run-test",
    }
    log = tmp_path / "hub.log"
    command = [sys.executable, "-m", "hub.cli", "run", "--mqtt-port", str(broker.port)]
    with log.open("wb") as out:
        proc = subprocess.Popen(
            [*command, "--api-port", str(api_port)],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        deadline = time.monotonic() + 30
        status = None
        while time.monotonic() < deadline and status != 200:
            try:
                status = httpx.get(f"http://127.0.0.1:{api_port}/healthz", timeout=2).status_code
            except httpx.TransportError:
                time.sleep(0.1)
        assert status == 200, log.read_text()[-3000:]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0, log.read_text()[-3000:]
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert "hub stopped" in log.read_text()
    assert (tmp_path / "hub" / "hub.db").exists()


def test_cli_db_upgrade(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'x' / 'hub.db'}"
    result = _cli("db", "upgrade", "--database-url", url)
    assert result.returncode == 0, result.stderr
    engine = create_db_engine(url)
    try:
        assert current_revision(engine) == head_revision()
    finally:
        engine.dispose()


def test_cli_refuses_the_default_secret(tmp_path: Path) -> None:
    result = _cli(
        "ingest",
        env={"GRIDGATE_HUB_DATA_DIR": str(tmp_path), "GRIDGATE_HUB_SECRET_KEY": "changethis"},
    )
    assert result.returncode == 2
    assert "GRIDGATE_HUB_SECRET_KEY" in result.stderr


def test_hub_limits_blas_threads(settings: HubSettings) -> None:
    """Face matching's BLAS runs on the configured threads (spare ones only spin-wait)."""
    blas = [pool for pool in threadpool_info() if pool["user_api"] == "blas"]
    assert blas, "numpy's BLAS is not visible to threadpoolctl"
    before = {pool["filepath"]: pool["num_threads"] for pool in blas}
    try:
        Hub(settings.model_copy(update={"blas_threads": 1}), with_api=False).store.close()
        assert {p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas"} == {1}
    finally:
        for pool in blas:
            threadpool_limits(limits=before[pool["filepath"]], user_api="blas")
