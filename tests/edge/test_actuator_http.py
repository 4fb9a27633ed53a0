"""The HTTP relay actuator against a real local HTTP server: the relay is driven on open and
deny; a relay that fails, stalls or is gone is reported as False, never raised."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from pydantic import ValidationError

from edge.actuators.base import ActuatorConfig
from edge.actuators.http import HttpRelayActuator
from edge.app import build_actuator
from models.events import GateAction, GateDecision


class Relay:
    """A gate controller's HTTP relay: records each POST and answers with ``status``; while
    ``stalled`` it holds every request until the test ends."""

    def __init__(self) -> None:
        self.requests: list[tuple[str, dict[str, Any]]] = []
        self.status = 200
        self.stalled = False
        self.release = threading.Event()
        relay = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
                relay.requests.append((self.path, json.loads(body)))
                if relay.stalled:
                    relay.release.wait(30)
                self.send_response(relay.status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: Any) -> None:
                """Quiet."""

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/relay/1"
        self._thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def relay() -> Iterator[Relay]:
    server = Relay()
    yield server
    server.close()


def _actuator(url: str, **config: Any) -> HttpRelayActuator:
    actuator = build_actuator(ActuatorConfig(kind="http", url=url, **config))
    assert isinstance(actuator, HttpRelayActuator)
    return actuator


OPEN = GateDecision(action=GateAction.OPEN, reasons=["green_code"])


def test_open_and_deny_drive_the_relay_hold_does_not(relay: Relay) -> None:
    actuator = _actuator(relay.url, open_seconds=7)
    try:
        assert actuator.apply(OPEN)
        assert actuator.apply(GateDecision(action=GateAction.HOLD, reasons=["unknown_face"]))
        assert actuator.apply(GateDecision(action=GateAction.DENY, reasons=["red_code"]))
    finally:
        actuator.close()
    assert relay.requests == [
        ("/relay/1", {"action": "open", "seconds": 7.0}),
        ("/relay/1", {"action": "deny", "seconds": 7.0}),
    ]


@pytest.mark.parametrize("status", [500, 503, 404])
def test_a_relay_answering_an_error_is_reported_as_failed(relay: Relay, status: int) -> None:
    relay.status = status
    actuator = _actuator(relay.url)
    try:
        assert actuator.apply(OPEN) is False
        relay.status = 200
        assert actuator.apply(OPEN) is True  # and the next decision drives it again
    finally:
        actuator.close()
    assert len(relay.requests) == 2


def test_a_relay_that_does_not_answer_in_time_is_reported_as_failed(relay: Relay) -> None:
    relay.stalled = True
    actuator = _actuator(relay.url, timeout_s=0.2)
    try:
        assert actuator.apply(OPEN) is False
    finally:
        actuator.close()
    assert len(relay.requests) == 1  # the request reached the relay, the answer never came


def test_a_relay_that_is_gone_is_reported_as_failed(relay: Relay) -> None:
    url = relay.url
    relay.close()  # nothing listens on the port any more
    actuator = _actuator(url)
    try:
        assert actuator.apply(OPEN) is False
    finally:
        actuator.close()


@pytest.mark.parametrize(
    "url", [None, "relay.local/open", "ftp://relay.local/", "http://", "http://[::1"]
)
def test_a_relay_without_a_usable_url_is_refused_by_the_config(url: str | None) -> None:
    with pytest.raises(ValidationError) as info:
        ActuatorConfig(kind="http", url=url)
    assert "url" in str(info.value)
