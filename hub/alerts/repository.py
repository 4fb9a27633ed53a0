"""Raise or repeat alerts inside the ingest transaction; read them back as wire models."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from datetime import datetime

from sqlalchemy import insert, select
from sqlalchemy.orm import Session

from hub.rules.engine import AlertDraft
from hub.store.alert_tables import AlertAuditRow, AlertRow
from models.alerts import Alert, AlertRule, AlertState, Resolution, Severity

_SEVERITY_RANK = {Severity.WARNING: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}


def active_key(rule: AlertRule, subject_ref: str) -> str:
    """The key that allows one unresolved alert per subject and rule."""
    return f"{rule}:{subject_ref}"


def raise_or_repeat(
    session: Session,
    draft: AlertDraft,
    *,
    site_id: str,
    gate_id: str | None,
    event_id: uuid.UUID | None,
    now: datetime,
    active: Mapping[str, AlertRow | None] | None = None,
) -> AlertRow:
    """Open a new alert, or count a repeat on the active one (severity never drops).

    ``active``: the active alerts already read in this transaction by key (None: there is
    none); a key missing from it is read here.
    """
    key = active_key(draft.rule, draft.subject_ref)
    pending: dict[str, AlertRow] = session.info.setdefault("gridgate_active_alerts", {})
    row = pending.get(key)
    if row is None and active is not None and key in active:
        row = active[key]
    elif row is None:
        with session.no_autoflush:  # alerts of this transaction are in ``pending``
            row = session.scalars(select(AlertRow).where(AlertRow.active_key == key)).one_or_none()
    if row is None:
        row = AlertRow(
            alert_id=uuid.uuid4(),
            active_key=key,
            rule=str(draft.rule),
            severity=str(draft.severity),
            state=str(AlertState.OPEN),
            grid_id=draft.grid_id,
            site_id=site_id,
            gate_id=gate_id,
            subject_ref=draft.subject_ref,
            resident_id=draft.resident_id,
            summary=draft.summary,
            repeat_count=1,
            first_event_id=event_id,
            last_event_id=event_id,
            raised_at=now,
            updated_at=now,
        )
        session.add(row)
        pending[key] = row
        _audit(session, row, now, "raised", draft.summary)
        return row
    pending[key] = row
    row.repeat_count += 1
    row.last_event_id = event_id
    row.updated_at = now
    row.summary = draft.summary
    if _SEVERITY_RANK[draft.severity] > _SEVERITY_RANK[Severity(row.severity)]:
        row.severity = str(draft.severity)
    _audit(session, row, now, "repeated", f"repeat {row.repeat_count}: {draft.summary}")
    return row


def _audit(session: Session, row: AlertRow, now: datetime, action: str, detail: str) -> None:
    """Queue an audit entry; :func:`flush_audit` writes it once its alert row exists."""
    entry: dict[str, object] = {
        "alert_id": row.alert_id,
        "at": now,
        "actor": "hub",
        "action": action,
        "detail": detail[:1000],
    }
    session.info.setdefault("gridgate_audit", []).append(entry)


def flush_audit(session: Session) -> None:
    """Write the new alerts, then their queued audit entries (the foreign key needs both)."""
    entries: list[dict[str, object]] = session.info.pop("gridgate_audit", [])
    if entries:
        session.flush()
        session.execute(insert(AlertAuditRow), entries)  # ORM bulk INSERT: one executemany


def to_alert(row: AlertRow) -> Alert:
    """The wire form of a stored alert."""
    return Alert(
        alert_id=row.alert_id,
        rule=AlertRule(row.rule),
        severity=Severity(row.severity),
        state=AlertState(row.state),
        grid_id=row.grid_id,
        site_id=row.site_id,
        gate_id=row.gate_id,
        event_id=row.last_event_id,
        subject_ref=row.subject_ref,
        summary=row.summary,
        repeat_count=row.repeat_count,
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        resolution=Resolution(row.resolution) if row.resolution else None,
        escalated=row.escalated_at is not None,
    )
