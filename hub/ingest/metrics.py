"""Prometheus metrics of the ingest path."""

from __future__ import annotations

from collections.abc import Callable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

BATCH_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0)
SIZE_BUCKETS = (1, 5, 10, 25, 50, 100, 250, 500, 1000)
RECEIVED_CHANNELS = ("events", "status", "other")


class IngestMetrics:
    """The ingest consumer's counters, registered in ``registry``."""

    def __init__(self, registry: CollectorRegistry) -> None:
        self.received = Counter(
            "gridgate_hub_messages_received",
            "MQTT messages taken in by ingest, by channel.",
            ["channel"],
            registry=registry,
        )
        self.received_on = {c: self.received.labels(c) for c in RECEIVED_CHANNELS}
        """The ``received`` child of each channel (``labels()`` costs a lookup per message)."""
        self.ingested = Counter(
            "gridgate_hub_events_ingested", "New passage events stored.", registry=registry
        )
        self.duplicates = Counter(
            "gridgate_hub_event_duplicates",
            "Events received again after being stored (acked, not stored twice).",
            registry=registry,
        )
        self.dead_letters = Counter(
            "gridgate_hub_dead_letters",
            "Messages refused for good and kept as dead letters, by kind.",
            ["kind"],
            registry=registry,
        )
        self.status_updates = Counter(
            "gridgate_hub_status_updates", "Device status messages applied.", registry=registry
        )
        self.acks = Counter(
            "gridgate_hub_acks_published", "EventAck messages published.", registry=registry
        )
        self.dropped = Counter(
            "gridgate_hub_ingest_dropped",
            "Messages dropped unacknowledged (queue full or stopping); edges resend them.",
            registry=registry,
        )
        self.db_errors = Counter(
            "gridgate_hub_ingest_db_errors",
            "Batches that failed on a database error and were retried.",
            registry=registry,
        )
        self.batch_seconds = Histogram(
            "gridgate_hub_ingest_batch_seconds",
            "Time to store one batch and publish its acks.",
            buckets=BATCH_BUCKETS,
            registry=registry,
        )
        self.batch_size = Histogram(
            "gridgate_hub_ingest_batch_size",
            "Messages per batch.",
            buckets=SIZE_BUCKETS,
            registry=registry,
        )
        self.queue_depth = Gauge(
            "gridgate_hub_ingest_queue_depth",
            "Messages received and waiting for the ingest worker.",
            registry=registry,
        )
        self.connected = Gauge(
            "gridgate_hub_mqtt_connected", "1 while connected to the broker.", registry=registry
        )

    def track_queue(self, depth: Callable[[], int]) -> None:
        """Report the queue depth by calling ``depth`` at scrape time."""
        self.queue_depth.set_function(lambda: float(depth()))
