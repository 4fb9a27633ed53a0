"""Alerts: the list, the detail, the lifecycle steps, and a live Server-Sent Events stream.

Grid workers see and act on the alerts of their grids only; operators and admins on all.
The list, the stream and the rollup filter by scope: gate, building, grid, community.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator, Callable
from typing import Annotated

from fastapi import APIRouter, Depends, HTTPException, Query, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select
from sqlalchemy.orm import Session
from sse_starlette.sse import EventSourceResponse

from hub.alerts.lifecycle import TransitionError, acknowledge, record_sweep, record_view, resolve
from hub.alerts.repository import AlertScope, ScopeLevel, rollup, to_alert
from hub.api.alert_view import alert_detail
from hub.api.deps import SessionDep, StaffDep, StoreDep
from hub.api.schemas import AlertDetail, AlertNote, ResolveRequest, SweepRequest
from hub.auth.roles import Principal
from hub.push.sse import SseBroadcaster
from hub.store.alert_tables import AlertRow
from models.alerts import Alert, AlertState
from models.base import utc_now

router = APIRouter(prefix="/api/alerts", tags=["alerts"])

KEEPALIVE_S = 15
SCOPE_VALUES = 50
"""At most this many values per scope filter."""


def _values(name: str, values: list[str] | None, longest: int) -> frozenset[str] | None:
    if values is None:
        return None
    if len(values) > SCOPE_VALUES or any(not v or len(v) > longest for v in values):
        detail = f"{name}: at most {SCOPE_VALUES} values of 1 to {longest} characters"
        raise HTTPException(status.HTTP_422_UNPROCESSABLE_CONTENT, detail)
    return frozenset(values)


def alert_scope(
    gate_id: Annotated[list[str] | None, Query(description="Only these gates.")] = None,
    building: Annotated[
        list[str] | None, Query(description="Only these buildings (e.g. 新塘里96号 3栋).")
    ] = None,
    grid_id: Annotated[list[str] | None, Query(description="Only these grids.")] = None,
    community: Annotated[list[str] | None, Query(description="Only these communities.")] = None,
    grid: Annotated[
        list[str] | None, Query(description="Same as grid_id (older name).", deprecated=True)
    ] = None,
) -> AlertScope:
    """The scope filters of a request (each level: any of its values)."""
    grids = [*(grid_id or []), *(grid or [])] if grid_id or grid else None
    return AlertScope(
        gates=_values("gate_id", gate_id, 64),
        buildings=_values("building", building, 160),
        grids=_values("grid_id", grids, 64),
        communities=_values("community", community, 100),
    )


ScopeDep = Annotated[AlertScope, Depends(alert_scope)]


class AlertRollup(BaseModel):
    """Unresolved alerts of one key at the requested level, by severity."""

    model_config = ConfigDict(extra="forbid")

    key: str | None = Field(
        title="Key", description="The gate, building, grid or community; null: not known."
    )
    critical: int = Field(0, ge=0, title="Critical")
    major: int = Field(0, ge=0, title="Major")
    minor: int = Field(0, ge=0, title="Minor")
    warning: int = Field(0, ge=0, title="Warning")
    total: int = Field(0, ge=0, title="Total", description="All severities.")


@router.get("", response_model=list[Alert])
def list_alerts(
    caller: StaffDep,
    store: StoreDep,
    scope: ScopeDep,
    state: Annotated[AlertState | None, Query(description="Only this state.")] = None,
    active: Annotated[bool, Query(description="Only unresolved alerts.")] = False,
    limit: Annotated[int, Query(ge=1, le=500, description="At most this many.")] = 100,
) -> list[Alert]:
    """Alerts the caller may see in scope, most recently updated first."""
    stmt = scope.within(caller.grids).where(select(AlertRow).order_by(AlertRow.updated_at.desc()))
    if state is not None:
        stmt = stmt.where(AlertRow.state == str(state))
    if active:
        stmt = stmt.where(AlertRow.state != str(AlertState.RESOLVED))
    with store.sessions() as session:
        return [to_alert(row) for row in session.scalars(stmt.limit(limit))]


@router.get("/rollup", response_model=list[AlertRollup])
def rollup_alerts(
    caller: StaffDep,
    store: StoreDep,
    scope: ScopeDep,
    level: Annotated[ScopeLevel, Query(description="Count per gate, building, grid or community.")],
) -> list[AlertRollup]:
    """Unresolved alerts the caller may see in scope, counted by severity per key of
    ``level``; most alerts first."""
    with store.sessions() as session:
        counts = rollup(session, scope.within(caller.grids), level)
    rows = [
        AlertRollup(
            key=key,
            total=sum(by_severity.values()),
            **{str(severity): n for severity, n in by_severity.items()},
        )
        for key, by_severity in counts.items()
    ]
    return sorted(rows, key=lambda r: (-r.total, r.key is None, r.key or ""))


@router.get("/stream")
async def stream_alerts(
    request: Request, caller: StaffDep, scope: ScopeDep, session: SessionDep
) -> EventSourceResponse:
    """New, repeated and updated alerts in scope as they are committed (``text/event-stream``)."""
    session.close()  # the login is read (same session): hold no connection while streaming
    broadcaster: SseBroadcaster | None = request.app.state.alerts_stream
    if broadcaster is None:
        raise HTTPException(503, "this hub process does not push alerts")
    scope = scope.within(caller.grids)
    subscription = broadcaster.subscribe(scope.grids)

    async def events() -> AsyncIterator[dict[str, str]]:
        try:
            while True:
                try:
                    alert = await asyncio.wait_for(subscription.queue.get(), KEEPALIVE_S)
                except TimeoutError:
                    if await request.is_disconnected():
                        return
                    continue
                if scope.admits(alert):
                    data = alert.model_dump_json()
                    yield {"event": "alert", "id": str(alert.alert_id), "data": data}
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
