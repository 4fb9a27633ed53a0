"""The operator page of the checkpoint: one page, its script and style, and a small JSON API.

Everything is served by the agent itself (no CDN) under a strict Content-Security-Policy, so
the page keeps working with the uplink down. With an access token (required off loopback)
every request needs the pairing cookie, set once by ``/?token=…`` (:mod:`edge.checkpoint.access`).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

from fastapi import FastAPI, Query, Request, Response, status
from fastapi.responses import FileResponse, JSONResponse, PlainTextResponse
from pydantic import BaseModel, ConfigDict, Field

from edge.checkpoint.access import COOKIE
from edge.checkpoint.desk import DeskError
from edge.webserver import LocalWebServer
from models.events import Direction
from models.vehicles import PlateError, parse_plate

if TYPE_CHECKING:
    from edge.checkpoint.checkpoint import Checkpoint

STATIC = Path(__file__).parent / "static"
FILES = {"checkpoint.js": "text/javascript", "checkpoint.css": "text/css"}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; "
    "frame-ancestors 'none'",
    "X-Content-Type-Options": "nosniff",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-cache",
}
MAX_CODE_CHARS = 65536
UNPAIRED = "未配对：请扫描本卡口的配对二维码。Not paired: scan this checkpoint's pairing QR code."


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OpenVehicle(_Body):
    """Open a vehicle."""

    plate: str = Field(max_length=32, title="Plate", description="As typed.")
    direction: Direction | None = Field(None, title="Direction", description="Default: config.")
    lane: str | None = Field(None, max_length=64, title="Lane", description="Default: first.")


class OccupantDetails(_Body):
    """An occupant's ID and destination."""

    id_number: str | None = Field(None, max_length=32, title="ID number", description="Typed.")
    destination: str | None = Field(None, max_length=400, title="Destination", description="")


class AddOccupant(OccupantDetails):
    """A person's code text, as scanned or pasted, with their details."""

    code: str = Field(max_length=MAX_CODE_CHARS, title="Code text", description="Raw QR text.")


def checkpoint_app(checkpoint: Checkpoint) -> FastAPI:
    """The page's routes: state, plate check, vehicles, occupants, close."""
    app = FastAPI(title="gridgate checkpoint", docs_url=None, redoc_url=None, openapi_url=None)
    desk, access = checkpoint.desk, checkpoint.access

    @app.middleware("http")
    async def secure(request: Request, call_next: Any) -> Response:
        response: Response
        pairing = request.url.path == "/" and "token" in request.query_params
        presented = request.query_params["token"] if pairing else request.cookies.get(COOKIE)
        if not access.accepts(presented):
            response = _unpaired(request)
        else:
            response = await call_next(request)
            if pairing and access.required:
                access.pair(response)
        response.headers.update(SECURITY_HEADERS)
        return response

    @app.exception_handler(DeskError)
    async def refused(request: Request, exc: DeskError) -> JSONResponse:
        return JSONResponse({"error": exc.key, "message": str(exc)}, exc.status)

    @app.get("/")
    def page() -> FileResponse:
        return FileResponse(STATIC / "checkpoint.html", media_type="text/html")

    @app.get("/favicon.ico", status_code=status.HTTP_204_NO_CONTENT)
    def favicon() -> None:
        return None

    @app.get("/static/{name}")
    def static(name: str) -> Response:
        if name not in FILES:
            return Response(status_code=status.HTTP_404_NOT_FOUND)
        return FileResponse(STATIC / name, media_type=FILES[name])

    @app.get("/api/state")
    def state() -> dict[str, Any]:
        settings = desk.settings
        return {
            "settings": {
                "lanes": settings.lanes,
                "default_direction": settings.default_direction,
                "require_id": settings.require_id,
                "ids": checkpoint.ids_enabled,
                "destination_required": settings.destination_required,
            },
            "uplink": checkpoint.uplink(),
            **desk.view(),
        }

    @app.get("/api/plate")
    def plate(text: Annotated[str, Query(max_length=32)] = "") -> dict[str, Any]:
        try:
            parsed = parse_plate(text)
        except PlateError as exc:
            return {"valid": False, "message": str(exc)}
        return {"valid": True, "number": parsed.number, "kind": parsed.kind}

    @app.post("/api/vehicles", status_code=status.HTTP_201_CREATED)
    def open_vehicle(body: OpenVehicle) -> dict[str, Any]:
        return desk.vehicle_view(desk.open(body.plate, body.direction, body.lane))

    @app.delete("/api/vehicles/{vehicle_id}", status_code=status.HTTP_204_NO_CONTENT)
    def discard(vehicle_id: str) -> None:
        desk.discard(vehicle_id)

    @app.post("/api/vehicles/{vehicle_id}/occupants", status_code=status.HTTP_201_CREATED)
    def add(vehicle_id: str, body: AddOccupant) -> dict[str, Any]:
        desk.add_occupant(
            vehicle_id, body.code, id_number=body.id_number, destination=body.destination
        )
        return desk.vehicle_view(vehicle_id)

    @app.patch("/api/vehicles/{vehicle_id}/occupants/{number}")
    def update(vehicle_id: str, number: int, body: OccupantDetails) -> dict[str, Any]:
        desk.update_occupant(
            vehicle_id, number, id_number=body.id_number, destination=body.destination
        )
        return desk.vehicle_view(vehicle_id)

    @app.delete("/api/vehicles/{vehicle_id}/occupants/{number}")
    def remove(vehicle_id: str, number: int) -> dict[str, Any]:
        desk.remove_occupant(vehicle_id, number)
        return desk.vehicle_view(vehicle_id)

    @app.post("/api/vehicles/{vehicle_id}/close")
    def close(vehicle_id: str) -> dict[str, Any]:
        event = desk.close(vehicle_id)
        assert event.vehicle is not None
        return {
            "event_id": str(event.event_id),
            "plate": event.vehicle.plate,
            "passed": event.vehicle.passed,
            "reasons": event.decision.reasons,
        }

    return app


def _unpaired(request: Request) -> Response:
    """401: the API answers in the page's error form, anything else as text."""
    if request.url.path.startswith("/api/"):
        return JSONResponse({"error": "unpaired", "message": UNPAIRED}, 401)
    return PlainTextResponse(UNPAIRED, 401)


class CheckpointServer(LocalWebServer):
    """uvicorn in a thread, for the checkpoint's operator page."""

    def __init__(self, checkpoint: Checkpoint, host: str, port: int) -> None:
        super().__init__(checkpoint_app(checkpoint), host, port, "checkpoint-web")
