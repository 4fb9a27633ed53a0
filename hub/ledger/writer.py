"""A background thread that writes import batches while the next ones are parsed.

The database driver releases the GIL while SQLite or PostgreSQL work, so parsing (Python)
and writing overlap. Each batch is one transaction; the first failure stops the writer
and is raised again in the importing thread.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable
from types import TracebackType

from hub.ledger.loaders import Batch

QUEUED_BATCHES = 2


class BatchWriter:
    """Runs ``write(batch)`` for each submitted batch, in order, on one thread."""

    def __init__(self, write: Callable[[Batch], None]) -> None:
        self._write = write
        self._queue: queue.Queue[Batch | None] = queue.Queue(QUEUED_BATCHES)
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="ledger-writer", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while (batch := self._queue.get()) is not None:
            if self._error is not None:
                continue
            try:
                self._write(batch)
            except BaseException as exc:  # handed to the importing thread
                self._error = exc

    def _raise(self) -> None:
        if self._error is not None:
            raise self._error

    def submit(self, batch: Batch) -> None:
        """Queue ``batch`` (waits while the queue is full); raises an earlier write's error."""
        self._raise()
        if batch:
            self._queue.put(batch)

    def close(self) -> None:
        """Wait for the queued batches; raises the first write error."""
        if self._thread.is_alive():
            self._queue.put(None)
            self._thread.join()
        self._raise()

    def __enter__(self) -> BatchWriter:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc is None:
            self.close()
            return
        self._error = self._error or exc  # stop writing what is still queued
        self._queue.put(None)
        self._thread.join()
