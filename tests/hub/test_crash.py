"""The hub ingest process killed with SIGKILL mid-stream loses nothing and stores nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from hub.store import DeadLetterRow, DeviceRow, EventRow, Store
from tests.hub.conftest import TEST_SECRET
from tests.support.broker import MosquittoBroker
from tests.support.factories import passage_event
from tests.support.hub_publisher import HubPublisher

REPO = Path(__file__).resolve().parents[2]
TOTAL = 5000
KILL_AFTER_STORED = 800


class HubProcess:
    """``python -m hub.cli ingest`` configured through the environment."""

    def __init__(self, env: dict[str, str], log: Path, log_level: str = "WARNING") -> None:
        self.env, self.log, self.log_level = env, log, log_level
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "hub.cli", "ingest", "--log-level", self.log_level],
                cwd=REPO,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )

    def kill(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait(10)

    def terminate(self) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        return self.proc.returncode


@pytest.fixture
def hub_process(broker: MosquittoBroker, db_url: str, tmp_path: Path) -> Iterator[HubProcess]:
    env = {
        **os.environ,
        "GRIDGATE_HUB_DATABASE_URL": db_url,
        "GRIDGATE_HUB_DATA_DIR": str(tmp_path / "hub"),
        "GRIDGATE_HUB_MQTT_HOST": broker.host,
        "GRIDGATE_HUB_MQTT_PORT": str(broker.port),
        "GRIDGATE_HUB_MQTT_CLIENT_ID": "hub-crash-test",
        "GRIDGATE_HUB_SECRET_KEY": TEST_SECRET,
    }
    process = HubProcess(env, tmp_path / "hub.log")
    yield process
    process.kill()


def _count(store: Store, table: type[EventRow] | type[DeadLetterRow]) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def _wait(condition: Callable[[], bool], timeout: float, what: str, log: Path) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail(f"timed out waiting for {what}; hub log:\n{log.read_text()[-3000:]}")
        time.sleep(0.05)


@pytest.mark.slow
def test_sigkill_mid_stream_then_restart_stores_every_event_once(
    hub_process: HubProcess, broker: MosquittoBroker, db_url: str
) -> None:
    hub_process.start()
    store = Store.open(db_url, migrate=False)  # the hub migrates; wait for its tables
    edge = HubPublisher(broker.host, broker.port, client_id="crash-edge", resend_after=2.0)
    edge.start()
    try:
        edge.announce("site-a", "gate-01")
        _wait(lambda: _devices_seen(store), 30, "the hub to subscribe", hub_process.log)

        sent = [passage_event(device_id=f"gate-0{i % 4}", seq=i) for i in range(TOTAL)]
        half = TOTAL // 2
        for event in sent[:half]:
            edge.publish(event)
        _wait(
            lambda: _count(store, EventRow) >= KILL_AFTER_STORED,
            60,
            "the first events to be stored",
            hub_process.log,
        )
        hub_process.kill()
        stored_at_kill = _count(store, EventRow)
        for event in sent[half:]:
            edge.publish(event)
        hub_process.start()
        assert edge.wait_settled(90), f"{edge.pending} events never acked"
        assert hub_process.terminate() == 0
        with store.sessions() as session:
            stored = list(session.scalars(select(EventRow.event_id)))
        assert stored_at_kill < TOTAL
        assert len(stored) == TOTAL
        assert set(stored) == {e.event_id for e in sent}
        assert _count(store, DeadLetterRow) == 0
        assert not edge.rejected
    finally:
        edge.stop()
        store.close()


def _devices_seen(store: Store) -> bool:
    try:
        with store.sessions() as session:
            return bool(session.scalar(select(func.count()).select_from(DeviceRow)))
    except SQLAlchemyError:  # the hub has not created its tables yet
        return False
