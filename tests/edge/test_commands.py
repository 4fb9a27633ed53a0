"""Hub commands through a running edge agent and a real Mosquitto: open_gate drives the relay
once and records the passage, sync_gallery and reload_trust_list reload what is on disk, and
every reply carries the command's id and the caller's correlation data."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.actuators.log import LogActuator
from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.config import CodesConfig, EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.gallery import Gallery
from edge.passage.config import PassageConfig
from edge.publish.config import MqttConfig
from models import ContractError, PassageEvent, decode, encode, topics
from models.base import new_id, utc_now
from models.commands import CommandName, CommandResult, DeviceCommand
from models.events import GateAction
from models.trust import TrustListDocument, sign_trust_list
from tests.edge.helpers import wait_for
from tests.support.broker import MosquittoBroker
from tests.support.factories import encoding
from tests.support.hub_stub import HubStub
from tests.support.passes import Issuer

SITE, DEVICE = "site-a", "gate-01"


class Operator:
    """The hub's command side: publishes commands with a response topic and correlation
    data, collects the replies."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.replies: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"operator-{new_id().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_message = lambda c, u, m: self.replies.put(m)
        self.client.on_subscribe = lambda c, u, mid, rc, p: subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        self.client.subscribe(topics.cmd_reply(SITE, DEVICE), qos=1)
        assert subscribed.wait(5)

    def send(
        self, command: DeviceCommand, correlation: bytes
    ) -> tuple[CommandResult, bytes | None]:
        """Publish ``command``; return the reply and the correlation data it carried back."""
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = topics.cmd_reply(SITE, DEVICE)
        props.CorrelationData = correlation
        info = self.client.publish(topics.cmd(SITE, DEVICE), encode(command), 1, properties=props)
        info.wait_for_publish(5)
        reply = self.replies.get(timeout=15)
        echoed = getattr(reply.properties, "CorrelationData", None)
        return decode(CommandResult, bytes(reply.payload)), echoed

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


class RecordingHub(HubStub):
    """The hub stub (acks every event), also keeping the events it received."""

    def __init__(self, broker: MosquittoBroker) -> None:
        super().__init__(broker.host, broker.port)
        self.events: list[PassageEvent] = []

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        super()._on_message(client, userdata, message)
        try:
            event = decode(PassageEvent, bytes(message.payload))
        except ContractError:
            return
        with self._lock:
            self.events.append(event)


@dataclass
class Gate:
    """A running agent, the hub's command side, and the hub key that signs trust lists."""

    agent: EdgeAgent
    operator: Operator
    hub: RecordingHub
    hub_key: Issuer

    def command(
        self, name: CommandName, correlation: bytes = b"corr-1"
    ) -> tuple[DeviceCommand, CommandResult]:
        command = DeviceCommand(
            command_id=new_id(), name=name, issued_at=utc_now(), issued_by="worker-7"
        )
        result, echoed = self.operator.send(command, correlation)
        assert (result.command_id, result.device_id) == (command.command_id, DEVICE)
        assert echoed == correlation
        return command, result


def _sign(hub_key: Issuer, version: int) -> str:
    document = TrustListDocument(version=version, issued_at=utc_now(), issuers=[])
    return sign_trust_list(document, hub_key.key, hub_key.kid).model_dump_json()


@pytest.fixture
def gate(broker: MosquittoBroker, tmp_path: Path) -> Iterator[Gate]:
    frames, data_dir = tmp_path / "frames", tmp_path / "data"
    frames.mkdir()
    data_dir.mkdir()
    cv2.imwrite(str(frames / "blank.png"), np.zeros((60, 80, 3), np.uint8))
    hub_key = Issuer(kid="hub")
    (data_dir / "trust.json").write_text(_sign(hub_key, 1), encoding="utf-8")
    (tmp_path / "hub.pem").write_text(hub_key.public_pem(), encoding="utf-8")
    config = EdgeConfig(
        device_id=DEVICE,
        site_id=SITE,
        data_dir=data_dir,
        capture=CaptureConfig(source=str(frames)),
        faces=FaceConfig(enabled=False),
        passage=PassageConfig(window_s=0.3),
        codes=CodesConfig(hub_public_key=tmp_path / "hub.pem"),
        mqtt=MqttConfig(host=broker.host, port=broker.port, reconnect_min_s=1, reconnect_max_s=2),
    )
    hub = RecordingHub(broker)
    hub.start()
    agent = EdgeAgent(config)
    agent.start()
    operator = Operator(broker)
    try:
        assert agent.link.wait_ready(10)
        yield Gate(agent, operator, hub, hub_key)
    finally:
        operator.close()
        agent.stop()
        hub.stop()


def test_open_gate_drives_the_relay_once_and_records_the_passage(gate: Gate) -> None:
    relay = gate.agent.actuator
    assert isinstance(relay, LogActuator)
    command, result = gate.command(CommandName.OPEN_GATE, b"open-42")
    assert (result.ok, result.detail) == (True, "gate opened")
    assert [d.action for d in relay.decisions] == [GateAction.OPEN]  # at once, not at close

    wait_for(lambda: len(gate.hub.events) == 1, 15, "the remote open's passage at the hub")
    (event,) = gate.hub.events
    assert event.decision.action is GateAction.OPEN
    assert (event.decision.reasons, event.decision.operator_id) == (["remote_open"], "worker-7")
    assert len(relay.decisions) == 1  # the passage closing did not drive the relay again

    again, echoed = gate.operator.send(command, b"open-42")  # a QoS 1 redelivery
    assert (again.command_id, again.ok, echoed) == (command.command_id, True, b"open-42")
    assert len(relay.decisions) == 1  # answered again, not run again


def test_sync_gallery_reloads_the_cached_gallery_from_disk(gate: Gate) -> None:
    assert len(gate.agent.gallery) == 0
    fresh = Gallery()
    fresh.replace(["r-1", "r-2"], [encoding(1), encoding(2)], version="g-7")
    fresh.save(gate.agent.config.path("gallery.json"))

    _, result = gate.command(CommandName.SYNC_GALLERY)

    assert (result.ok, result.detail) == (True, "gallery g-7 with 2 entries")
    assert (gate.agent.gallery.version, len(gate.agent.gallery)) == ("g-7", 2)
    assert gate.agent.status().versions.gallery == "g-7"


def test_reload_trust_list_applies_a_signed_list_from_disk(gate: Gate) -> None:
    assert gate.agent.trust.version == 1
    path = gate.agent.config.path("trust.json")
    path.write_text(_sign(gate.hub_key, 2), encoding="utf-8")

    _, result = gate.command(CommandName.RELOAD_TRUST_LIST)

    assert (result.ok, result.detail) == (True, "trust list version 2")
    assert gate.agent.trust.version == 2
    assert gate.agent.status().versions.trust_list == "2"


@pytest.mark.allow_logged_exceptions
def test_a_trust_list_signed_by_another_key_is_not_applied(gate: Gate) -> None:
    path = gate.agent.config.path("trust.json")
    path.write_text(_sign(Issuer(kid="hub"), 3), encoding="utf-8")  # right name, wrong key

    _, result = gate.command(CommandName.RELOAD_TRUST_LIST)

    assert result.ok is False
    assert gate.agent.trust.version == 1
