"""Taking work off a queue in batches, for the hub's worker threads."""

from __future__ import annotations

import queue
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


def take_batch(
    source: queue.Queue[T | None],
    limit: int | None = None,
    linger: Callable[[], object] | None = None,
) -> list[T | None]:
    """Block for one item, then take what is already queued, up to ``limit`` items.

    ``None`` is the stop sentinel: the batch ends with it. ``linger`` runs once after a first
    item that is not the sentinel (a short wait, so that more can gather).
    """
    batch = [source.get()]
    if batch[-1] is not None and linger is not None:
        linger()
    while batch[-1] is not None and (limit is None or len(batch) < limit):
        try:
            batch.append(source.get_nowait())
        except queue.Empty:
            break
    return batch
