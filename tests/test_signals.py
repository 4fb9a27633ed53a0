"""models.signals: stop events set by SIGINT/SIGTERM, waited for in short steps."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import threading
from pathlib import Path

from models.signals import wait_until_set

REPO = Path(__file__).resolve().parents[1]
CHILD = textwrap.dedent(
    """
    import signal
    from models.signals import stop_on_signals, wait_until_set

    stop = stop_on_signals(lambda signum: print("got", signal.Signals(signum).name, flush=True))
    print("ready", flush=True)
    print("stopped" if wait_until_set(stop, 60) else "timed out", flush=True)
    """
)


def test_sigterm_and_sigint_set_the_stop_event() -> None:
    for sig in (signal.SIGTERM, signal.SIGINT):
        child = subprocess.Popen(
            [sys.executable, "-c", CHILD],
            stdout=subprocess.PIPE,
            text=True,
            env={**os.environ, "PYTHONPATH": str(REPO)},
        )
        assert child.stdout is not None
        assert child.stdout.readline().strip() == "ready"
        child.send_signal(sig)
        out, _ = child.communicate(timeout=20)
        assert out.split() == ["got", sig.name, "stopped"], out
        assert child.returncode == 0


def test_wait_until_set_returns_false_after_the_timeout_and_true_once_set() -> None:
    event = threading.Event()
    assert wait_until_set(event, 0.05) is False
    threading.Timer(0.05, event.set).start()
    assert wait_until_set(event, 10) is True
    assert wait_until_set(event) is True  # already set: returns at once, no timeout needed
