"""A stand-in for the hub in edge tests: a real MQTT v5 receiver of every device's events.

It keeps a persistent session (so the broker queues events while it is away), records first
arrivals in order and counts duplicates, and — while ``acking`` — answers with ``EventAck``s,
batched per device, for everything it received.
"""

from __future__ import annotations

import threading
import time
from collections import defaultdict
from typing import Any
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from models import ContractError, EventAck, PassageEvent, decode, encode, topics
from models.ack import MAX_ACK_IDS
from models.base import utc_now
from models.topics import DeviceChannel
from models.transport import without_nagle


class HubStub:
    """Receives ``gridgate/v1/dev/+/+/events``; optionally acknowledges what it got."""

    def __init__(
        self, host: str, port: int, *, client_id: str = "hub-stub", acking: bool = True
    ) -> None:
        self.host = host
        self.port = port
        self.client_id = client_id
        self._acking = acking
        self._lock = threading.Lock()
        self._first: list[UUID] = []
        self._seen: set[UUID] = set()
        self.duplicates = 0
        self.bad_payloads = 0
        self._unacked: dict[tuple[str, str], list[UUID]] = defaultdict(list)
        self._subscribed = threading.Event()
        self._stop = threading.Event()
        self._client: mqtt.Client | None = None
        self._flusher: threading.Thread | None = None

    def start(self, timeout: float = 10.0) -> HubStub:
        """Connect (resuming the session) and wait for the subscription."""
        self._stop.clear()
        self._subscribed.clear()
        client = without_nagle(
            mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=self.client_id,
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        )
        client.reconnect_delay_set(1, 2)
        client.on_connect = self._on_connect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        props = Properties(PacketTypes.CONNECT)  # type: ignore[no-untyped-call]
        props.SessionExpiryInterval = 3600
        client.connect_async(self.host, self.port, clean_start=False, properties=props)
        self._client = client
        client.loop_start()
        self._flusher = threading.Thread(target=self._flush_loop, name="hub-stub-acks")
        self._flusher.start()
        if not self._subscribed.wait(timeout):
            raise TimeoutError("the hub stub did not subscribe in time")
        return self

    def stop(self) -> None:
        """Disconnect; the broker keeps the session and queues events meanwhile."""
        self._stop.set()
        if self._flusher is not None:
            self._flusher.join()
        if self._client is not None:
            self._client.disconnect()
            self._client.loop_stop()
            self._client = None

    def set_acking(self, on: bool) -> None:
        """Switch acks on (everything received so far is then acked) or off."""
        self._acking = on

    @property
    def first(self) -> list[UUID]:
        """Event ids in the order they first arrived."""
        with self._lock:
            return list(self._first)

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` distinct events have arrived."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self._lock:
                if len(self._first) >= count:
                    return True
            time.sleep(0.05)
        return False

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if not reason.is_failure:
            client.subscribe(topics.all_devices(DeviceChannel.EVENTS), qos=1)

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        self._subscribed.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        try:
            event = decode(PassageEvent, bytes(message.payload))
        except ContractError:
            with self._lock:
                self.bad_payloads += 1
            return
        with self._lock:
            if event.event_id in self._seen:
                self.duplicates += 1
            else:
                self._seen.add(event.event_id)
                self._first.append(event.event_id)
            self._unacked[(event.site_id, event.device_id)].append(event.event_id)

    def _flush_loop(self) -> None:
        while not self._stop.wait(0.05):
            client = self._client
            if not self._acking or client is None or not client.is_connected():
                continue
            with self._lock:
                batches = dict(self._unacked)
                self._unacked.clear()
            for (site_id, device_id), ids in batches.items():
                unique = list(dict.fromkeys(ids))
                for start in range(0, len(unique), MAX_ACK_IDS):
                    ack = EventAck(
                        device_id=device_id,
                        event_ids=unique[start : start + MAX_ACK_IDS],
                        acked_at=utc_now(),
                    )
                    client.publish(topics.ack(site_id, device_id), encode(ack), qos=1)
