"""A stand-in edge link for hub tests: keeps every event until an EventAck names it.

Events not yet acked (or rejected) are published again once ``resend_after`` seconds have
passed both since they were sent and since the last ack arrived (a hub still working through
a backlog is not flooded with copies). That is what lets the hub lose anything it had not
committed. The real edge link lives
in ``edge/publish/``; this one only serves tests and benchmarks.
"""

from __future__ import annotations

import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from models import (
    ComponentVersions,
    ContractError,
    DeviceStatus,
    EventAck,
    PassageEvent,
    decode,
    encode,
)
from models.base import utc_now
from models.topics import DeviceChannel, all_devices, events, status
from models.transport import without_nagle


@dataclass
class _Pending:
    topic: str
    payload: bytes
    sent_at: float


class HubPublisher:
    """Publishes events (and raw messages) over MQTT and tracks the hub's acks."""

    def __init__(
        self, host: str, port: int, *, client_id: str = "test-edge", resend_after: float = 3.0
    ) -> None:
        self.resend_after = resend_after
        self.acked: Counter[uuid.UUID] = Counter()
        self.rejected: dict[uuid.UUID, str] = {}
        self.acks: list[EventAck] = []
        self.bad_acks = 0
        self.resent = 0
        self._pending: dict[uuid.UUID, _Pending] = {}
        self._last_ack = time.monotonic()
        self._cond = threading.Condition()
        self._subscribed = threading.Event()
        self._client = without_nagle(
            mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        )
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_message = self._on_message
        self._host, self._port = host, port

    def start(self, timeout: float = 10.0) -> None:
        """Connect, subscribe to every device's ack topic, and wait until subscribed."""
        self._client.connect_async(self._host, self._port, keepalive=30)
        self._client.loop_start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError("the test publisher could not connect and subscribe")

    def stop(self) -> None:
        """Disconnect."""
        self._client.disconnect()
        self._client.loop_stop()

    def publish(self, event: PassageEvent, *, topic: str | None = None) -> None:
        """Publish ``event`` (on its device's topic unless ``topic``) and keep it until acked."""
        target = topic or events(event.site_id, event.device_id)
        self.publish_encoded(event.event_id, target, encode(event))

    def publish_encoded(self, event_id: uuid.UUID, topic: str, payload: bytes) -> None:
        """Publish an event already encoded (benchmarks encode before timing) and keep it."""
        with self._cond:
            self._pending[event_id] = _Pending(topic, payload, time.monotonic())
        self._client.publish(topic, payload, qos=1)

    def publish_raw(
        self, topic: str, payload: bytes, *, retain: bool = False, track: uuid.UUID | None = None
    ) -> None:
        """Publish arbitrary bytes; ``track`` keeps them pending under that id until acked."""
        if track is not None:
            with self._cond:
                self._pending[track] = _Pending(topic, payload, time.monotonic())
        self._client.publish(topic, payload, qos=1, retain=retain).wait_for_publish(10)

    def announce(self, site_id: str, device_id: str) -> None:
        """Publish the device's retained online status (the hub stores it once subscribed)."""
        heartbeat = DeviceStatus(
            device_id=device_id,
            site_id=site_id,
            online=True,
            reported_at=utc_now(),
            versions=ComponentVersions(agent="test"),
        )
        self.publish_raw(status(site_id, device_id), encode(heartbeat), retain=True)

    @property
    def pending(self) -> int:
        """Events neither acked nor rejected yet."""
        with self._cond:
            return len(self._pending)

    def wait_settled(self, timeout: float) -> bool:
        """Wait until nothing is pending, resending overdue events; False on timeout."""
        return self.wait_for(lambda: not self._pending, timeout)

    def wait_for(self, condition: Callable[[], bool], timeout: float) -> bool:
        """Wait until ``condition()`` is true (checked on each ack), resending overdue events."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while not condition():
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return False
                self._cond.wait(min(remaining, 0.2))
                self._resend_overdue()
            return True

    def _resend_overdue(self) -> None:
        now = time.monotonic()
        if now - self._last_ack < self.resend_after:
            return
        for item in self._pending.values():
            if now - item.sent_at >= self.resend_after:
                item.sent_at = now
                self.resent += 1
                self._client.publish(item.topic, item.payload, qos=1)

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if not reason_code.is_failure:
            client.subscribe(all_devices(DeviceChannel.ACK), qos=1)

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        _codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        self._subscribed.set()

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            ack = decode(EventAck, bytes(msg.payload))
        except ContractError:
            with self._cond:
                self.bad_acks += 1
            return
        with self._cond:
            self._last_ack = time.monotonic()
            self.acks.append(ack)
            for event_id in ack.event_ids:
                self.acked[event_id] += 1
                self._pending.pop(event_id, None)
            for rejected in ack.rejected:
                self.rejected[rejected.event_id] = rejected.reason
                self._pending.pop(rejected.event_id, None)
            self._cond.notify_all()
