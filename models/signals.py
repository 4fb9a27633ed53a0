"""Stopping a long-running process on SIGINT / SIGTERM, promptly.

Python runs signal handlers in the main thread, between bytecodes. A main thread blocked in
one long ``Event.wait()`` may not wake when the kernel hands the signal to another of the
process's threads (MQTT, camera, web): seen here as a demo ignoring Ctrl-C until its wait
ran out (``kill -USR1`` showed the main thread still in ``Event.wait``). So the main thread
waits in short steps, and ``SIGUSR1`` prints every thread's stack to stderr.
"""

from __future__ import annotations

import faulthandler
import signal
import threading
import time
from collections.abc import Callable
from types import FrameType

POLL_S = 0.25
STOP_SIGNALS = (signal.SIGINT, signal.SIGTERM)


def stop_on_signals(note: Callable[[int], None] | None = None) -> threading.Event:
    """An event set by SIGINT or SIGTERM (``note`` is told which); call in the main thread."""
    stop = threading.Event()

    def handler(signum: int, _frame: FrameType | None) -> None:
        if note is not None:
            note(signum)
        stop.set()

    for sig in STOP_SIGNALS:
        signal.signal(sig, handler)
    faulthandler.register(signal.SIGUSR1, all_threads=True)
    return stop


def wait_until_set(event: threading.Event, timeout: float | None = None) -> bool:
    """Wait for ``event`` in short steps (the main thread runs signal handlers in between);
    False when ``timeout`` seconds passed first."""
    deadline = None if timeout is None else time.monotonic() + timeout
    while True:
        step = POLL_S if deadline is None else min(POLL_S, deadline - time.monotonic())
        if step <= 0:
            return event.is_set()
        if event.wait(step):
            return True
