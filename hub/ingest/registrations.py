"""Ingest of kiosk registration requests, beside (and separate from) the event consumer.

Its own MQTT session subscribes to every kiosk's ``registrations`` topic (shared, so several
hub workers split them). Requests are few, so a worker thread takes them one by one: decode,
store as pending in one transaction (a repeated ``request_id`` is ignored), then publish a
:class:`RegistrationAck`. A bad payload is dead-lettered like a bad event and, when its
request id is readable, refused in the ack so the kiosk forgets it. A database failure is
not acked: the kiosk sends the request again.
"""

from __future__ import annotations

import json
import logging
import queue
import threading
import uuid
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions

from hub.config import HubSettings
from hub.faces.vault import FaceVault
from hub.ingest.classify import Inbound
from hub.mqtt import connect_persistent, hub_client
from hub.registrations.repository import record_request
from hub.store.db import Store
from hub.store.events import dead_letter
from models import ContractError, decode, encode
from models.base import utc_now
from models.codec import MAX_PAYLOAD_BYTES
from models.registrations import RegistrationAck, RegistrationRequest
from models.topics import (
    DeviceChannel,
    TopicError,
    all_devices,
    parse_device_topic,
    registration_ack,
    shared,
)

logger = logging.getLogger(__name__)

KEEPALIVE_S = 30


@dataclass
class RegistrationStats:
    """Counters of the registration consumer."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    dead_letters: int = 0
    acks_published: int = 0
    failed: int = 0


def salvage_request_id(payload: bytes) -> uuid.UUID | None:
    """The UUIDv7 ``request_id`` of a payload that is at least a JSON object, else None."""
    if len(payload) > MAX_PAYLOAD_BYTES:
        return None
    try:
        data = json.loads(payload)
    except (ValueError, RecursionError):
        return None
    raw = data.get("request_id") if isinstance(data, dict) else None
    try:
        value = uuid.UUID(raw) if isinstance(raw, str) else None
    except ValueError:
        return None
    return value if value is not None and value.version == 7 else None


class RegistrationConsumer:
    """Stores registration requests as pending and acknowledges them to their kiosk."""

    def __init__(self, settings: HubSettings, store: Store, vault: FaceVault) -> None:
        self.settings = settings
        self.store = store
        self.vault = vault
        self.topic_filter = shared(all_devices(DeviceChannel.REGISTRATIONS), settings.share_group)
        self.stats = RegistrationStats()
        self._queue: queue.Queue[Inbound] = queue.Queue(maxsize=10_000)
        self._stopping = threading.Event()
        self._subscribed = threading.Event()
        self._worker: threading.Thread | None = None
        self._client = hub_client(settings, f"{settings.mqtt_client_id}-registrations")
        self._client.on_connect = self._on_connect
        self._client.on_subscribe = self._on_subscribe
        self._client.on_disconnect = self._on_disconnect
        self._client.on_message = self._on_message

    def start(self) -> None:
        """Connect in the background and start the worker."""
        if self._worker is not None:
            raise RuntimeError("the registration consumer was already started")
        self._stopping.clear()
        self._worker = threading.Thread(target=self._run, name="hub-registrations", daemon=True)
        self._worker.start()
        connect_persistent(self._client, self.settings, KEEPALIVE_S)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until subscribed; False on timeout."""
        return self._subscribed.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Finish the queued requests, then disconnect. Idempotent."""
        self._stopping.set()
        worker, self._worker = self._worker, None
        if worker is not None:
            worker.join(timeout)
        self._client.disconnect()
        self._client.loop_stop()

    # -- paho's network thread: enqueue only ---------------------------------------------

    def _on_connect(
        self, client: mqtt.Client, _u: Any, _f: Any, reason: ReasonCode, _p: Any
    ) -> None:
        if reason.is_failure:
            logger.warning("broker refused the registrations connection: %s", reason)
            return
        client.subscribe([(self.topic_filter, SubscribeOptions(qos=1))])

    def _on_subscribe(
        self, _c: mqtt.Client, _u: Any, _mid: int, reasons: list[ReasonCode], _p: Any
    ) -> None:
        if any(r.is_failure for r in reasons):
            logger.warning("broker refused the registrations subscription")
            return
        self._subscribed.set()

    def _on_disconnect(self, *_args: Any) -> None:
        self._subscribed.clear()

    def _on_message(self, _c: mqtt.Client, _u: Any, msg: mqtt.MQTTMessage) -> None:
        if self._stopping.is_set():
            return
        try:
            self._queue.put_nowait(Inbound(msg.topic, bytes(msg.payload), utc_now()))
        except (queue.Full, UnicodeDecodeError):
            return  # not acked: the kiosk sends it again
        self.stats.received += 1

    # -- the worker -------------------------------------------------------------------------

    def _run(self) -> None:
        while not (self._stopping.is_set() and self._queue.empty()):
            try:
                inbound = self._queue.get(timeout=0.1)
            except queue.Empty:
                continue
            try:
                self._handle(inbound)
            except Exception as exc:  # database down and the like: no ack, the kiosk resends
                self.stats.failed += 1
                logger.warning("registration on %s not stored: %s", inbound.topic, exc)

    def _handle(self, inbound: Inbound) -> None:
        try:
            topic = parse_device_topic(inbound.topic)
        except TopicError as exc:
            self._dead_letter(inbound, "topic", str(exc))
            return
        site, device = topic.site_id, topic.device_id
        try:
            request = decode(RegistrationRequest, inbound.payload)
        except ContractError as exc:
            self._refuse(inbound, site, device, exc.kind, str(exc))
            return
        if (request.site_id, request.device_id) != (site, device):
            reason = f"request of {request.site_id}/{request.device_id} on {site}/{device}'s topic"
            self._refuse(inbound, site, device, "mismatch", reason)
            return
        with self.store.transaction() as session:
            new = record_request(session, request, self.vault, inbound.received_at)
        if new:
            self.stats.stored += 1
        else:
            self.stats.duplicates += 1
        self._ack(site, device, request.request_id, accepted=True)

    def _refuse(self, inbound: Inbound, site: str, device: str, kind: str, reason: str) -> None:
        self._dead_letter(inbound, kind, reason)
        request_id = salvage_request_id(inbound.payload)
        if request_id is not None:
            self._ack(site, device, request_id, accepted=False, reason=f"{kind}: {reason}")

    def _dead_letter(self, inbound: Inbound, kind: str, reason: str) -> None:
        logger.warning("refused registration on %s: %s: %s", inbound.topic, kind, reason)
        with self.store.transaction() as session:
            dead_letter(
                session,
                topic=inbound.topic,
                kind=kind,
                reason=reason,
                payload=inbound.payload,
                received_at=inbound.received_at,
            )
        self.stats.dead_letters += 1

    def _ack(
        self,
        site: str,
        device: str,
        request_id: uuid.UUID,
        *,
        accepted: bool,
        reason: str | None = None,
    ) -> None:
        ack = RegistrationAck(
            device_id=device,
            request_id=request_id,
            accepted=accepted,
            reason=reason[:200] if reason else None,
            acked_at=utc_now(),
        )
        self._client.publish(registration_ack(site, device), encode(ack), qos=1)
        self.stats.acks_published += 1
