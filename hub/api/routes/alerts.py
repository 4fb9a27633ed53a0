"""Alerts: the list, and a live Server-Sent Events stream."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request
from sqlalchemy import select
from sse_starlette.sse import EventSourceResponse

from hub.alerts.repository import to_alert
from hub.api.deps import SessionDep
from hub.push.sse import SseBroadcaster
from hub.store.alert_tables import AlertRow
from models.alerts import Alert, AlertState

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

KEEPALIVE_S = 15


@router.get("", response_model=list[Alert])
def list_alerts(
    session: SessionDep,
    grid: Annotated[str | None, Query(max_length=64, description="Only this grid.")] = None,
    state: Annotated[AlertState | None, Query(description="Only this state.")] = None,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 100,
) -> list[Alert]:
    """Alerts, most recently updated first."""
    stmt = select(AlertRow).order_by(AlertRow.updated_at.desc())
    if grid is not None:
        stmt = stmt.where(AlertRow.grid_id == grid)
    if state is not None:
        stmt = stmt.where(AlertRow.state == str(state))
    return [to_alert(row) for row in session.scalars(stmt.limit(limit))]


@router.get("/stream")
async def stream_alerts(
    request: Request,
    grid: Annotated[list[str] | None, Query(description="Only these grids.")] = None,
) -> EventSourceResponse:
    """New and repeated alerts as they are committed (``text/event-stream``)."""
    broadcaster: SseBroadcaster | None = request.app.state.alerts_stream
    if broadcaster is None:
        raise HTTPException(503, "this hub process does not push alerts")
    subscription = broadcaster.subscribe(frozenset(grid) if grid else None)

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            while True:
                try:
                    alert = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    continue
                yield {"event": "alert", "id": str(alert.alert_id), "data": alert.model_dump_json()}
        finally:
            broadcaster.unsubscribe(subscription)

    return EventSourceResponse(events(), ping=KEEPALIVE_S)
