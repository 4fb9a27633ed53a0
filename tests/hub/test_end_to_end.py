"""Gate to grid worker: the real edge link publishes passages, the real hub matches them against
the ledger and pushes alerts to the grid's MQTT topic and the SSE stream; a registered
resident with a green code raises nothing."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from pathlib import Path

import httpx
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

from edge.publish.config import MqttConfig, OutboxConfig
from edge.publish.link import EdgeLink
from edge.publish.outbox import Outbox
from hub.app import Hub
from hub.faces.enroll import enroll
from hub.ledger import sample
from hub.ledger.idnumber import HolderHasher, resident_id_for
from models import Alert, decode, topics
from models.alerts import AlertRule
from models.base import utc_now
from models.events import (
    CodeColour,
    FaceDecision,
    FaceMatch,
    FaceObservation,
    GateAction,
    HealthCodeFormat,
    HealthCodeObservation,
    Observation,
    PassageEvent,
    VerificationStatus,
)
from tests.edge.helpers import wait_for
from tests.hub.conftest import make_settings
from tests.support.broker import MosquittoBroker
from tests.support.factories import passage_of
from tests.support.hub_server import serving
from tests.support.logins import operator_headers

IDENTITY = b"identity-key-for-end-to-end-0000000"
RESIDENT_FACE = np.random.default_rng(21).normal(0, 0.1, 128)
STRANGER_FACE = np.random.default_rng(22).normal(0, 0.1, 128)


class GridWorkerApp:
    """A grid worker's phone: subscribed to the grid's alert topic."""

    def __init__(self, broker: MosquittoBroker, grid: str) -> None:
        self.alerts: list[Alert] = []
        self.ready = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id="worker-phone",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_connect = lambda c, *a: c.subscribe(topics.alerts(grid), qos=1)
        self.client.on_subscribe = lambda *a: self.ready.set()
        self.client.on_message = lambda c, u, m: self.alerts.append(decode(Alert, bytes(m.payload)))
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def running_hub(broker: MosquittoBroker, tmp_path: Path) -> Iterator[tuple[Hub, str, str, int]]:
    settings = make_settings(broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub")
    hub = Hub(settings)
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    row = generated.residents[0]
    resident_id = resident_id_for(HolderHasher(IDENTITY)(row["id_number"]))
    with hub.store.transaction() as session:
        enroll(session, hub.vault, resident_id, RESIDENT_FACE, "test")
    hub.faces.add(resident_id, RESIDENT_FACE)
    with serving(hub) as port:
        yield hub, row["id_number"], generated.sites[0]["site_id"], port


def _event(site: str, *observations: Observation) -> PassageEvent:
    return passage_of(*observations, site_id=site, gate_id="east", action=GateAction.OBSERVE)


def _face(vector: np.ndarray) -> FaceObservation:
    return FaceObservation(
        track_id=1, encoding=[float(v) for v in vector], quality=0.8, seen_at=utc_now()
    )


def test_unregistered_face_alerts_the_grid_and_a_registered_resident_raises_nothing(
    running_hub: tuple[Hub, str, str, int], broker: MosquittoBroker, tmp_path: Path
) -> None:
    hub, id_number, site, port = running_hub
    grid = sample.generate(20, seed=3).sites[0]["grid_id"]
    phone = GridWorkerApp(broker, grid)
    streamed: list[Alert] = []
    stream_open = threading.Event()
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    api.headers.update(operator_headers(hub.store, api))

    def listen() -> None:
        with api.stream("GET", "/api/alerts/stream") as r:
            stream_open.set()
            for line in r.iter_lines():
                if line.startswith("data:"):
                    streamed.append(Alert.model_validate(json.loads(line[5:])))
                    return

    listener = threading.Thread(target=listen, daemon=True)
    listener.start()
    link = EdgeLink(
        MqttConfig(host=broker.host, port=broker.port, ack_timeout_s=3),
        Outbox(OutboxConfig(path=tmp_path / "outbox.db", fsync=False)),
        site_id=site,
        device_id="gate-01",
    )
    link.start()
    try:
        assert phone.ready.wait(10) and stream_open.wait(10)
        wait_for(lambda: hub.alerts_stream.subscribers == 1, 10, "the SSE subscriber")
        green = HealthCodeObservation(
            format=HealthCodeFormat.GRIDGATE,
            status=VerificationStatus.VALID,
            colour=CodeColour.GREEN,
            holder_ref=HolderHasher(IDENTITY)(id_number),
            seen_at=utc_now(),
        )
        link.submit(_event(site, _face(RESIDENT_FACE + 0.001), green))
        wait_for(lambda: hub.ingest.stats().stored == 1, 15, "the resident's passage stored")
        assert link.wait_idle(15)
        link.submit(_event(site, _face(STRANGER_FACE)))
        wait_for(lambda: len(phone.alerts) == 1, 15, "the alert on the grid's topic")
        listener.join(15)
        # The alert can reach the phone before the hub's ack reaches the edge.
        assert link.wait_idle(15), "the hub acknowledged both events"
    finally:
        link.stop()
        phone.close()
    (alert,) = phone.alerts
    assert alert.rule is AlertRule.UNREGISTERED_PERSON
    assert alert.grid_id == grid
    assert [a.alert_id for a in streamed] == [alert.alert_id]
    stored = api.get("/api/alerts").json()
    assert [a["alert_id"] for a in stored] == [str(alert.alert_id)]  # none for the resident


def _kept(decision: FaceDecision, ref: str | None = None, track: int = 1) -> FaceObservation:
    """A face of a site keeping face data on the device: the local decision, no encoding."""
    return FaceObservation(
        track_id=track,
        quality=0.8,
        seen_at=utc_now(),
        local_match=FaceMatch(decision=decision, resident_ref=ref, distance=0.3),
    )


def test_faces_kept_on_the_device_are_matched_by_the_edges_decision(
    running_hub: tuple[Hub, str, str, int], broker: MosquittoBroker, tmp_path: Path
) -> None:
    hub, id_number, site, port = running_hub
    grid = sample.generate(20, seed=3).sites[0]["grid_id"]
    resident_id = resident_id_for(HolderHasher(IDENTITY)(id_number))
    phone = GridWorkerApp(broker, grid)
    link = EdgeLink(
        MqttConfig(host=broker.host, port=broker.port, ack_timeout_s=3),
        Outbox(OutboxConfig(path=tmp_path / "outbox.db", fsync=False)),
        site_id=site,
        device_id="gate-01",
    )
    link.start()
    try:
        assert phone.ready.wait(10)
        link.submit(_event(site, _kept(FaceDecision.KNOWN, resident_id)))
        link.submit(_event(site, _kept(FaceDecision.UNDECIDED, track=2)))
        link.submit(_event(site, _kept(FaceDecision.UNKNOWN, track=3)))
        link.submit(_event(site, _kept(FaceDecision.UNKNOWN, track=3)))  # still at the gate
        wait_for(lambda: hub.ingest.stats().stored == 4, 15, "the four passages stored")
        wait_for(lambda: len(phone.alerts) == 2, 15, "the stranger's alert and its repeat")
        assert link.wait_idle(15), "the hub acknowledged every event"
    finally:
        link.stop()
        phone.close()
    first, repeat = phone.alerts
    assert first.rule is AlertRule.UNREGISTERED_PERSON
    assert (repeat.alert_id, repeat.repeat_count) == (first.alert_id, 2)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    api.headers.update(operator_headers(hub.store, api))
    stored = api.get("/api/alerts").json()
    assert [a["alert_id"] for a in stored] == [str(first.alert_id)]  # none for the resident
