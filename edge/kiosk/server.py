"""The kiosk's local screen: one page and a small JSON API, served on loopback by uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any
from uuid import UUID

from fastapi import FastAPI, HTTPException, status
from fastapi.responses import FileResponse

from edge.kiosk.consent import CONSENT_TEXT, CONSENT_VERSION
from edge.kiosk.session import IncompleteSessionError
from edge.webserver import LocalWebServer

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


class KioskServer(LocalWebServer):
    """uvicorn in a thread, for the kiosk's screen."""

    def __init__(self, kiosk: Kiosk, host: str, port: int) -> None:
        super().__init__(kiosk_app(kiosk), host, port, "kiosk-web")
