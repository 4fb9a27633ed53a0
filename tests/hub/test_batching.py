"""Batches off a queue: up to a limit, ending at the stop sentinel, lingering once."""

from __future__ import annotations

import queue

from hub.batching import take_batch


def _queue(*items: int | None) -> queue.Queue[int | None]:
    q: queue.Queue[int | None] = queue.Queue()
    for item in items:
        q.put(item)
    return q


def test_a_batch_takes_what_is_queued_up_to_the_limit() -> None:
    q = _queue(1, 2, 3, 4, 5)
    assert take_batch(q, limit=3) == [1, 2, 3]
    assert take_batch(q) == [4, 5]


def test_a_batch_ends_with_the_stop_sentinel() -> None:
    q = _queue(1, None, 2)
    assert take_batch(q) == [1, None]
    assert take_batch(q) == [2]


def test_linger_runs_once_after_a_first_item_so_more_can_gather() -> None:
    q = _queue(1)
    calls: list[int] = []

    def linger() -> None:
        calls.append(1)
        q.put(2)  # arrived while lingering

    assert take_batch(q, linger=linger) == [1, 2]
    assert calls == [1]
    q.put(None)
    assert take_batch(q, linger=linger) == [None]  # no lingering before stopping
    assert calls == [1]
