"""The kiosk's local screen: one page and a small JSON API, served on loopback by uvicorn."""

from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

import uvicorn
from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse

from edge.kiosk.consent import CONSENT_TEXT, CONSENT_VERSION
from edge.kiosk.session import IncompleteSessionError

if TYPE_CHECKING:
    from edge.kiosk.kiosk import Kiosk

PAGE = Path(__file__).parent / "static" / "kiosk.html"


def kiosk_app(kiosk: Kiosk) -> FastAPI:
    """The screen's routes: the page, the session, agree and cancel."""
    app = FastAPI(title="gridgate kiosk", docs_url=None, redoc_url=None, openapi_url=None)

    @app.get("/")
    def page() -> FileResponse:
        return FileResponse(PAGE, headers={"Cache-Control": "no-cache"})

    @app.get("/api/session")
    def session() -> dict[str, Any]:
        return {
            **kiosk.session.view(),
            "consent": {"version": CONSENT_VERSION, "text": CONSENT_TEXT},
        }

    @app.post("/api/agree")
    def agree() -> dict[str, str]:
        try:
            request_id = kiosk.agree()
        except IncompleteSessionError as exc:
            raise HTTPException(
                status.HTTP_409_CONFLICT, {"missing": exc.missing, "message": str(exc)}
            ) from None
        return {"request_id": str(request_id)}

    @app.get("/api/requests/{request_id}")
    def outcome(request_id: UUID) -> dict[str, Any]:
        return {"request_id": str(request_id), "accepted": kiosk.uplink.outcome(request_id)}

    @app.post("/api/cancel", status_code=status.HTTP_204_NO_CONTENT)
    def cancel() -> None:
        kiosk.session.cancel()

    return app


class KioskServer:
    """uvicorn in a thread, for the kiosk's screen."""

    def __init__(self, kiosk: Kiosk, host: str, port: int) -> None:
        config = uvicorn.Config(kiosk_app(kiosk), host=host, port=port, log_level="warning")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, name="kiosk-web", daemon=True)

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
                raise RuntimeError("the kiosk screen did not start")
            time.sleep(0.02)

    def stop(self) -> None:
        """Stop serving."""
        self._server.should_exit = True
        self._thread.join(10)
