"""EdgeLink against a real Mosquitto: at-least-once delivery through stops, kills and bad input."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import paho.mqtt.client as mqtt
import pytest
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from edge.publish.config import MqttConfig, OutboxConfig
from edge.publish.link import EdgeLink
from edge.publish.outbox import Outbox
from models import (
    CommandName,
    CommandResult,
    DeviceCommand,
    DeviceStatus,
    EventAck,
    PassageEvent,
    RejectedEvent,
    decode,
    encode,
    topics,
)
from models.base import new_id, utc_now
from tests.edge.helpers import wait_for
from tests.support.broker import MosquittoBroker
from tests.support.factories import passage_event
from tests.support.hub_stub import HubStub

ROOT = Path(__file__).resolve().parents[2]
SITE, DEVICE = "site-a", "gate-01"
AGENT = (sys.executable, "-m", "tests.support.edge_backlog")


def _config(broker: MosquittoBroker, **overrides: Any) -> MqttConfig:
    values: dict[str, Any] = {
        "host": broker.host,
        "port": broker.port,
        "keepalive_s": 5,
        "ack_timeout_s": 3.0,
        "heartbeat_s": 60.0,
        "reconnect_min_s": 1,
        "reconnect_max_s": 2,
    }
    return MqttConfig(**(values | overrides))


def _events(n: int) -> list[PassageEvent]:
    return [passage_event(DEVICE, SITE, faces=0, seq=i) for i in range(n)]


@pytest.fixture
def outbox(tmp_path: Path) -> Iterator[Outbox]:
    with Outbox(OutboxConfig(path=tmp_path / "outbox.db", fsync=False)) as box:
        yield box


class Probe:
    """A plain MQTT v5 client standing in for the hub's raw side: publish, collect."""

    def __init__(self, broker: MosquittoBroker, *subscriptions: str) -> None:
        self.messages: queue.Queue[mqtt.MQTTMessage] = queue.Queue()
        self._subscribed = threading.Event()
        self.client = mqtt.Client(
            callback_api_version=CallbackAPIVersion.VERSION2,
            client_id=f"probe-{new_id().hex[:8]}",
            protocol=MQTTProtocolVersion.MQTTv5,
        )
        self.client.on_message = lambda c, u, m: self.messages.put(m)
        self.client.on_subscribe = lambda c, u, mid, rc, p: self._subscribed.set()
        self.client.connect(broker.host, broker.port)
        self.client.loop_start()
        if subscriptions:
            self.client.subscribe([(s, 1) for s in subscriptions])
            assert self._subscribed.wait(5)

    def publish(self, topic: str, payload: bytes, properties: Properties | None = None) -> None:
        self.client.publish(topic, payload, qos=1, properties=properties).wait_for_publish(5)

    def next(self, timeout: float = 10.0) -> mqtt.MQTTMessage:
        return self.messages.get(timeout=timeout)

    def close(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def _status(broker: MosquittoBroker, timeout: float = 5.0) -> DeviceStatus:
    """The retained status, as a new subscriber sees it."""
    probe = Probe(broker, topics.status(SITE, DEVICE))
    try:
        return decode(DeviceStatus, bytes(probe.next(timeout).payload))
    finally:
        probe.close()


def test_events_reach_the_hub_and_acks_empty_the_outbox(
    broker: MosquittoBroker, outbox: Outbox
) -> None:
    stub = HubStub(broker.host, broker.port).start()
    events = _events(50)
    with EdgeLink(_config(broker), outbox, site_id=SITE, device_id=DEVICE) as link:
        assert link.wait_ready(10)
        for event in events:
            link.submit(event)
        assert stub.wait_for(50, 20)
        assert link.wait_idle(20)
        stats = link.stats()
    stub.stop()
    assert stub.first == [e.event_id for e in events]
    assert (stats.published, stats.acked, stats.queue_depth, stats.inflight) == (50, 50, 0, 0)
    assert stats.connected


def test_broker_stopped_during_1000_submits_delivers_all_in_order(
    broker: MosquittoBroker, outbox: Outbox
) -> None:
    stub = HubStub(broker.host, broker.port).start()
    events = _events(1000)
    with EdgeLink(_config(broker), outbox, site_id=SITE, device_id=DEVICE) as link:
        assert link.wait_ready(10)
        broker.stop()
        wait_for(lambda: not link.stats().connected, 10, "the link to notice the stop")
        for event in events:
            link.submit(event)
        assert outbox.depth() == 1000
        broker.start()
        assert stub.wait_for(1000, 40), f"only {len(stub.first)} arrived"
        assert link.wait_idle(30)
        stats = link.stats()
    stub.stop()
    assert stub.first == [e.event_id for e in events]  # first arrivals in submission order
    assert stats.acked == 1000
    assert outbox.depth() == 0


def test_broker_sigkilled_after_puback_loses_nothing(
    broker: MosquittoBroker, outbox: Outbox
) -> None:
    stub = HubStub(broker.host, broker.port).start()
    stub.stop()  # the session stays: the broker queues events for the stub
    events = _events(1000)
    config = _config(broker, ack_timeout_s=2.0)
    with EdgeLink(config, outbox, site_id=SITE, device_id=DEVICE) as link:
        assert link.wait_ready(10)
        for event in events:
            link.submit(event)
        wait_for(
            lambda: link.stats().published == 1000 and link.stats().inflight == 0,
            30,
            "PUBACKs of all events",
        )
        broker.kill()
        assert outbox.depth() == 1000  # a PUBACK frees nothing
        broker.start()
        stub.start()
        assert stub.wait_for(1000, 40), f"only {len(stub.first)} arrived"
        assert link.wait_idle(30)
        stats = link.stats()
    stub.stop()
    assert set(stub.first) == {e.event_id for e in events}
    assert stats.resent > 0
    assert stats.acked == 1000


def test_agent_sigkilled_with_a_backlog_delivers_it_after_restart(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    path = tmp_path / "agent-outbox.db"
    broker.stop()  # unreachable while the agent runs
    proc = subprocess.Popen(
        [*AGENT, "--port", str(broker.port), "--outbox", str(path), "--count", "300"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    broker.start()
    stub = HubStub(broker.host, broker.port).start()
    with (
        Outbox(OutboxConfig(path=path)) as box,
        EdgeLink(_config(broker), box, site_id=SITE, device_id=DEVICE) as link,
    ):
        assert box.depth() == 300
        assert stub.wait_for(300, 30), f"only {len(stub.first)} arrived"
        assert link.wait_idle(30)
        ordered = [e.event_id for e in box.due(0.0, 1.0, 10)]
    stub.stop()
    assert len(set(stub.first)) == 300
    assert ordered == []


def test_last_will_marks_a_killed_agent_offline(broker: MosquittoBroker, tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [*AGENT, "--wait-ready", "--port", str(broker.port), "--outbox", str(tmp_path / "o.db")],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        assert proc.stdout.readline().strip() == "ready"
        assert _status(broker).online
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    wait_for(lambda: not _status(broker).online, 15, "the retained status to go offline")


def test_status_is_retained_with_outbox_counts_and_offline_on_stop(
    broker: MosquittoBroker, tmp_path: Path
) -> None:
    config = OutboxConfig(path=tmp_path / "o.db", max_events=3, fsync=False)
    with Outbox(config) as box:
        for event in _events(5):
            box.put(event)
        link = EdgeLink(_config(broker, heartbeat_s=0.3), box, site_id=SITE, device_id=DEVICE)
        with link:
            assert link.wait_ready(10)
            status = _status(broker)
            assert status.online
            assert status.dropped_events == 2
            assert status.queue_depth == 3  # nothing acked: no hub
        assert not _status(broker).online


def test_commands_round_trip_with_correlation(broker: MosquittoBroker, outbox: Outbox) -> None:
    seen: list[DeviceCommand] = []

    def handle(command: DeviceCommand) -> CommandResult:
        seen.append(command)
        return CommandResult(
            command_id=command.command_id,
            device_id=DEVICE,
            ok=True,
            detail=f"did {command.name}",
            completed_at=utc_now(),
        )

    probe = Probe(broker, topics.cmd_reply(SITE, DEVICE))
    link = EdgeLink(_config(broker), outbox, site_id=SITE, device_id=DEVICE, on_command=handle)
    with link:
        assert link.wait_ready(10)
        command = DeviceCommand(
            command_id=new_id(),
            name=CommandName.OPEN_GATE,
            issued_at=utc_now(),
            issued_by="worker-7",
            args={"seconds": 5},
        )
        props = Properties(PacketTypes.PUBLISH)  # type: ignore[no-untyped-call]
        props.ResponseTopic = topics.cmd_reply(SITE, DEVICE)
        props.CorrelationData = b"corr-42"
        probe.publish(topics.cmd(SITE, DEVICE), encode(command), props)
        reply = probe.next()
        result = decode(CommandResult, bytes(reply.payload))
        assert result.command_id == command.command_id
        assert (result.ok, result.device_id, result.detail) == (True, DEVICE, "did open_gate")
        assert getattr(reply.properties, "CorrelationData", None) == b"corr-42"
        # A redelivered command is answered again but not run again.
        probe.publish(topics.cmd(SITE, DEVICE), encode(command), props)
        again = decode(CommandResult, bytes(probe.next().payload))
        assert again.command_id == command.command_id
        assert [c.command_id for c in seen] == [command.command_id]
    probe.close()


def _bad_payloads(device_id: str) -> list[bytes]:
    valid_ack = json.loads(
        encode(EventAck(device_id=device_id, event_ids=[new_id()], acked_at=utc_now()))
    )
    return [
        b"garbage",
        b'{"schema_version": 1, "device_id": "gate-01", "event_ids": [',
        b"\xff\xfe\xfa not utf-8",
        b"{" + b" " * 300_000 + b"}",
        json.dumps(valid_ack | {"schema_version": 2}).encode(),
        b"",
    ]


def test_bad_payloads_are_counted_and_ignored(broker: MosquittoBroker, outbox: Outbox) -> None:
    stub = HubStub(broker.host, broker.port, acking=False).start()
    probe = Probe(broker, topics.cmd_reply(SITE, DEVICE))
    handled: list[DeviceCommand] = []

    def handle(command: DeviceCommand) -> CommandResult:
        handled.append(command)
        return CommandResult(
            command_id=command.command_id, device_id=DEVICE, ok=True, completed_at=utc_now()
        )

    link = EdgeLink(_config(broker), outbox, site_id=SITE, device_id=DEVICE, on_command=handle)
    with link:
        assert link.wait_ready(10)
        event = _events(1)[0]
        link.submit(event)
        assert stub.wait_for(1, 10)
        bad = _bad_payloads(DEVICE)
        for topic in (topics.ack(SITE, DEVICE), topics.cmd(SITE, DEVICE)):
            for payload in bad:
                probe.publish(topic, payload)
        foreign = EventAck(device_id="gate-99", event_ids=[event.event_id], acked_at=utc_now())
        probe.publish(topics.ack(SITE, DEVICE), encode(foreign))
        wait_for(lambda: link.stats().bad_payloads == 2 * len(bad), 10, "bad payloads counted")
        wait_for(lambda: link.stats().ignored_acks == 1, 10, "the foreign ack")
        assert outbox.depth() == 1  # the foreign ack removed nothing
        # Still working: acks and commands.
        stub.set_acking(True)
        assert link.wait_idle(10)
        command = DeviceCommand(
            command_id=new_id(), name=CommandName.RELOAD_CONFIG, issued_at=utc_now(), issued_by="t"
        )
        probe.publish(topics.cmd(SITE, DEVICE), encode(command))
        assert decode(CommandResult, bytes(probe.next().payload)).command_id == command.command_id
        stats = link.stats()
    stub.stop()
    probe.close()
    assert stats.acked == 1
    assert [c.command_id for c in handled] == [command.command_id]


def test_rejected_events_leave_the_outbox(broker: MosquittoBroker, outbox: Outbox) -> None:
    probe = Probe(broker)
    with EdgeLink(_config(broker), outbox, site_id=SITE, device_id=DEVICE) as link:
        assert link.wait_ready(10)
        a, b = _events(2)
        link.submit(a)
        link.submit(b)
        ack = EventAck(
            device_id=DEVICE,
            event_ids=[a.event_id],
            rejected=[RejectedEvent(event_id=b.event_id, reason="unknown gate")],
            acked_at=utc_now(),
        )
        probe.publish(topics.ack(SITE, DEVICE), encode(ack))
        assert link.wait_idle(10)
        stats = link.stats()
    probe.close()
    assert (stats.acked, stats.rejected) == (1, 1)


def test_unacked_events_are_resent_after_the_ack_timeout(
    broker: MosquittoBroker, outbox: Outbox
) -> None:
    stub = HubStub(broker.host, broker.port, acking=False).start()
    link = EdgeLink(_config(broker, ack_timeout_s=0.5), outbox, site_id=SITE, device_id=DEVICE)
    with link:
        assert link.wait_ready(10)
        events = _events(5)
        for event in events:
            link.submit(event)
        wait_for(lambda: stub.duplicates >= 5, 15, "re-sends of unacked events")
        stub.set_acking(True)
        assert link.wait_idle(10)
        stats = link.stats()
    stub.stop()
    assert stub.first == [e.event_id for e in events]
    assert stats.resent >= 5


@pytest.mark.allow_logged_exceptions
def test_a_failing_command_handler_is_answered_not_ok(
    broker: MosquittoBroker, outbox: Outbox
) -> None:
    def handle(command: DeviceCommand) -> CommandResult:
        raise RuntimeError("camera busy")

    probe = Probe(broker, topics.cmd_reply(SITE, DEVICE))
    link = EdgeLink(_config(broker), outbox, site_id=SITE, device_id=DEVICE, on_command=handle)
    with link:
        assert link.wait_ready(10)
        command = DeviceCommand(
            command_id=new_id(), name=CommandName.SYNC_GALLERY, issued_at=utc_now(), issued_by="t"
        )
        probe.publish(topics.cmd(SITE, DEVICE), encode(command))
        result = decode(CommandResult, bytes(probe.next().payload))
    probe.close()
    assert (result.command_id, result.ok) == (command.command_id, False)
    assert "camera busy" in result.detail
