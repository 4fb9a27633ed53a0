"""Registrations over a real Mosquitto: the hub's registration ingest (bad input dead-lettered,
duplicates stored once, acks back), delivery through a broker outage, and the whole kiosk flow:
real frames → kiosk screen → agree → MQTT → pending → approve → resident with an enrolled
face → a later passage of that face raises no unregistered-person alert."""

from __future__ import annotations

import json
import queue
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from sqlalchemy import select

from edge.app import EdgeAgent
from edge.decoders.faces.fake import fake_encoding
from edge.simulate.gate import ScriptedGateSource
from edge.simulate.scenes import Scene
from hub.app import Hub
from hub.faces.vault import FaceVault
from hub.ingest.registrations import RegistrationConsumer
from hub.ledger import sample
from hub.store.db import Store
from hub.store.ledger_tables import ResidentRow
from hub.store.registration_tables import RegistrationRow
from hub.store.tables import DeadLetterRow
from models import decode, encode, topics
from models.alerts import AlertRule
from models.base import new_id, utc_now
from models.events import (
    Direction,
    FaceObservation,
    GateAction,
    GateDecision,
    PassageEvent,
)
from models.registrations import RegistrationAck
from tests.edge.helpers import wait_for
from tests.edge.test_kiosk import HOLDER, KIOSK, PERSON, SITE, kiosk_config, kiosk_site
from tests.hub.conftest import TEST_SECRET, make_settings
from tests.support.broker import MosquittoBroker
from tests.support.hub_server import serving
from tests.support.logins import operator_headers
from tests.test_registrations_contract import request

IDENTITY = b"identity-key-for-registrations-0000"
STRANGER = 77


class KioskPeer:
    """A bare MQTT client publishing as a kiosk and collecting its registration acks."""

    def __init__(self, broker: MosquittoBroker, device: str = KIOSK) -> None:
        self.device = device
        self.acks: queue.Queue[RegistrationAck] = queue.Queue()
        subscribed = queue.Queue[bool]()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"peer-{uuid.uuid4().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_subscribe = lambda *a: subscribed.put(True)
        self.client.on_message = lambda c, u, m: self.acks.put(
            decode(RegistrationAck, bytes(m.payload))
        )
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.registration_ack(SITE, device), qos=1)
        assert subscribed.get(timeout=5)

    def send(self, payload: bytes, device: str | None = None) -> None:
        info = self.client.publish(topics.registrations(SITE, device or self.device), payload, 1)
        info.wait_for_publish(5)

    def ack(self) -> RegistrationAck:
        return self.acks.get(timeout=10)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


@pytest.fixture
def consumer(
    broker: MosquittoBroker, store: Store, tmp_path: Path
) -> Iterator[RegistrationConsumer]:
    running = RegistrationConsumer(
        make_settings(broker, str(store.engine.url), tmp_path / "hub"),
        store,
        FaceVault(TEST_SECRET.encode()),
    )
    running.start()
    assert running.wait_ready(10)
    yield running
    running.stop()


def _rows(store: Store) -> list[RegistrationRow]:
    with store.sessions() as session:
        return list(session.scalars(select(RegistrationRow)))


def _dead_letters(store: Store) -> list[DeadLetterRow]:
    with store.sessions() as session:
        return list(session.scalars(select(DeadLetterRow).order_by(DeadLetterRow.id)))


def test_ingest_stores_once_acks_and_dead_letters_bad_requests(
    broker: MosquittoBroker, store: Store, consumer: RegistrationConsumer
) -> None:
    peer = KioskPeer(broker)
    good = request(device_id=KIOSK, site_id=SITE, address_code="999999999999")
    peer.send(encode(good))
    peer.send(encode(good))  # a resend
    for _ in range(2):
        ack = peer.ack()
        assert (ack.request_id, ack.accepted, ack.device_id) == (good.request_id, True, KIOSK)
    (row,) = _rows(store)
    assert (row.request_id, row.state, row.address_known) == (good.request_id, "pending", False)

    no_consent = json.loads(encode(request(device_id=KIOSK, site_id=SITE)))
    del no_consent["consent"]
    forged = json.loads(encode(request(device_id=KIOSK, site_id=SITE)))
    forged["health_code"].update(status="invalid", reason_codes=["bad_signature"])
    other = request(device_id="kiosk-02", site_id=SITE)
    for body in (no_consent, forged):
        peer.send(json.dumps(body).encode())
        ack = peer.ack()
        assert ack.request_id == uuid.UUID(body["request_id"]) and not ack.accepted
        assert ack.reason is not None and ack.reason.startswith("validation")
    peer.send(encode(other))  # kiosk-02's request on kiosk-01's topic
    mismatch = peer.ack()
    assert (mismatch.request_id, mismatch.accepted) == (other.request_id, False)
    truncated = encode(good)[:100]
    peer.send(truncated)
    wait_for(lambda: len(_dead_letters(store)) == 4, 10, "four dead letters")
    assert [d.kind for d in _dead_letters(store)] == [
        "validation",
        "validation",
        "mismatch",
        "json",
    ]
    assert _dead_letters(store)[-1].payload == truncated
    assert peer.acks.empty()  # the truncated payload had no readable request id
    assert len(_rows(store)) == 1
    assert (consumer.stats.stored, consumer.stats.duplicates) == (1, 1)
    peer.close()


def test_a_request_survives_a_broker_outage(
    broker: MosquittoBroker, store: Store, consumer: RegistrationConsumer, tmp_path: Path
) -> None:
    site = kiosk_site(tmp_path)
    config = kiosk_config(site, host=broker.host, port=broker.port)
    agent = EdgeAgent(config, source=ScriptedGateSource([], fps=5))
    agent.start()
    try:
        assert agent.link.wait_ready(10)
        assert agent.kiosk is not None
        broker.kill()
        wait_for(lambda: not agent.link.stats().connected, 10, "the link to notice the outage")
        stored = request(device_id=KIOSK, site_id=SITE)
        agent.kiosk.outbox.put(stored)
        agent.kiosk.uplink.wake()
        broker.restart()
        wait_for(lambda: len(_rows(store)) == 1, 30, "the request at the hub after the outage")
        wait_for(lambda: agent.kiosk is not None and agent.kiosk.outbox.depth() == 0, 15, "ack")
        assert agent.kiosk.uplink.outcome(stored.request_id) is True
    finally:
        agent.stop()


@pytest.fixture
def running_hub(broker: MosquittoBroker, tmp_path: Path) -> Iterator[tuple[Hub, str, int]]:
    """A hub with a sample ledger; yields the hub, a ledger address code and the API port."""
    settings = make_settings(broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub")
    hub = Hub(settings)
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    with serving(hub) as port:
        assert hub.registrations.wait_ready(10)
        yield hub, generated.residents[0]["address_code"], port


def _passage(face: int) -> PassageEvent:
    now = utc_now()
    return PassageEvent(
        event_id=new_id(),
        device_id=KIOSK,
        site_id=SITE,
        gate_id="kiosk",
        direction=Direction.ENTRY,
        occurred_at=now,
        observations=[
            FaceObservation(
                track_id=face, encoding=fake_encoding(face).tolist(), quality=0.9, seen_at=now
            )
        ],
        decision=GateDecision(action=GateAction.OBSERVE),
    )


def test_kiosk_to_ledger_end_to_end(
    broker: MosquittoBroker, running_hub: tuple[Hub, str, int], tmp_path: Path
) -> None:
    hub, address, port = running_hub
    site = kiosk_site(tmp_path)
    token = site.issuer.issue(holder_ref=HOLDER)
    camera = ScriptedGateSource(
        [Scene(marker=PERSON, codes=[f"GGDP1:{address}", token])],
        fps=20,
        frames_per_scene=6,
        empty_frames=20,
        loop=False,
    )
    agent = EdgeAgent(kiosk_config(site, host=broker.host, port=broker.port), source=camera)
    api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
    api.headers.update(operator_headers(hub.store, api))
    agent.start()
    try:
        assert agent.kiosk is not None and agent.kiosk.server is not None
        screen = httpx.Client(base_url=f"http://127.0.0.1:{agent.kiosk.server.port}", timeout=10)
        wait_for(lambda: screen.get("/api/session").json()["missing"] == [], 20, "all scanned")
        assert screen.get("/api/session").json()["name_masked"] == "张*"
        agreed = screen.post("/api/agree")
        assert agreed.status_code == 200, agreed.text
        request_id = agreed.json()["request_id"]
        assert screen.post("/api/agree").status_code == 409  # the session was forgotten

        def pending() -> list[str]:
            return [r["request_id"] for r in api.get("/api/registrations").json()]

        wait_for(lambda: pending() == [request_id], 20, "the pending registration")
        wait_for(lambda: screen.get(f"/api/requests/{request_id}").json()["accepted"], 10, "ack")
        assert agent.kiosk.outbox.depth() == 0
        approved = api.post(f"/api/registrations/{request_id}/approve", json={"note": "ok"})
        assert approved.status_code == 200, approved.text
        with hub.store.sessions() as session:
            resident = session.scalars(
                select(ResidentRow).where(ResidentRow.holder_ref == HOLDER)
            ).one()
        assert (resident.address_code, resident.face_enrolled) == (address, True)
        assert hub.faces.nearest(fake_encoding(PERSON)).ref == resident.resident_id

        later, stranger = _passage(PERSON), _passage(STRANGER)
        agent.link.submit(later)  # the new resident passes a gate later, then a stranger
        agent.link.submit(stranger)

        def raised_by() -> set[str]:
            return {a["event_id"] for a in api.get("/api/alerts").json()}

        wait_for(lambda: str(stranger.event_id) in raised_by(), 20, "the stranger's alert")
        wait_for(lambda: agent.outbox.depth() == 0, 15, "the hub's acks of every event")
        assert hub.ingest.stats().stored >= 3
        alerts = api.get("/api/alerts").json()
    finally:
        agent.stop()
    by_stranger = [a for a in alerts if a["event_id"] == str(stranger.event_id)]
    assert [a["rule"] for a in by_stranger] == [AlertRule.UNREGISTERED_PERSON]
    assert [a for a in alerts if a["event_id"] == str(later.event_id)] == []
