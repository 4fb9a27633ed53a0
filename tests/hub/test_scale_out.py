"""Two ingest workers on one PostgreSQL split the events through the `$share` subscription;
one is killed (SIGKILL) mid-stream and every event is still stored exactly once.

Why this fails without `$share` (both workers on the plain filter, each gets every copy):
the database would still hold every event once (inserts are deduplicated by event id), and
both workers could still win some inserts. What gives it away is the number of deliveries:
with `$share` the broker hands each published copy (an original or a re-send) to exactly one
worker, so the edge gets at most one ack per copy and the survivor's duplicates come only
from re-sends. Without it, every event both workers received before the kill is acked twice
and counted as a duplicate by the one that lost the insert, so ``acks <= TOTAL + resent`` and
``duplicates <= resent`` break by about the killed worker's share (a run with a plain
subscription: 288 extra acks and 213 duplicates with no re-sends at all)."""

from __future__ import annotations

import os
import re
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import func, select

from hub.store import DeadLetterRow, EventRow, Store
from tests.hub.conftest import TEST_SECRET
from tests.hub.test_crash import HubProcess, _devices_seen, _wait
from tests.support.broker import MosquittoBroker
from tests.support.factories import passage_event
from tests.support.hub_publisher import HubPublisher

TOTAL = 2000
STOPPED_RE = re.compile(r"hub stopped: stored (\d+) new events \((\d+) duplicates")
MIN_SHARE = 0.2
"""Each worker stored at least this part of the first half, published before the kill."""


def _worker(name: str, broker: MosquittoBroker, db_url: str, tmp_path: Path) -> HubProcess:
    env = {
        **os.environ,
        "GRIDGATE_HUB_DATABASE_URL": db_url,
        "GRIDGATE_HUB_DATA_DIR": str(tmp_path / name),
        "GRIDGATE_HUB_MQTT_HOST": broker.host,
        "GRIDGATE_HUB_MQTT_PORT": str(broker.port),
        "GRIDGATE_HUB_MQTT_CLIENT_ID": f"hub-{name}",
        "GRIDGATE_HUB_SECRET_KEY": TEST_SECRET,
    }
    return HubProcess(env, tmp_path / f"{name}.log", log_level="INFO")


def _subscribed(worker: HubProcess) -> bool:
    return worker.log.exists() and "ingest subscribed" in worker.log.read_text()


def _count(store: Store, table: type[EventRow] | type[DeadLetterRow]) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


@pytest.mark.slow
def test_two_workers_split_the_load_and_a_killed_one_loses_nothing(
    broker: MosquittoBroker, pg_url: str, tmp_path: Path
) -> None:
    first, second = (_worker(n, broker, pg_url, tmp_path) for n in ("w1", "w2"))
    first.start()
    store = Store.open(pg_url)  # migrated here, so both workers find the schema ready
    second.start()
    edge = HubPublisher(broker.host, broker.port, client_id="scale-edge", resend_after=2.0)
    edge.start()
    try:
        for worker in (first, second):
            _wait(partial(_subscribed, worker), 90, "the workers to subscribe", worker.log)
        edge.announce("site-a", "gate-01")
        _wait(lambda: _devices_seen(store), 30, "the status to be stored", first.log)
        sent = [passage_event(device_id=f"gate-0{i % 4}", seq=i) for i in range(TOTAL)]
        half = TOTAL // 2
        for event in sent[:half]:
            edge.publish(event)
        # The first half is stored in full before the kill, so each worker's part of it is
        # exact however fast either one started (the broker hands out copies round-robin).
        _wait(lambda: _count(store, EventRow) >= half, 90, "the first half stored", first.log)
        first.kill()
        for event in sent[half:]:
            edge.publish(event)
        assert edge.wait_settled(120), f"{edge.pending} events never acked"
        assert second.terminate() == 0
        with store.sessions() as session:
            stored = list(session.scalars(select(EventRow.event_id)))
        assert len(stored) == TOTAL and set(stored) == {e.event_id for e in sent}
        assert _count(store, DeadLetterRow) == 0
        match = STOPPED_RE.search(second.log.read_text())
        assert match is not None, second.log.read_text()[-2000:]
        by_second, duplicates_at_second = int(match.group(1)), int(match.group(2))
        # Every event is stored once and the killed worker stored nothing after the kill:
        # what the survivor did not store, the killed one stored, all of it in the first half.
        by_first = TOTAL - by_second
        assert MIN_SHARE * half <= by_first <= (1 - MIN_SHARE) * half, (by_first, by_second)
        # One delivery per published copy: acks and duplicates are explained by re-sends.
        assert edge.acked.total() <= TOTAL + edge.resent, (edge.acked.total(), edge.resent)
        assert duplicates_at_second <= edge.resent, (duplicates_at_second, edge.resent)
        # The killed worker's session stays subscribed (and queues its share) until it
        # expires: its events after the kill reach the survivor only as the edge's re-sends.
        assert edge.resent > 0
    finally:
        edge.stop()
        first.kill()
        second.kill()
        store.close()
