"""MQTT ingest: events and statuses in, batched into transactions, EventAcks out.

paho's network thread only enqueues. Writer threads take batches (up to ``max_batch``
messages or ``max_wait_s`` after the first), write each in one transaction, and only then
publish the acks that let the edges forget those events. Several writers (``ingest_writers``)
are as independent as two hub workers: an event id is stored once whichever commits first,
and two batches opening the same alert at once retry (see :func:`_transient`).

Anything lost before the commit (a crash, a full queue) is simply never acked, so the edge
sends it again; the hub deduplicates by event id.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

import paho.mqtt.client as mqtt
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode
from paho.mqtt.subscribeoptions import SubscribeOptions
from prometheus_client import CollectorRegistry
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from hub.config import HubSettings
from hub.ingest.acks import build_acks
from hub.ingest.batch import Batch, write_batch
from hub.ingest.classify import Inbound, Refused, classify
from hub.ingest.effects import EventEffects, NoEffects
from hub.ingest.metrics import IngestMetrics
from hub.mqtt import connect_persistent, hub_client
from hub.store.db import Store
from models import encode
from models.base import utc_now
from models.topics import DeviceChannel, all_devices, shared

logger = logging.getLogger(__name__)

KEEPALIVE_S = 30
MAX_LOGGED_REFUSALS = 10
"""Refusals logged one by one per batch; the rest are only counted."""


def _transient(exc: BaseException) -> bool:
    """A database error worth retrying the same batch for (unreachable, locked, timed out, or
    another worker opening the same alert at once: the retry finds it and counts a repeat)."""
    if isinstance(exc, OperationalError | PoolTimeoutError):
        return True
    if isinstance(exc, IntegrityError) and "active_key" in str(exc.orig):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


@dataclass(frozen=True)
class IngestStats:
    """A snapshot of the consumer's counters."""

    connected: bool
    subscribed: bool
    received: int
    stored: int
    duplicates: int
    dead_letters: int
    statuses: int
    acks_published: int
    dropped: int
    batches: int
    db_errors: int
    queue_depth: int


class IngestConsumer:
    """Subscribes to every device's events (shared) and status (not shared) and stores them."""

    def __init__(
        self,
        settings: HubSettings,
        store: Store,
        *,
        effects: EventEffects | None = None,
        registry: CollectorRegistry | None = None,
        max_batch: int = 500,
        max_wait_s: float = 0.005,
        queue_size: int = 50_000,
        retry_max_s: float = 5.0,
        writers: int | None = None,
    ) -> None:
        self.settings = settings
        self.store = store
        self.effects: EventEffects = effects or NoEffects()
        self.registry = registry or CollectorRegistry()
        self.metrics = IngestMetrics(self.registry)
        self.max_batch = max_batch
        self.max_wait_s = max_wait_s
        self.retry_max_s = retry_max_s
        self.events_filter = shared(all_devices(DeviceChannel.EVENTS), settings.share_group)
        self.status_filter = all_devices(DeviceChannel.STATUS)
        self._queue: queue.Queue[Inbound] = queue.Queue(maxsize=queue_size)
        self._stopping = threading.Event()
        self._connected = threading.Event()
        self._subscribed = threading.Event()
        self._lock = threading.Lock()
        self._counts = dict.fromkeys(
            (
                "received",
                "stored",
                "duplicates",
                "dead_letters",
                "statuses",
                "acks_published",
                "dropped",
                "batches",
                "db_errors",
            ),
            0,
        )
        self.writers = writers or settings.ingest_writers
        self._client = self._make_client()
        self._workers: list[threading.Thread] = []
        self.metrics.track_queue(self._queue.qsize)

    # -- lifecycle -------------------------------------------------------------------------

    def start(self) -> None:
        """Connect (retrying in the background until the broker answers) and start the worker."""
        if self._workers:
            raise RuntimeError("the ingest consumer was already started")
        self._stopping.clear()
        self._workers = [
            threading.Thread(target=self._run, name=f"hub-ingest-{n}", daemon=True)
            for n in range(1, self.writers + 1)
        ]
        for worker in self._workers:
            worker.start()
        connect_persistent(self._client, self.settings, KEEPALIVE_S)

    def wait_ready(self, timeout: float) -> bool:
        """Wait until connected and subscribed; False on timeout."""
        return self._subscribed.wait(timeout)

    def stop(self, timeout: float = 10.0) -> None:
        """Store and ack what was already received, then disconnect. Idempotent."""
        self._stopping.set()
        workers, self._workers = self._workers, []
        deadline = time.monotonic() + timeout
        for worker in workers:
            worker.join(max(0.0, deadline - time.monotonic()))
            if worker.is_alive():
                logger.warning("%s still busy after %.1fs; leaving it", worker.name, timeout)
        self._client.disconnect()
        self._client.loop_stop()
        self._drop_queued()

    @property
    def connected(self) -> bool:
        """Connected to the broker right now."""
        return self._connected.is_set()

    def stats(self) -> IngestStats:
        """The counters so far."""
        with self._lock:
            counts = dict(self._counts)
        return IngestStats(
            connected=self._connected.is_set(),
            subscribed=self._subscribed.is_set(),
            queue_depth=self._queue.qsize(),
            **counts,
        )

    # -- MQTT callbacks (paho's network thread: enqueue only, never raise) -----------------

    def _make_client(self) -> mqtt.Client:
        client = hub_client(self.settings, self.settings.mqtt_client_id)
        client.on_connect = self._on_connect
        client.on_disconnect = self._on_disconnect
        client.on_subscribe = self._on_subscribe
        client.on_message = self._on_message
        return client

    def _on_connect(
        self,
        client: mqtt.Client,
        _userdata: Any,
        flags: mqtt.ConnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        if reason_code.is_failure:
            logger.warning("broker refused the connection: %s", reason_code)
            return
        self._connected.set()
        self.metrics.connected.set(1)
        logger.info(
            "connected to %s:%s (session present: %s)",
            self.settings.mqtt_host,
            self.settings.mqtt_port,
            flags.session_present,
        )
        client.subscribe(
            [
                (self.events_filter, SubscribeOptions(qos=1)),
                (self.status_filter, SubscribeOptions(qos=1)),
            ]
        )

    def _on_subscribe(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _mid: int,
        reason_codes: list[ReasonCode],
        _properties: Properties | None,
    ) -> None:
        failed = [str(code) for code in reason_codes if code.is_failure]
        if failed:
            logger.warning("broker refused the ingest subscriptions: %s", ", ".join(failed))
            return
        self._subscribed.set()

    def _on_disconnect(
        self,
        _client: mqtt.Client,
        _userdata: Any,
        _flags: mqtt.DisconnectFlags,
        reason_code: ReasonCode,
        _properties: Properties | None,
    ) -> None:
        self._connected.clear()
        self._subscribed.clear()
        self.metrics.connected.set(0)
        if not self._stopping.is_set():
            logger.warning("disconnected from the broker (%s); reconnecting", reason_code)

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        try:
            topic = msg.topic
        except UnicodeDecodeError:
            topic = "<topic not UTF-8>"
        if self._stopping.is_set():
            self._drop(1)
            return
        try:
            self._queue.put_nowait(Inbound(topic, bytes(msg.payload), utc_now(), msg.retain))
        except queue.Full:
            self._drop(1)
            return
        self._count("received")
        self.metrics.received_on[_channel_label(topic)].inc()

    # -- the worker --------------------------------------------------------------------------

    def _run(self) -> None:
        while True:
            items = self._take_batch()
            if items:
                try:
                    self._process(items)
                except Exception:
                    logger.exception("ingest batch of %d messages failed unexpectedly", len(items))
            elif self._stopping.is_set():
                return

    def _take_batch(self) -> list[Inbound]:
        try:
            items = [self._queue.get(timeout=0.1)]
        except queue.Empty:
            return []
        deadline = time.monotonic() + self.max_wait_s
        while len(items) < self.max_batch:
            remaining = deadline - time.monotonic()
            try:
                if remaining > 0:
                    items.append(self._queue.get(timeout=remaining))
                else:
                    items.append(self._queue.get_nowait())
            except queue.Empty:
                break
        return items

    def _process(self, items: list[Inbound]) -> None:
        started = time.perf_counter()
        batch = Batch.of(classify(item) for item in items)
        self._log_refusals(batch.refused)
        committed = self._commit(batch)
        if committed is None:  # stopped while the database was down: nothing acked
            self._drop(len(items))
            return
        stored, new_count = committed
        for topic, ack in build_acks(stored.events, stored.refused, utc_now()):
            self._client.publish(topic, encode(ack), qos=1)
            self._count("acks_published")
            self.metrics.acks.inc()
        duplicates = len(stored.events) - new_count
        self._count("batches")
        self._count("stored", new_count)
        self._count("duplicates", duplicates)
        self._count("dead_letters", len(stored.refused))
        self._count("statuses", len(stored.statuses))
        self.metrics.ingested.inc(new_count)
        self.metrics.duplicates.inc(duplicates)
        self.metrics.status_updates.inc(len(stored.statuses))
        for refused in stored.refused:
            self.metrics.dead_letters.labels(refused.kind).inc()
        self.metrics.batch_size.observe(len(items))
        self.metrics.batch_seconds.observe(time.perf_counter() - started)

    def _commit(self, batch: Batch) -> tuple[Batch, int] | None:
        """Write ``batch``; if it fails for good, isolate the message that makes it fail."""
        if len(batch) == 1:
            return self._commit_single(batch)
        try:
            return self._commit_retrying(batch)
        except Exception as exc:
            logger.warning(
                "batch of %d failed (%s: %s); retrying message by message",
                len(batch),
                type(exc).__name__,
                exc,
            )
        stored = Batch()
        new_count = 0
        for single in batch.singles():
            outcome = self._commit_single(single)
            if outcome is None:
                continue
            stored.events += outcome[0].events
            stored.statuses += outcome[0].statuses
            stored.refused += outcome[0].refused
            new_count += outcome[1]
        return stored, new_count

    def _commit_single(self, single: Batch) -> tuple[Batch, int] | None:
        """Commit one message; one that keeps failing is dead-lettered (and rejected)."""
        try:
            return self._commit_retrying(single)
        except Exception as exc:
            if single.refused:
                logger.exception(
                    "could not dead-letter a message on %s", single.refused[0].inbound.topic
                )
                return None
            reason = f"{type(exc).__name__}: {exc}"
            if single.events:
                event = single.events[0].event
                logger.exception("storing event %s failed; dead-lettering it", event.event_id)
                refused = Refused(
                    single.events[0].inbound,
                    "processing",
                    reason,
                    event.site_id,
                    event.device_id,
                    event.event_id,
                )
            else:
                status = single.statuses[0].status
                logger.exception("storing the status of %s failed", status.device_id)
                refused = Refused(
                    single.statuses[0].inbound,
                    "processing",
                    reason,
                    status.site_id,
                    status.device_id,
                )
        return self._commit_single(Batch(refused=[refused]))

    def _commit_retrying(self, batch: Batch) -> tuple[Batch, int] | None:
        """Commit in one transaction, retrying database outages; None when stopped meanwhile."""
        delay = 0.1
        while True:
            try:
                with self.store.transaction() as session:
                    new_ids = write_batch(session, batch, self.effects)
                return batch, len(new_ids)
            except Exception as exc:
                if not _transient(exc):
                    raise
                self._count("db_errors")
                self.metrics.db_errors.inc()
                logger.warning("database unavailable (%s); retrying in %.1fs", exc, delay)
            if self._stopping.wait(delay):
                logger.warning("stopping with %d messages not stored; edges resend", len(batch))
                return None
            delay = min(delay * 2, self.retry_max_s)

    def _log_refusals(self, refused: list[Refused]) -> None:
        for item in refused[:MAX_LOGGED_REFUSALS]:
            logger.warning(
                "refused message on %s: %s: %s", item.inbound.topic, item.kind, item.reason
            )
        if len(refused) > MAX_LOGGED_REFUSALS:
            logger.warning("... and %d more refused", len(refused) - MAX_LOGGED_REFUSALS)

    def _count(self, name: str, amount: int = 1) -> None:
        with self._lock:
            self._counts[name] += amount

    def _drop_queued(self) -> None:
        dropped = 0
        while True:
            try:
                self._queue.get_nowait()
            except queue.Empty:
                break
            dropped += 1
        if dropped:
            self._drop(dropped)

    def _drop(self, count: int) -> None:
        self._count("dropped", count)
        self.metrics.dropped.inc(count)


def _channel_label(topic: str) -> str:
    if topic.endswith(f"/{DeviceChannel.EVENTS}"):
        return "events"
    if topic.endswith(f"/{DeviceChannel.STATUS}"):
        return "status"
    return "other"
