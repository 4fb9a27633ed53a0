"""An alert's detail for the dashboard: history, what the gate saw, the matched resident."""

from __future__ import annotations

from pydantic import ValidationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alerts.repository import to_alert
from hub.api.schemas import (
    AlertDetail,
    AuditEntry,
    ResidentSummary,
    Seen,
    SeenCode,
    SeenFace,
)
from hub.ledger.address_search import address_text, search_addresses
from hub.store.alert_tables import AlertAuditRow, AlertRow
from hub.store.ledger_tables import AddressRow, ResidentRow
from hub.store.tables import EventRow
from models import PassageEvent
from models.alerts import AlertRule
from models.events import DoorPlateObservation, FaceObservation, HealthCodeObservation


def alert_detail(session: Session, row: AlertRow) -> AlertDetail:
    """Everything a grid worker needs to act on ``row``."""
    audit = session.scalars(
        select(AlertAuditRow)
        .where(AlertAuditRow.alert_id == row.alert_id)
        .order_by(AlertAuditRow.at, AlertAuditRow.id)
    )
    resident = session.get(ResidentRow, row.resident_id) if row.resident_id else None
    seen = _seen(session, row)
    return AlertDetail(
        alert=to_alert(row),
        acknowledged_by=row.acknowledged_by,
        resolved_by=row.resolved_by,
        audit=[AuditEntry(at=a.at, actor=a.actor, action=a.action, detail=a.detail) for a in audit],
        seen=seen,
        resident=_resident(resident) if resident else None,
        suggestions=_suggestions(session, row, seen),
    )


def _suggestions(session: Session, row: AlertRow, seen: Seen | None) -> list[str]:
    """For an address mismatch: ledger addresses near the door plate's (fuzzy, same number)."""
    if row.rule != AlertRule.ADDRESS_MISMATCH or seen is None:
        return []
    found: list[str] = []
    for code in seen.door_plates:
        plate = session.get(AddressRow, code)
        if plate is not None:
            candidates = search_addresses(session, address_text(plate), limit=6)
            found += [f"{c.text} ({c.address_code})" for c in candidates if c.address_code != code]
    return found[:5]


def _seen(session: Session, row: AlertRow) -> Seen | None:
    stored = session.get(EventRow, row.last_event_id) if row.last_event_id else None
    if stored is None:
        return None
    try:
        event = PassageEvent.model_validate(stored.payload)
    except ValidationError:
        return None
    observations = event.observations
    return Seen(
        event_id=event.event_id,
        device_id=event.device_id,
        gate_id=event.gate_id,
        direction=event.direction,
        occurred_at=event.occurred_at,
        gate_action=event.decision.action,
        faces=[
            SeenFace(
                track_id=o.track_id,
                quality=o.quality,
                edge_decision=o.local_match.decision,
                liveness_checked=o.liveness.checked,
                liveness_passed=o.liveness.passed,
            )
            for o in observations
            if isinstance(o, FaceObservation)
        ],
        codes=[
            SeenCode(
                format=o.format,
                status=o.status,
                colour=o.colour,
                reasons=o.reason_codes,
                policy_passed=o.policy_passed,
            )
            for o in observations
            if isinstance(o, HealthCodeObservation)
        ],
        door_plates=[o.address_code for o in observations if isinstance(o, DoorPlateObservation)],
    )


def _resident(row: ResidentRow) -> ResidentSummary:
    return ResidentSummary(
        resident_id=row.resident_id,
        name=row.name,
        id_masked=row.id_masked,
        phone=row.phone,
        address_code=row.address_code,
        role=row.role,
        code_colour=row.code_colour,
        quarantine_until=row.quarantine_until,
        face_enrolled=row.face_enrolled,
    )
