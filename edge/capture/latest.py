"""A capture thread that keeps only the newest frame and reconnects with backoff.

Decoding is slower than a camera: queued frames would only grow stale, so the reader
keeps one slot and counts what it overwrote. When the source fails it reports
``RECONNECTING`` and reopens it with capped exponential backoff; after ``lost_after_s``
without a frame it reports ``LOST``; frames flowing again mean ``OK``.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from dataclasses import dataclass
from datetime import UTC, datetime

import numpy as np

from edge.capture.sources import CaptureConfig, EndOfSource, FrameSource, open_source
from models import CameraState

logger = logging.getLogger(__name__)

FPS_WINDOW_S = 2.0


@dataclass(frozen=True)
class Frame:
    """One captured frame: BGR image, sequence number (from 1), capture times."""

    image: np.ndarray
    seq: int
    captured_at: datetime
    monotonic: float


@dataclass(frozen=True)
class ReaderStats:
    """Counters of a :class:`LatestFrameReader`.

    ``dropped``: frames overwritten before anyone took them; ``reconnects``: reopen
    attempts after a failure; ``ended``: a finite source ran out.
    """

    state: CameraState
    frames: int
    dropped: int
    reconnects: int
    fps: float
    last_frame_age_s: float | None
    ended: bool
    last_error: str | None


class LatestFrameReader:
    """Reads ``source`` on a daemon thread; :meth:`get` returns the newest unseen frame."""

    def __init__(
        self,
        source: FrameSource,
        *,
        retry_initial_s: float = 0.5,
        retry_max_s: float = 10.0,
        lost_after_s: float = 30.0,
        join_timeout_s: float = 5.0,
    ) -> None:
        if not 0 < retry_initial_s <= retry_max_s or lost_after_s <= 0:
            raise ValueError("need 0 < retry_initial_s <= retry_max_s and lost_after_s > 0")
        self.source = source
        self._retry_initial_s = retry_initial_s
        self._retry_max_s = retry_max_s
        self._lost_after_s = lost_after_s
        self._join_timeout_s = join_timeout_s
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._state = CameraState.DISABLED
        self._latest: Frame | None = None
        self._taken_seq = 0
        self._seq = self._dropped = self._reconnects = 0
        self._times: deque[float] = deque(maxlen=256)
        self._since = time.monotonic()  # last frame, or start of the attempt to get one
        self._ended = False
        self._lost_logged = False
        self._last_error: str | None = None

    @classmethod
    def from_config(cls, config: CaptureConfig) -> LatestFrameReader:
        """A reader of the source ``config`` names, with its backoff and loss settings."""
        return cls(
            open_source(config),
            retry_initial_s=config.retry_initial_s,
            retry_max_s=config.retry_max_s,
            lost_after_s=config.lost_after_s,
        )

    def start(self) -> LatestFrameReader:
        """Start the capture thread (once)."""
        with self._cond:
            if self._thread is not None:
                raise RuntimeError("reader already started")
            self._state = CameraState.CONNECTING
            self._since = time.monotonic()
            self._thread = threading.Thread(
                target=self._run, name=f"capture {self.source.description}", daemon=True
            )
        self._thread.start()
        return self

    def close(self) -> None:
        """Stop the thread; it releases the source. Idempotent."""
        self._stop.set()
        with self._cond:
            self._cond.notify_all()
            thread = self._thread
        if thread is not None and thread is not threading.current_thread():
            thread.join(self._join_timeout_s)
            if thread.is_alive():
                logger.warning(
                    "capture thread of %s still blocked in the source after %.1fs; left behind",
                    self.source.description,
                    self._join_timeout_s,
                )
        with self._cond:
            self._state = CameraState.DISABLED

    def __enter__(self) -> LatestFrameReader:
        return self.start()

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(self, timeout: float | None = None) -> Frame | None:
        """The newest frame not returned before, waiting up to ``timeout``; else None."""
        with self._cond:
            self._cond.wait_for(
                lambda: self._fresh() or self._stop.is_set() or self._ended, timeout
            )
            if not self._fresh():
                return None
            frame = self._latest
            assert frame is not None
            self._taken_seq = frame.seq
            return frame

    @property
    def state(self) -> CameraState:
        """Current camera state (``LOST`` once frames have been missing too long)."""
        with self._cond:
            return self._state_locked(time.monotonic())

    def stats(self) -> ReaderStats:
        """A snapshot of state and counters."""
        now = time.monotonic()
        with self._cond:
            recent = [t for t in self._times if now - t <= FPS_WINDOW_S]
            span = recent[-1] - recent[0] if len(recent) > 1 else 0.0
            return ReaderStats(
                state=self._state_locked(now),
                frames=self._seq,
                dropped=self._dropped,
                reconnects=self._reconnects,
                fps=(len(recent) - 1) / span if span > 0 else 0.0,
                last_frame_age_s=now - self._times[-1] if self._times else None,
                ended=self._ended,
                last_error=self._last_error,
            )

    def _fresh(self) -> bool:
        return self._latest is not None and self._latest.seq > self._taken_seq

    def _state_locked(self, now: float) -> CameraState:
        live = (CameraState.OK, CameraState.CONNECTING, CameraState.RECONNECTING)
        if self._state in live and now - self._since > self._lost_after_s:
            return CameraState.LOST
        return self._state

    # --- capture thread -------------------------------------------------------------

    def _run(self) -> None:
        failures = 0
        opened = False
        while not self._stop.is_set():
            if not opened:
                if failures:
                    with self._cond:
                        self._reconnects += 1
                try:
                    self.source.open()
                    opened = True
                except Exception as exc:  # SourceError, cv2.error, OSError: all mean retry
                    failures += 1
                    self._failed(f"open failed: {exc}", failures)
                    continue
            try:
                image = self.source.read()
            except EndOfSource:
                self._finish()
                break
            except Exception as exc:  # a driver error is a failed read
                image, problem = None, f"read failed: {type(exc).__name__}: {exc}"
            else:
                problem = "read returned no frame"
            if image is None:
                failures += 1
                opened = False
                self._close_source()
                self._failed(problem, failures)
                continue
            failures = 0
            self._publish(image)
        self._close_source()

    def _publish(self, image: np.ndarray) -> None:
        now = time.monotonic()
        with self._cond:
            if self._stop.is_set():
                return
            self._seq += 1
            if self._fresh():
                self._dropped += 1
            self._latest = Frame(image, self._seq, datetime.now(UTC), now)
            self._times.append(now)
            self._since = now
            if self._state != CameraState.OK:
                if self._state == CameraState.RECONNECTING or self._lost_logged:
                    logger.info("%s: frames flowing again", self.source.description)
                self._state = CameraState.OK
                self._lost_logged = False
            self._cond.notify_all()

    def _failed(self, problem: str, failures: int) -> None:
        """Record a failure, report it once per outage, and wait out the backoff."""
        with self._cond:
            if self._stop.is_set():
                return
            self._last_error = problem
            if self._state in (CameraState.OK, CameraState.CONNECTING):
                logger.warning("%s: %s; reconnecting", self.source.description, problem)
                self._state = CameraState.RECONNECTING
            lost = self._state_locked(time.monotonic()) == CameraState.LOST
            if lost and not self._lost_logged:
                self._lost_logged = True
                logger.warning(
                    "%s: no frame for over %.0fs; camera lost (%s)",
                    self.source.description,
                    self._lost_after_s,
                    problem,
                )
        delay = min(self._retry_initial_s * 2 ** min(failures - 1, 30), self._retry_max_s)
        self._stop.wait(delay)

    def _finish(self) -> None:
        logger.info("%s: end of source", self.source.description)
        with self._cond:
            self._ended = True
            self._state = CameraState.DISABLED
            self._cond.notify_all()

    def _close_source(self) -> None:
        try:
            self.source.close()
        except Exception as exc:  # releasing a vanished device can fail; nothing to do
            logger.warning("%s: close failed: %s", self.source.description, exc)
