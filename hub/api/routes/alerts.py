"""Alerts: the list, the detail, the lifecycle steps, and a live Server-Sent Events stream.

Grid workers see and act on the alerts of their grids only; operators and admins on all.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, HTTPException, Query, Request, status
from sqlalchemy import select
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse

from hub.alerts.lifecycle import TransitionError, acknowledge, record_sweep, record_view, resolve
from hub.alerts.repository import to_alert
from hub.api.alert_view import alert_detail
from hub.api.deps import StaffDep, StoreDep
from hub.api.schemas import AlertDetail, AlertNote, ResolveRequest, SweepRequest
from hub.auth.roles import Principal
from hub.push.sse import SseBroadcaster
from hub.store.alert_tables import AlertRow
from models.alerts import Alert, AlertState
from models.base import utc_now

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

KEEPALIVE_S = 15


@router.get("", response_model=list[Alert])
def list_alerts(
    caller: StaffDep,
    store: StoreDep,
    grid: Annotated[str | None, Query(max_length=64, description="Only this grid.")] = None,
    state: Annotated[AlertState | None, Query(description="Only this state.")] = None,
    active: Annotated[bool, Query(description="Only unresolved alerts.")] = False,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 100,
) -> list[Alert]:
    """Alerts the caller may see, most recently updated first."""
    stmt = select(AlertRow).order_by(AlertRow.updated_at.desc())
    if grid is not None:
        stmt = stmt.where(AlertRow.grid_id == grid)
    if caller.grids is not None:
        stmt = stmt.where(AlertRow.grid_id.in_(caller.grids))
    if state is not None:
        stmt = stmt.where(AlertRow.state == str(state))
    if active:
        stmt = stmt.where(AlertRow.state != str(AlertState.RESOLVED))
    with store.sessions() as session:
        return [to_alert(row) for row in session.scalars(stmt.limit(limit))]


@router.get("/stream")
async def stream_alerts(
    request: Request,
    caller: StaffDep,
    grid: Annotated[list[str] | None, Query(description="Only these grids.")] = None,
) -> EventSourceResponse:
    """New, repeated and updated alerts as they are committed (``text/event-stream``)."""
    broadcaster: SseBroadcaster | None = request.app.state.alerts_stream
    if broadcaster is None:
        raise HTTPException(503, "this hub process does not push alerts")
    wanted = frozenset(grid) if grid else None
    if caller.grids is not None:
        wanted = caller.grids if wanted is None else wanted & caller.grids
    subscription = broadcaster.subscribe(wanted)

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


def _visible(session: Session, caller: Principal, alert_id: uuid.UUID) -> AlertRow:
    row = session.get(AlertRow, alert_id)
    if row is None or not caller.sees_grid(row.grid_id):
        raise HTTPException(status.HTTP_404_NOT_FOUND, f"no alert {alert_id}")
    return row


@router.get("/{alert_id}", response_model=AlertDetail)
def get_alert(alert_id: uuid.UUID, caller: StaffDep, store: StoreDep) -> AlertDetail:
    """The alert, its audit trail, what the gate saw and whom it matched (the view is audited)."""
    with store.transaction() as session:
        row = _visible(session, caller, alert_id)
        record_view(session, row, caller.username, utc_now())
        session.flush()
        return alert_detail(session, row)


def _step(
    request: Request,
    store: StoreDep,
    caller: Principal,
    alert_id: uuid.UUID,
    change: Callable[[Session, AlertRow], None],
) -> Alert:
    """Apply one lifecycle step in a transaction, then push the new state to live dashboards."""
    try:
        with store.transaction() as session:
            row = _visible(session, caller, alert_id)
            change(session, row)
            alert = to_alert(row)
    except TransitionError as exc:
        raise HTTPException(status.HTTP_409_CONFLICT, str(exc)) from None
    broadcaster: SseBroadcaster | None = request.app.state.alerts_stream
    if broadcaster is not None:
        broadcaster.send(alert)
    return alert


@router.post("/{alert_id}/acknowledge", response_model=Alert)
def acknowledge_alert(
    alert_id: uuid.UUID, body: AlertNote, caller: StaffDep, store: StoreDep, request: Request
) -> Alert:
    """Open → acknowledged."""
    return _step(
        request,
        store,
        caller,
        alert_id,
        lambda s, row: acknowledge(s, row, caller.username, utc_now(), body.note),
    )


@router.post("/{alert_id}/sweep", response_model=Alert)
def sweep_alert(
    alert_id: uuid.UUID, body: SweepRequest, caller: StaffDep, store: StoreDep, request: Request
) -> Alert:
    """Record a sweep step (door visit, phone, joint visit, cross-check): → in progress."""
    return _step(
        request,
        store,
        caller,
        alert_id,
        lambda s, row: record_sweep(s, row, caller.username, body.step, utc_now(), body.note),
    )


@router.post("/{alert_id}/resolve", response_model=Alert)
def resolve_alert(
    alert_id: uuid.UUID, body: ResolveRequest, caller: StaffDep, store: StoreDep, request: Request
) -> Alert:
    """→ resolved, with how it ended; the next sighting opens a new alert."""
    return _step(
        request,
        store,
        caller,
        alert_id,
        lambda s, row: resolve(s, row, caller.username, body.resolution, utc_now(), body.note),
    )
