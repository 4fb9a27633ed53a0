"""The SQLite outbox: order, idempotence, bound, resend timing, durability."""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from pathlib import Path
from uuid import UUID

import pytest

from edge.publish.config import OutboxConfig
from edge.publish.outbox import Outbox
from models import PassageEvent, decode
from tests.support.factories import passage_event

ROOT = Path(__file__).resolve().parents[2]


def _events(n: int) -> list[PassageEvent]:
    return [passage_event(faces=0, seq=i) for i in range(n)]


def _ids(entries: list[PassageEvent]) -> list[UUID]:
    return [e.event_id for e in entries]


def test_events_come_back_in_insertion_order_with_their_payload(tmp_path: Path) -> None:
    events = _events(20)
    with Outbox(OutboxConfig(path=tmp_path / "o.db")) as outbox:
        for event in events:
            assert outbox.put(event)
        due = outbox.due(now=1000.0, ack_timeout=10.0, limit=100)
        assert [e.event_id for e in due] == _ids(events)
        assert decode(PassageEvent, due[3].payload) == events[3]
        assert [e.event_id for e in outbox.due(1000.0, 10.0, limit=5)] == _ids(events[:5])
        assert outbox.depth() == 20


def test_put_is_idempotent_on_event_id(tmp_path: Path) -> None:
    event = passage_event()
    with Outbox(OutboxConfig(path=tmp_path / "o.db")) as outbox:
        assert outbox.put(event)
        assert not outbox.put(event)
        assert outbox.depth() == 1
        assert len(outbox.due(0.0, 1.0, 10)) == 1


def test_a_full_outbox_drops_the_oldest_and_counts_them(tmp_path: Path) -> None:
    events = _events(8)
    config = OutboxConfig(path=tmp_path / "o.db", max_events=5)
    with Outbox(config) as outbox:
        for event in events:
            outbox.put(event)
        assert outbox.depth() == 5
        assert outbox.dropped == 3
        assert [e.event_id for e in outbox.due(0.0, 1.0, 10)] == _ids(events[3:])
    with Outbox(config) as reopened:
        assert reopened.dropped == 3
        assert reopened.depth() == 5


def test_sent_events_are_due_again_only_after_the_ack_timeout(tmp_path: Path) -> None:
    a, b, c = _events(3)
    with Outbox(OutboxConfig(path=tmp_path / "o.db")) as outbox:
        for event in (a, b, c):
            outbox.put(event)
        outbox.mark_sent([a.event_id, b.event_id], at=100.0)
        assert [e.event_id for e in outbox.due(105.0, 10.0, 10)] == [c.event_id]
        outbox.mark_sent([c.event_id], at=106.0)
        assert outbox.due(109.9, 10.0, 10) == []
        due = outbox.due(110.5, 10.0, 10)
        assert [e.event_id for e in due] == [a.event_id, b.event_id]
        assert [e.sends for e in due] == [1, 1]
        outbox.mark_sent([a.event_id], at=111.0)
        assert [e.event_id for e in outbox.due(116.5, 10.0, 10)] == [b.event_id, c.event_id]
        assert outbox.due(200.0, 10.0, 10)[0].sends == 2


def test_remove_counts_only_stored_events(tmp_path: Path) -> None:
    events = _events(4)
    with Outbox(OutboxConfig(path=tmp_path / "o.db")) as outbox:
        for event in events:
            outbox.put(event)
        assert outbox.remove([events[0].event_id, events[2].event_id]) == 2
        assert outbox.remove([events[0].event_id, passage_event().event_id]) == 0
        assert outbox.remove([]) == 0
        assert outbox.depth() == 2
        assert [e.event_id for e in outbox.due(0.0, 1.0, 10)] == _ids([events[1], events[3]])


def test_state_persists_across_reopen(tmp_path: Path) -> None:
    config = OutboxConfig(path=tmp_path / "o.db", fsync=False)
    events = _events(5)
    with Outbox(config) as outbox:
        for event in events:
            outbox.put(event)
        outbox.mark_sent([events[0].event_id], at=50.0)
        outbox.remove([events[1].event_id])
    with Outbox(config) as outbox:
        assert outbox.depth() == 4
        assert [e.event_id for e in outbox.due(55.0, 10.0, 10)] == _ids(events[2:])
        assert outbox.due(61.0, 10.0, 10)[0].event_id == events[0].event_id
        outbox.put(events[1])  # a new id after everything else keeps insertion order
        assert outbox.due(61.0, 10.0, 10)[-1].event_id == events[1].event_id


def test_concurrent_writers_and_removers(tmp_path: Path) -> None:
    with Outbox(OutboxConfig(path=tmp_path / "o.db", fsync=False)) as outbox:
        batches = [_events(50) for _ in range(4)]

        def write(batch: list[PassageEvent]) -> None:
            for event in batch:
                outbox.put(event)
            outbox.remove(e.event_id for e in batch[:25])

        threads = [threading.Thread(target=write, args=(b,)) for b in batches]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outbox.depth() == 100
        assert len(outbox.due(0.0, 1.0, 1000)) == 100


def test_a_process_killed_mid_write_loses_nothing_it_put(tmp_path: Path) -> None:
    path = tmp_path / "o.db"
    proc = subprocess.Popen(
        [sys.executable, "-m", "tests.support.edge_outbox_writer", str(path)],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    put: list[UUID] = []
    try:
        assert proc.stdout is not None
        while len(put) < 200:
            line = proc.stdout.readline()
            if not line:
                pytest.fail(f"writer exited early with {proc.wait()}")
            put.append(UUID(line.strip()))
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    assert proc.returncode == -signal.SIGKILL
    with Outbox(OutboxConfig(path=path)) as outbox:
        stored = [e.event_id for e in outbox.due(0.0, 1.0, 100_000)]
        assert outbox.depth() == len(stored) >= len(put)
    assert stored[: len(put)] == put  # everything printed is there, in order
