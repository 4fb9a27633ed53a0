"""The alert lifecycle grid workers drive: acknowledge → sweep (in progress) → resolve.

Every change is audited with who, when and what; a resolved alert frees its active key,
so the next sighting of the same person opens a new alert. Alerts left unacknowledged
too long are escalated to the grid leader (:func:`escalate_due`); escalated or acknowledged
alerts left unhandled are pushed again every so often (:func:`remind_due`).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from hub.store.alert_tables import AlertAuditRow, AlertRow
from hub.store.ledger_tables import GridRow, GridWorkerRow
from models.alerts import AlertState, Resolution, SweepStep

NOTE_CHARS = 1000


class TransitionError(ValueError):
    """The alert is not in a state that allows this step."""


def _record(
    session: Session, row: AlertRow, actor: str, action: str, detail: str, now: datetime
) -> None:
    row.updated_at = now
    session.add(
        AlertAuditRow(
            alert_id=row.alert_id, at=now, actor=actor, action=action, detail=detail[:NOTE_CHARS]
        )
    )


def _require(row: AlertRow, allowed: set[AlertState], step: str) -> None:
    state = AlertState(row.state)
    if state not in allowed:
        raise TransitionError(f"cannot {step} an alert that is {state}")


def acknowledge(session: Session, row: AlertRow, actor: str, now: datetime, note: str = "") -> None:
    """Open → acknowledged: someone has taken it."""
    _require(row, {AlertState.OPEN}, "acknowledge")
    row.state = str(AlertState.ACKNOWLEDGED)
    row.acknowledged_at, row.acknowledged_by = now, actor
    _record(session, row, actor, "acknowledged", note, now)


def record_sweep(
    session: Session, row: AlertRow, actor: str, step: SweepStep, now: datetime, note: str = ""
) -> None:
    """One step of the four-step sweep (door visit, phone, joint visit, cross-check)."""
    _require(row, {AlertState.ACKNOWLEDGED, AlertState.IN_PROGRESS}, "record a sweep step on")
    row.state = str(AlertState.IN_PROGRESS)
    _record(session, row, actor, f"sweep:{step}", note, now)


def resolve(
    session: Session,
    row: AlertRow,
    actor: str,
    resolution: Resolution,
    now: datetime,
    note: str = "",
) -> None:
    """Acknowledged or in progress → resolved, with how it ended."""
    _require(row, {AlertState.ACKNOWLEDGED, AlertState.IN_PROGRESS}, "resolve")
    row.state = str(AlertState.RESOLVED)
    row.active_key = None
    row.resolved_at, row.resolved_by, row.resolution = now, actor, str(resolution)
    _record(session, row, actor, "resolved", f"{resolution}: {note}" if note else resolution, now)


def record_view(session: Session, row: AlertRow, actor: str, now: datetime) -> None:
    """Audit that ``actor`` opened the alert's detail (who saw what); the alert is unchanged."""
    session.add(
        AlertAuditRow(alert_id=row.alert_id, at=now, actor=actor, action="viewed", detail="")
    )


def escalate_due(session: Session, now: datetime, after: timedelta) -> list[AlertRow]:
    """Mark open alerts older than ``after`` as escalated to their grid's leader; return them."""
    due = session.scalars(
        select(AlertRow).where(
            AlertRow.state == str(AlertState.OPEN),
            AlertRow.escalated_at.is_(None),
            AlertRow.raised_at <= now - after,
        )
    ).all()
    for row in due:
        leader = session.scalars(
            select(GridWorkerRow)
            .join(GridRow, GridRow.leader_worker_id == GridWorkerRow.worker_id)
            .where(GridRow.grid_id == row.grid_id)
        ).one_or_none()
        row.escalated_at = now
        who = f"{leader.name} ({leader.worker_id})" if leader else "no leader on record"
        minutes = int(after.total_seconds() // 60)
        _record(session, row, "hub", "escalated", f"unacknowledged {minutes} min → {who}", now)
    return list(due)


def remind_due(session: Session, now: datetime, after: timedelta) -> list[AlertRow]:
    """Unhandled alerts untouched for ``after``: remind (audited, pushed again by the caller).

    Acknowledged or in-progress alerts, and open ones already escalated (nobody took them:
    the grid and its leader hear of them again). The reminder counts as a touch, so the next
    comes ``after`` later; a repeat sighting touches an alert too (and is pushed itself).
    """
    unhandled = or_(
        AlertRow.state.in_([str(AlertState.ACKNOWLEDGED), str(AlertState.IN_PROGRESS)]),
        and_(AlertRow.state == str(AlertState.OPEN), AlertRow.escalated_at.is_not(None)),
    )
    due = session.scalars(
        select(AlertRow).where(unhandled, AlertRow.updated_at <= now - after)
    ).all()
    hours = after.total_seconds() / 3600
    for row in due:
        what = "unacknowledged" if row.state == str(AlertState.OPEN) else "unhandled"
        _record(session, row, "hub", "reminded", f"{what} for {hours:g} h", now)
    return list(due)
