"""The edge's MQTT link to the hub: at-least-once delivery of passage events from the outbox.

An event leaves the outbox only when the hub's ``EventAck`` names it; a broker's PUBACK only
frees a slot in the send window. A sender thread publishes due events (first sends, and
re-sends after ``ack_timeout_s``) in outbox order; on every (re)connect it re-sends everything
pending. It starts only after the SUBACK of the ack/cmd subscriptions, by which time paho has
re-sent the messages it still held, so first arrivals stay in submission order.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any
from uuid import UUID

import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTErrorCode, MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from edge.publish.config import MqttConfig
from edge.publish.outbox import Outbox
from edge.version import agent_version
from models import (
    CommandResult,
    ComponentVersions,
    ContractError,
    DeviceCommand,
    DeviceStatus,
    EventAck,
    PassageEvent,
    decode,
    encode,
    topics,
)
from models.base import utc_now
from models.transport import without_nagle

logger = logging.getLogger(__name__)

StatusProvider = Callable[[], DeviceStatus]
CommandHandler = Callable[[DeviceCommand], CommandResult]
PayloadHandler = Callable[[bytes], None]
"""Handles one extra topic's payload; raises ContractError or ValueError for a bad one."""

_RECENT_COMMANDS = 256


@dataclass(frozen=True)
class LinkStats:
    """Counters of one link since it was created."""

    connected: bool
    published: int
    resent: int
    acked: int
    rejected: int
    ignored_acks: int
    bad_payloads: int
    commands: int
    inflight: int
    queue_depth: int
    dropped: int


@dataclass
class _Counts:
    published: int = 0
    resent: int = 0
    acked: int = 0
    rejected: int = 0
    ignored_acks: int = 0
    bad_payloads: int = 0
    commands: int = 0


class EdgeLink:
    """One device's MQTT v5 session with the hub: events out, acks and commands in."""

    def __init__(
        self,
        config: MqttConfig,
        outbox: Outbox,
        *,
        site_id: str,
        device_id: str,
        status_provider: StatusProvider | None = None,
        on_command: CommandHandler | None = None,
        subscriptions: dict[str, PayloadHandler] | None = None,
    ) -> None:
        self.config = config
        self._extra = dict(subscriptions or {})
        self.outbox = outbox
        self.site_id = site_id
        self.device_id = device_id
        self._status_provider = status_provider
        self._on_command = on_command
        self._events_topic = topics.events(site_id, device_id)
        self._status_topic = topics.status(site_id, device_id)
        self._ack_topic = topics.ack(site_id, device_id)
        self._cmd_topic = topics.cmd(site_id, device_id)
        self._reply_topic = topics.cmd_reply(site_id, device_id)
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = threading.Event()
        self._pending: dict[int, UUID | None] = {}  # mid → event id (None: status, reply)
        self._early: set[int] = set()  # PUBACKs that beat their publish() call's return
        self._connected = False
        self._ready = False
        self._since = 0.0  # wall time the current connection became ready
        self._sub_mid: int | None = None
        self._next_heartbeat = 0.0
        self._counts = _Counts()
        self._recent: OrderedDict[UUID, CommandResult | None] = OrderedDict()
        self._client: mqtt.Client | None = None
        self._sender: threading.Thread | None = None
        self._executor: ThreadPoolExecutor | None = None

    # -- lifecycle ---------------------------------------------------------------------------

    def start(self) -> None:
        """Connect in the background (retrying with backoff) and start the sender."""
        if self._client is not None:
            raise RuntimeError("the link is already started")
        self._stopping.clear()
        client = self._make_client()
        self._client = client
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=f"edge-cmd-{self.device_id}")
        self._sender = threading.Thread(
            target=self._run_sender, name=f"edge-sender-{self.device_id}", daemon=True
        )
        self._sender.start()
        props = _properties(PacketTypes.CONNECT)
        props.SessionExpiryInterval = self.config.session_expiry_s
        props.MaximumPacketSize = self.config.max_packet_bytes
        client.connect_async(
            self.config.host,
            self.config.port,
            keepalive=self.config.keepalive_s,
            clean_start=False,
            properties=props,
        )
        client.loop_start()

    def stop(self, timeout: float = 5.0) -> None:
        """Publish the offline status, disconnect cleanly (the session is kept) and stop."""
        client = self._client
        if client is None:
            return
        self._stopping.set()
        self._wake.set()
        if self._sender is not None:
            self._sender.join(timeout)
        with self._lock:
            connected = self._connected
        if connected:
            info = self._publish(self._status_topic, encode(self.status(online=False)), True)
            if info is not None:
                self._wait_published(info.mid, min(timeout, 2.0))
        client.disconnect()
        client.loop_stop()
        if self._executor is not None:
            self._executor.shutdown(wait=True, cancel_futures=True)
        with self._lock:
            self._client = None
            self._connected = self._ready = False
            self._pending.clear()
            self._early.clear()

    def __enter__(self) -> EdgeLink:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- public API --------------------------------------------------------------------------

    def submit(self, event: PassageEvent) -> bool:
        """Store ``event`` in the outbox (durable on return), then let the sender publish it.

        Returns False if the event id was already stored.
        """
        if event.device_id != self.device_id or event.site_id != self.site_id:
            raise ValueError(f"event of {event.site_id}/{event.device_id} submitted to {self}")
        stored = self.outbox.put(event)
        self._wake.set()
        return stored

    def status(self, online: bool = True) -> DeviceStatus:
        """The caller's status, with identity, time and the outbox's depth and drops filled."""
        base: DeviceStatus | None = None
        if self._status_provider is not None:
            try:
                base = self._status_provider()
            except Exception:
                logger.exception("status provider failed; sending a minimal status")
        if base is None:
            base = DeviceStatus(
                device_id=self.device_id,
                site_id=self.site_id,
                online=online,
                reported_at=utc_now(),
                versions=ComponentVersions(agent=agent_version()),
            )
        return base.model_copy(
            update={
                "device_id": self.device_id,
                "site_id": self.site_id,
                "online": online,
                "reported_at": utc_now(),
                "queue_depth": self.outbox.depth(),
                "dropped_events": self.outbox.dropped,
            }
        )

    def stats(self) -> LinkStats:
        """A snapshot of the link's counters."""
        with self._lock:
            c = self._counts
            inflight = sum(1 for e in self._pending.values() if e is not None)
            connected = self._connected
            snapshot = _Counts(**vars(c))
        return LinkStats(
            connected=connected,
            inflight=inflight,
            queue_depth=self.outbox.depth(),
            dropped=self.outbox.dropped,
            **vars(snapshot),
        )

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and subscribed; False on timeout."""
        return _poll(lambda: self._ready, timeout)

    def wait_idle(self, timeout: float) -> bool:
        """Wait until the outbox is empty and nothing awaits a PUBACK; False on timeout."""

        def idle() -> bool:
            with self._lock:
                busy = any(e is not None for e in self._pending.values())
            return not busy and self.outbox.depth() == 0

        return _poll(idle, timeout)

    def __repr__(self) -> str:
        return f"EdgeLink({self.site_id}/{self.device_id})"

    # -- paho ------------------------------------------------------------------------------

    def _make_client(self) -> mqtt.Client:
        cfg = self.config
        client = without_nagle(
            mqtt.Client(
                callback_api_version=CallbackAPIVersion.VERSION2,
                client_id=cfg.effective_client_id(self.device_id),
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        )
        if cfg.username is not None:
            password = cfg.password.get_secret_value() if cfg.password else None
            client.username_pw_set(cfg.username, password)
        if cfg.tls_ca_file is not None:
            client.tls_set(
                ca_certs=str(cfg.tls_ca_file),
                certfile=str(cfg.tls_cert_file) if cfg.tls_cert_file else None,
                keyfile=str(cfg.tls_key_file) if cfg.tls_key_file else None,
            )
        client.reconnect_delay_set(cfg.reconnect_min_s, cfg.reconnect_max_s)
        client.max_inflight_messages_set(cfg.max_inflight)
        client.max_queued_messages_set(cfg.max_queued)
        client.on_pre_connect = self._on_pre_connect
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_publish = self._on_publish
        client.on_message = self._on_message
        self._set_will(client)
        return client

    def _set_will(self, client: mqtt.Client) -> None:
        client.will_set(self._status_topic, encode(self.status(online=False)), qos=1, retain=True)

    def _on_pre_connect(self, client: mqtt.Client, userdata: Any) -> None:
        self._set_will(client)  # fresh time and queue depth in the will

    def _on_connect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.ConnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        if reason.is_failure:
            logger.warning("broker refused the connection: %s", reason)
            return
        with self._lock:
            self._connected = True
        logger.info("connected to %s:%s", self.config.host, self.config.port)
        self._publish(self._status_topic, encode(self.status(online=True)), True)
        wanted = [(self._ack_topic, 1), (self._cmd_topic, 1)] + [(t, 1) for t in self._extra]
        _, mid = client.subscribe(wanted)
        with self._lock:
            self._sub_mid = mid

    def _on_subscribe(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reasons: list[ReasonCode],
        properties: Properties | None,
    ) -> None:
        failed = [str(r) for r in reasons if r.is_failure]
        if failed:
            logger.warning("subscriptions refused: %s", ", ".join(failed))
        now = time.time()
        with self._lock:
            if mid != self._sub_mid:
                return
            self._ready = True
            self._since = now
            self._next_heartbeat = time.monotonic() + self.config.heartbeat_s
            held = [e for e in self._pending.values() if e is not None]
            self._counts.resent += len(held)
        # paho has just re-sent what it held: those need no second copy from the sender.
        self.outbox.mark_sent(held, now)
        self._wake.set()

    def _on_disconnect(
        self,
        client: mqtt.Client,
        userdata: Any,
        flags: mqtt.DisconnectFlags,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        with self._lock:
            self._connected = self._ready = False
        if not self._stopping.is_set():
            logger.warning("disconnected from the broker: %s", reason)

    def _on_publish(
        self,
        client: mqtt.Client,
        userdata: Any,
        mid: int,
        reason: ReasonCode,
        properties: Properties | None,
    ) -> None:
        # Runs under paho's message lock: never call into paho from here.
        with self._lock:
            if mid not in self._pending:
                self._early.add(mid)
                return
            event_id = self._pending.pop(mid)
        if reason.is_failure:
            logger.warning("broker refused message %s (event %s): %s", mid, event_id, reason)
        self._wake.set()

    def _on_message(self, client: mqtt.Client, userdata: Any, message: mqtt.MQTTMessage) -> None:
        topic = "?"
        try:
            topic = message.topic
            if topic == self._ack_topic:
                self._handle_ack(bytes(message.payload))
            elif topic == self._cmd_topic:
                self._handle_command(message)
            elif topic in self._extra:
                self._extra[topic](bytes(message.payload))
        except (ContractError, ValueError) as exc:
            with self._lock:
                self._counts.bad_payloads += 1
            logger.warning("ignored a bad payload on %s: %s", topic, exc)
        except Exception:
            logger.exception("handling a message on %s failed", topic)

    def _publish(
        self,
        topic: str,
        payload: bytes,
        retain: bool = False,
        *,
        event_id: UUID | None = None,
        properties: Properties | None = None,
    ) -> mqtt.MQTTMessageInfo | None:
        """QoS 1 publish tracked by message id; None if paho's queue is full.

        While disconnected paho keeps the message and sends it on reconnect.
        """
        client = self._client
        if client is None:
            return None
        info = client.publish(topic, payload, qos=1, retain=retain, properties=properties)
        if info.rc == MQTTErrorCode.MQTT_ERR_QUEUE_SIZE:
            return None
        with self._lock:
            if info.mid in self._early:
                self._early.discard(info.mid)
            else:
                self._pending[info.mid] = event_id
        return info

    def _wait_published(self, mid: int, timeout: float) -> bool:
        def done() -> bool:
            with self._lock:
                return mid not in self._pending

        return _poll(done, timeout)

    # -- sender ------------------------------------------------------------------------------

    def _run_sender(self) -> None:
        tick = min(0.5, self.config.ack_timeout_s / 4)
        while not self._stopping.is_set():
            self._wake.wait(tick)
            self._wake.clear()
            if self._stopping.is_set():
                break
            try:
                self._heartbeat()
                self._send_due()
            except Exception:
                logger.exception("sender pass failed")
                self._stopping.wait(1.0)

    def _heartbeat(self) -> None:
        now = time.monotonic()
        with self._lock:
            if not self._ready or now < self._next_heartbeat:
                return
            self._next_heartbeat = now + self.config.heartbeat_s
        self._publish(self._status_topic, encode(self.status(online=True)), True)

    def _send_due(self) -> None:
        cfg = self.config
        with self._lock:
            if not self._ready:
                return
            held = {e for e in self._pending.values() if e is not None}
            since = self._since
        room = min(cfg.resend_batch, cfg.max_inflight - len(held))
        if room <= 0:
            return
        now = time.time()
        # Everything sent before this connection is due at once; otherwise after the timeout.
        timeout = min(cfg.ack_timeout_s, max(now - since, 0.0))
        due = self.outbox.due(now, timeout, room + len(held))
        batch = [e for e in due if e.event_id not in held][:room]
        sent = []
        for entry in batch:
            if self._publish(self._events_topic, entry.payload, event_id=entry.event_id) is None:
                break
            sent.append(entry)
        self.outbox.mark_sent((e.event_id for e in sent), now)
        resent = sum(1 for e in sent if e.sends > 0)
        with self._lock:
            self._counts.published += len(sent) - resent
            self._counts.resent += resent
        if sent and len(sent) == room:
            self._wake.set()  # more may be due

    # -- inbound -----------------------------------------------------------------------------

    def _handle_ack(self, payload: bytes) -> None:
        ack = decode(EventAck, payload)
        if ack.device_id != self.device_id:
            with self._lock:
                self._counts.ignored_acks += 1
            logger.warning("ignored an ack for device %s", ack.device_id)
            return
        acked = self.outbox.remove(ack.event_ids)
        rejected = self.outbox.remove(r.event_id for r in ack.rejected)
        for r in ack.rejected:
            logger.warning("hub rejected event %s: %s", r.event_id, r.reason)
        with self._lock:
            self._counts.acked += acked
            self._counts.rejected += rejected

    def _handle_command(self, message: mqtt.MQTTMessage) -> None:
        command = decode(DeviceCommand, bytes(message.payload))
        correlation = getattr(message.properties, "CorrelationData", None)
        with self._lock:
            self._counts.commands += 1
            duplicate = command.command_id in self._recent
            cached = self._recent.get(command.command_id)
            if not duplicate:
                self._recent[command.command_id] = None
                while len(self._recent) > _RECENT_COMMANDS:
                    self._recent.popitem(last=False)
        if duplicate:  # QoS 1 redelivery: never run a command twice
            logger.info("duplicate command %s", command.command_id)
            if cached is not None:
                self._reply(cached, correlation)
            return
        if self._executor is not None:
            self._executor.submit(self._run_command, command, correlation)

    def _run_command(self, command: DeviceCommand, correlation: bytes | None) -> None:
        try:
            if self._on_command is None:
                result = self._result(command, ok=False, detail="no command handler")
            else:
                result = self._on_command(command)
        except Exception as exc:
            logger.exception("command %s (%s) failed", command.name, command.command_id)
            result = self._result(command, ok=False, detail=f"{type(exc).__name__}: {exc}")
        if result.command_id != command.command_id or result.device_id != self.device_id:
            result = result.model_copy(
                update={"command_id": command.command_id, "device_id": self.device_id}
            )
        with self._lock:
            if command.command_id in self._recent:
                self._recent[command.command_id] = result
        self._reply(result, correlation)

    def _result(self, command: DeviceCommand, *, ok: bool, detail: str) -> CommandResult:
        return CommandResult(
            command_id=command.command_id,
            device_id=self.device_id,
            ok=ok,
            detail=detail[:500],
            completed_at=utc_now(),
        )

    def _reply(self, result: CommandResult, correlation: bytes | None) -> None:
        props = None
        if correlation is not None:
            props = _properties(PacketTypes.PUBLISH)
            props.CorrelationData = correlation
        self._publish(self._reply_topic, encode(result), properties=props)


def _properties(packet_type: int) -> Properties:
    return Properties(packet_type)  # type: ignore[no-untyped-call]


def _poll(condition: Callable[[], bool], timeout: float, interval: float = 0.02) -> bool:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() >= deadline:
            return False
        time.sleep(interval)
    return True
