"""Serve a built :class:`hub.app.Hub` (ingest + API) on a free loopback port for a test."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

import uvicorn

from hub.app import Hub
from hub.broker import free_port
from tests.edge.helpers import wait_for


@contextmanager
def serving(hub: Hub) -> Iterator[int]:
    """Start the hub's ingest and its API; yield the API port; stop both afterwards."""
    assert hub.api is not None
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(hub.api, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, name="test-hub-api", daemon=True)
    hub.start()
    thread.start()
    try:
        assert hub.ingest.wait_ready(15)
        wait_for(lambda: server.started, 15, "the API to listen")
        yield port
    finally:
        server.should_exit = True
        thread.join(10)
        hub.stop()
