"""The dashboard: static HTML, CSS and JavaScript served by the hub itself (no CDN)."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from fastapi import APIRouter, FastAPI
from fastapi.responses import FileResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles

STATIC_DIR = Path(__file__).parent / "static"

router = APIRouter(include_in_schema=False)


@router.get("/")
def dashboard() -> FileResponse:
    """The single-page dashboard (operators' wall screen and grid workers' phones)."""
    return FileResponse(STATIC_DIR / "index.html", headers={"Cache-Control": "no-cache"})


@router.get("/a/{address_code}")
def door_plate(address_code: str) -> RedirectResponse:
    """What a door plate's QR opens on a phone: that household's file on the dashboard."""
    return RedirectResponse(f"/#household/{quote(address_code, safe='')}", status_code=303)


def mount_dashboard(app: FastAPI) -> None:
    """Serve ``/`` and ``/static/*``."""
    app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
