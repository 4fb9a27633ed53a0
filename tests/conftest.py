"""Shared fixtures: a real Mosquitto per test, and a guard against swallowed exceptions."""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from edge.sample_photos import PhotosUnavailableError, face_photos
from tests.support.broker import MosquittoBroker, find_mosquitto

SHARED_DATA = Path(__file__).resolve().parents[2] / "shared" / "data"


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "allow_logged_exceptions: the test expects exceptions logged by callbacks"
    )


@pytest.fixture
def broker(tmp_path: Path) -> Iterator[MosquittoBroker]:
    """A real Mosquitto on a free port, with persistence under the test's tmp dir."""
    if find_mosquitto() is None:
        pytest.fail("mosquitto is not installed: run `make setup`")
    instance = MosquittoBroker(tmp_path / "broker")
    instance.start()
    yield instance
    instance.kill()


@pytest.fixture(scope="session")
def photos() -> dict[str, Path]:
    """Real face photos (obama*, biden) from the face-recognition sdist, fetched once.

    Without them the tests that need them skip, except under CI (``CI`` set, as GitHub
    Actions and most CI services do), where they fail: CI must never pass by skipping.
    """
    try:
        return face_photos()
    except PhotosUnavailableError as exc:
        message = f"face photos unavailable (needs the PyPI index once): {exc}"
        if os.environ.get("CI", "").strip().lower() not in ("", "0", "false", "no"):
            pytest.fail(f"{message}; CI is set, so this fails rather than skips")
        pytest.skip(message)


class _ExceptionCollector(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info:
            self.records.append(record)


@pytest.fixture(autouse=True)
def fail_on_swallowed_exceptions(request: pytest.FixtureRequest) -> Iterator[None]:
    """Fail the test when a callback or thread swallowed an exception.

    Exceptions raised in paho's network thread, in capture threads or inside callbacks
    that log them with ``logger.exception`` would otherwise pass unnoticed.
    """
    collector = _ExceptionCollector()
    root = logging.getLogger()
    root.addHandler(collector)
    thread_errors: list[threading.ExceptHookArgs] = []
    previous_hook = threading.excepthook

    def hook(args: threading.ExceptHookArgs) -> None:
        thread_errors.append(args)
        previous_hook(args)

    threading.excepthook = hook
    try:
        yield
    finally:
        threading.excepthook = previous_hook
        root.removeHandler(collector)
    if request.node.get_closest_marker("allow_logged_exceptions"):
        return
    problems = [f"{r.name}: {r.getMessage()}" for r in collector.records]
    problems += [
        f"thread {a.thread.name if a.thread else '?'}: {a.exc_value!r}" for a in thread_errors
    ]
    if problems:
        pytest.fail("exceptions were swallowed during the test:\n" + "\n".join(problems))
