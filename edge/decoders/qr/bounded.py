"""Time-bounded decoding: a decode that overruns its deadline is abandoned, not waited for."""

from __future__ import annotations

import logging
import queue
import threading
from dataclasses import dataclass

import numpy as np

from edge.decoders.qr.base import QrDecoder, QrSymbol

logger = logging.getLogger(__name__)

DEFAULT_DEADLINE_S = 0.5


@dataclass(frozen=True)
class BoundedStats:
    """Counters of a :class:`BoundedDecoder`."""

    calls: int
    completed: int
    """Decodes that finished without error, late ones included."""
    timeouts: int
    skipped: int
    errors: int
    busy: bool


class _Job:
    __slots__ = ("done", "error", "image", "result")

    def __init__(self, image: np.ndarray) -> None:
        self.image = image
        self.done = threading.Event()
        self.result: list[QrSymbol] = []
        self.error: str | None = None


class BoundedDecoder:
    """Runs ``inner.decode`` on one worker thread and waits at most ``deadline_s``.

    On a timeout ``decode`` returns [] (counted); the overrunning decode keeps the worker
    until it finishes and its late result is discarded. While it runs, new frames are
    skipped (counted, []) instead of piling up threads. A backend exception is logged as
    a warning and also yields []. The worker is a daemon thread: a hung native decode
    cannot block the process from exiting.
    """

    def __init__(self, inner: QrDecoder, *, deadline_s: float = DEFAULT_DEADLINE_S) -> None:
        if deadline_s <= 0:
            raise ValueError("deadline_s must be positive")
        self.inner = inner
        self.name = inner.name
        self.deadline_s = deadline_s
        self._lock = threading.Lock()
        self._jobs: queue.SimpleQueue[_Job | None] = queue.SimpleQueue()
        self._busy = False
        self._closed = False
        self._worker: threading.Thread | None = None
        self._calls = self._completed = self._timeouts = self._skipped = self._errors = 0

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """The inner decoder's result, or [] on timeout, error, or while still busy."""
        with self._lock:
            if self._closed:
                raise RuntimeError("BoundedDecoder is closed")
            self._calls += 1
            if self._busy:
                self._skipped += 1
                return []
            self._busy = True
            if self._worker is None:
                self._worker = threading.Thread(
                    target=self._run, name=f"qr-decode-{self.name}", daemon=True
                )
                self._worker.start()
            job = _Job(np.array(gray, copy=True))  # the caller may reuse its buffer meanwhile
            self._jobs.put(job)
        if not job.done.wait(self.deadline_s):
            with self._lock:
                self._timeouts += 1
            logger.warning(
                "QR decode with %s exceeded %.3fs; frames are skipped until it returns",
                self.name,
                self.deadline_s,
            )
            return []
        if job.error is not None:
            return []
        return job.result

    def _run(self) -> None:
        while (job := self._jobs.get()) is not None:
            try:
                job.result = self.inner.decode(job.image)
            except Exception as exc:  # a backend bug must not kill the worker
                job.error = f"{type(exc).__name__}: {exc}"
                logger.warning("QR decode with %s failed: %s", self.name, job.error)
            with self._lock:
                self._busy = False
                if job.error is None:
                    self._completed += 1
                else:
                    self._errors += 1
            job.done.set()

    def stats(self) -> BoundedStats:
        """A snapshot of the counters."""
        with self._lock:
            return BoundedStats(
                self._calls,
                self._completed,
                self._timeouts,
                self._skipped,
                self._errors,
                self._busy,
            )

    def close(self) -> None:
        """Stop the worker (after any decode it is running); idempotent."""
        with self._lock:
            if not self._closed and self._worker is not None:
                self._jobs.put(None)
            self._closed = True

    def __enter__(self) -> BoundedDecoder:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
