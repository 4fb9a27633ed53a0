"""A local web screen served by uvicorn in a background thread (kiosk, checkpoint desk)."""

from __future__ import annotations

import threading
import time

import uvicorn
from fastapi import FastAPI


class LocalWebServer:
    """uvicorn in a daemon thread, for one of the agent's local screens."""

    def __init__(self, app: FastAPI, host: str, port: int, name: str) -> None:
        config = uvicorn.Config(app, host=host, port=port, log_level="warning")
        self.name = name
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name=name, daemon=True)

    @property
    def port(self) -> int:
        """The port actually bound (useful with port 0)."""
        sockets = [s for server in self._server.servers for s in server.sockets]
        return int(sockets[0].getsockname()[1]) if sockets else 0

    def start(self, timeout: float = 10.0) -> None:
        """Serve in the background; return once listening."""
        self._thread.start()
        deadline = time.monotonic() + timeout
        while not self._server.started:
            if time.monotonic() > deadline or not self._thread.is_alive():
                raise RuntimeError(f"the local screen {self.name} did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        self._thread.join(10)
