"""Gate → alert latency on loopback: events at a fixed rate, alerts timed on the grid topic.

One ``gridgate-hub ingest`` worker on a generated district (as ``bench/hub.py``). A stand-in
gate publishes passages at ``--rates`` events/s for ``--seconds``; a share of them
(``--alert-share``) raise alerts. A grid-worker client subscribed to every grid's alert
topic notes when the first alert naming each event arrives: the latency is that moment
less the moment the event was published (wall clock, one machine), p50 / p99 / max in ms;
"received" is the part until the hub took it in (the stored ``received_at``), "raised"
until it stamped the alert (``updated_at``), before the commit and the push. Acks are
waited for too, so every event was committed. SQLite always; PostgreSQL when
GRIDGATE_TEST_POSTGRES_URL (or --postgres-url) names a reachable server.

Events start ``--settle`` seconds after the hub subscribed (steady state; 0: a cold start,
whose first seconds share the CPU with the hub's start-up work).

    python bench/hub_latency.py [--rates 200 1000] [--seconds 10] [--settle 5] [--alert-share 0.05]
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import paho.mqtt.client as mqtt
from paho.mqtt.enums import CallbackAPIVersion, MQTTProtocolVersion

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import select  # noqa: E402

from bench.hub import (  # noqa: E402
    add_database_options,
    backends,
    district,
    encoded,
    fresh_database,
    hub_worker,
    mixed_events,
    wait_subscribed,
)
from hub.store import EventRow, Store  # noqa: E402
from models import Alert, decode  # noqa: E402
from models.topics import all_alerts  # noqa: E402
from models.transport import without_nagle  # noqa: E402
from tests.support.broker import MosquittoBroker  # noqa: E402
from tests.support.hub_publisher import HubPublisher  # noqa: E402


class AlertWatcher:
    """A grid worker's app: subscribed to every grid's alerts, noting first arrivals."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.arrived: dict[uuid.UUID, float] = {}
        """First arrival (wall clock) of an alert naming each event."""
        self.raised: dict[uuid.UUID, float] = {}
        """When the hub raised or repeated that alert (its ``updated_at``)."""
        self._lock = threading.Lock()
        self._subscribed = threading.Event()
        self._client = without_nagle(
            mqtt.Client(
                CallbackAPIVersion.VERSION2,
                client_id=f"bench-grid-worker-{os.getpid()}",
                protocol=MQTTProtocolVersion.MQTTv5,
            )
        )
        self._client.on_connect = lambda c, *_: c.subscribe(all_alerts(), qos=1)
        self._client.on_subscribe = lambda *_: self._subscribed.set()
        self._client.on_message = self._on_message
        self._client.connect(broker.host, broker.port)
        self._client.loop_start()
        if not self._subscribed.wait(10):
            raise TimeoutError("the alert watcher did not subscribe")

    def _on_message(self, _client: mqtt.Client, _userdata: Any, msg: mqtt.MQTTMessage) -> None:
        now = time.time()
        alert = decode(Alert, bytes(msg.payload))
        if alert.event_id is not None:
            with self._lock:
                if alert.event_id not in self.arrived:
                    self.arrived[alert.event_id] = now
                    self.raised[alert.event_id] = alert.updated_at.timestamp()

    def close(self) -> None:
        self._client.disconnect()
        self._client.loop_stop()


@dataclass
class Run:
    backend: str
    rate: int
    events: int
    alerting: int
    latencies_ms: list[float]
    raised_ms: list[float]
    """Of each latency, the part until the hub raised the alert (the rest is the push)."""
    received_ms: list[float]
    """Of each latency, the part until the hub took the event in (its batch's first)."""
    note: str = ""


def received_at(db_url: str, event_ids: list[uuid.UUID]) -> dict[uuid.UUID, float]:
    """When the hub received each event (the stored ``received_at``: its batch's first)."""
    store = Store.open(db_url, migrate=False)
    try:
        with store.sessions() as session:
            query = select(EventRow.event_id, EventRow.received_at)
            rows = session.execute(query.where(EventRow.event_id.in_(event_ids)))
            return {event_id: at.timestamp() for event_id, at in rows}
    finally:
        store.close()


def run_one(
    backend: str,
    db_url: str,
    broker: MosquittoBroker,
    rate: int,
    args: argparse.Namespace,
    log: Path,
) -> Run:
    visitors = district(db_url)
    events, alerting = mixed_events(rate * args.seconds, args.alert_share, visitors)
    watcher = AlertWatcher(broker)
    published: dict[uuid.UUID, float] = {}
    with hub_worker(broker, db_url, log, False):
        edge = HubPublisher(broker.host, broker.port, client_id=f"bench-gate-{os.getpid()}")
        edge.resend_after = 600.0  # one pass, no resends
        edge.start()
        try:
            wait_subscribed(edge, db_url)
            time.sleep(args.settle)  # steady state: the hub's start-up work is done
            messages = encoded(events)
            started = time.perf_counter()
            for i, (event_id, topic, payload) in enumerate(messages):
                delay = started + i / rate - time.perf_counter()
                if delay > 0:
                    time.sleep(delay)
                published[event_id] = time.time()
                edge.publish_encoded(event_id, topic, payload)
            settled = edge.wait_settled(120)
            wanted = {events[i].event_id for i in alerting}
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline and not wanted <= watcher.arrived.keys():
                time.sleep(0.05)
        finally:
            edge.stop()
            watcher.close()
    arrived = [e for e in wanted if e in watcher.arrived]
    latencies = [(watcher.arrived[e] - published[e]) * 1e3 for e in arrived]
    raised = [(watcher.raised[e] - published[e]) * 1e3 for e in arrived]
    taken_in = received_at(db_url, arrived)
    received = [(taken_in[e] - published[e]) * 1e3 for e in arrived if e in taken_in]
    missing = len(wanted) - len(latencies)
    note = "" if settled else f"{edge.pending} events never acked; "
    note += f"{missing} alerts never arrived" if missing else ""
    return Run(
        backend, rate, len(events), len(wanted), latencies, raised, received, note.strip("; ")
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rates", type=int, nargs="+", default=[200, 1000], help="events/s")
    parser.add_argument("--seconds", type=int, default=10, help="publishing time per run")
    parser.add_argument(
        "--settle",
        type=float,
        default=5.0,
        help="seconds between the hub subscribing and the first event (its start-up work:"
        " the gallery announcement, the first timer checks); 0 measures a cold start",
    )
    parser.add_argument("--alert-share", type=float, default=0.05, help="events raising alerts")
    add_database_options(parser)
    args = parser.parse_args()
    console = Console(width=120)
    runs: list[Run] = []
    with tempfile.TemporaryDirectory(prefix="gridgate-bench-latency-") as tmp:
        work = Path(tmp)
        broker = MosquittoBroker(work / "broker")
        broker.start()
        try:
            for backend, server, note in backends(args):
                if note:
                    runs.append(Run(backend, 0, 0, 0, [], [], [], note))
                    continue
                for rate in args.rates:
                    console.print(f"{backend}: {rate} events/s for {args.seconds} s ...")
                    with fresh_database(backend, server, work, f"latency-{rate}") as db_url:
                        log = work / f"{backend}-{rate}.log"
                        runs.append(run_one(backend, db_url, broker, rate, args, log))
        finally:
            broker.kill()
    table = Table(
        title=f"gate → alert latency, one worker, loopback ({os.cpu_count()} cores)",
        caption=f"{args.alert_share:.0%} of passages raise alerts; ms from publish to arrival;"
        " received: until the hub took in the event's batch (its first message), raised: until"
        " it raised the alert",
    )
    columns = (
        "backend",
        "events/s",
        "events",
        "alerting",
        "p50 ms",
        "p99 ms",
        "max ms",
        "received p50 / p99",
        "raised p50 / p99",
        "note",
    )
    for column in columns:
        table.add_column(column, justify="left" if column in {"backend", "note"} else "right")
    for r in runs:
        if r.latencies_ms:
            p50, p99, top = np.percentile(r.latencies_ms, [50, 99, 100])
            parts = [np.percentile(p, [50, 99]) for p in (r.received_ms, r.raised_ms)]
            cells = (
                f"{p50:.1f}",
                f"{p99:.1f}",
                f"{top:.1f}",
                *(f"{low:.1f} / {high:.1f}" for low, high in parts),
            )
        else:
            cells = ("-", "-", "-", "-", "-")
        table.add_row(r.backend, str(r.rate), str(r.events), str(r.alerting), *cells, r.note)
    console.print(table)


if __name__ == "__main__":
    main()
