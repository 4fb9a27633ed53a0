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
from models.identity import mask_name


def alert_detail(session: Session, row: AlertRow) -> AlertDetail:
    """Everything a grid worker needs to act on ``row``."""
    audit = session.scalars(
        select(AlertAuditRow)
        .where(AlertAuditRow.alert_id == row.alert_id)
        .order_by(AlertAuditRow.at, AlertAuditRow.id)
    )
    resident = _matched_resident(session, row)
    seen = _seen(session, row)
    return AlertDetail(
        alert=to_alert(row),
        acknowledged_by=row.acknowledged_by,
        resolved_by=row.resolved_by,
        audit=[AuditEntry(at=a.at, actor=a.actor, action=a.action, detail=a.detail) for a in audit],
        seen=seen,
        resident=_resident(resident) if resident else None,
        suggestions=_suggestions(session, row, seen, resident),
    )


CODE_RULES = frozenset({AlertRule.RED_CODE, AlertRule.YELLOW_CODE})
MAX_SUGGESTIONS = 5
MAX_NAMES = 6


def _matched_resident(session: Session, row: AlertRow) -> ResidentRow | None:
    """The alert's resident; for a code alert raised before the holder was in the ledger,
    the resident whose ID number the pass's holder reference is."""
    if row.resident_id:
        return session.get(ResidentRow, row.resident_id)
    if row.rule in CODE_RULES:
        return session.scalars(
            select(ResidentRow).where(ResidentRow.holder_ref == row.subject_ref)
        ).first()
    return None


def _suggestions(
    session: Session, row: AlertRow, seen: Seen | None, resident: ResidentRow | None
) -> list[str]:
    """Leads for the worker, only from the alert's own grid (which the caller may see):
    an address mismatch gets ledger addresses near the door plate's (fuzzy, same number); an
    unregistered face the households registered at the door plates shown in the passage; a
    red or yellow code the holder's ledger entry and the others registered at their address."""
    found: list[str] = []
    if row.rule == AlertRule.ADDRESS_MISMATCH and seen is not None:
        for code in seen.door_plates:
            plate = session.get(AddressRow, code)
            if plate is not None:
                candidates = search_addresses(session, address_text(plate), limit=6)
                found += [
                    f"{c.text} ({c.address_code})" for c in candidates if c.address_code != code
                ]
    elif row.rule == AlertRule.UNREGISTERED_PERSON and seen is not None:
        for code in dict.fromkeys(seen.door_plates):
            found += _household(session, code, row.grid_id, exclude=None, or_nobody=True)
    elif row.rule in CODE_RULES and resident is not None:
        address = session.get(AddressRow, resident.address_code) if resident.address_code else None
        if address is None or address.grid_id == row.grid_id:
            where = f"{address_text(address)} ({address.address_code})" if address else "-"
            found.append(f"{_person(resident)} · {where}")
            if address is not None:
                found += _household(
                    session,
                    address.address_code,
                    row.grid_id,
                    resident.resident_id,
                    or_nobody=False,
                )
    return found[:MAX_SUGGESTIONS]


def _household(
    session: Session, code: str, grid_id: str, exclude: str | None, *, or_nobody: bool
) -> list[str]:
    """``地址 (code): 张** 138****5678, …``: who else is registered at a ledger address in
    ``grid_id`` (``地址 (code): -`` for nobody if ``or_nobody``); else nothing."""
    address = session.get(AddressRow, code)
    if address is None or address.grid_id != grid_id:
        return []
    people = session.scalars(
        select(ResidentRow)
        .where(ResidentRow.address_code == code, ResidentRow.resident_id != (exclude or ""))
        .order_by(ResidentRow.resident_id)
        .limit(MAX_NAMES + 1)
    ).all()
    if not people and not or_nobody:
        return []
    names = ", ".join(_person(p, with_id=False) for p in people[:MAX_NAMES])
    more = " …" if len(people) > MAX_NAMES else ""
    return [f"{address_text(address)} ({code}): {names or '-'}{more}"]


def _person(row: ResidentRow, *, with_id: bool = True) -> str:
    """A resident as a lead: masked name, masked ID number, masked phone."""
    parts = [mask_name(row.name), row.id_masked if with_id else "", mask_phone(row.phone)]
    return " ".join(p for p in parts if p)


def mask_phone(phone: str) -> str:
    """``138****5678``: the first three and last four digits kept."""
    digits = phone.strip()
    if len(digits) <= 7:
        return "*" * len(digits)
    return digits[:3] + "*" * (len(digits) - 7) + digits[-4:]


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
