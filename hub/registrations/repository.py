"""Registration rows: record a request (idempotent), list them, and decide one.

Runs in the caller's transaction. A request's face encoding is sealed under
``registration:<request_id>`` and erased when the request is decided.
"""

from __future__ import annotations

import uuid
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.faces.enroll import enroll
from hub.faces.vault import FaceVault
from hub.ledger.idnumber import resident_id_for
from hub.store.ledger_tables import AddressRow, HouseholdRow, ResidentRow
from hub.store.registration_tables import RegistrationRow
from models.registrations import RegistrationRequest


class RegistrationState(StrEnum):
    """Where a request stands."""

    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


class DecisionError(ValueError):
    """A request that cannot be decided (not pending, or its address is not in the ledger)."""


@dataclass(frozen=True)
class Enrolled:
    """What an approval enrolled: the hub's face index must learn it after the commit."""

    resident_id: str
    encoding: npt.NDArray[np.float32]


def sealing_ref(request_id: uuid.UUID) -> str:
    """The associated data a request's encoding is sealed under."""
    return f"registration:{request_id}"


def record_request(
    session: Session, request: RegistrationRequest, vault: FaceVault, received_at: datetime
) -> bool:
    """Store ``request`` as pending; False when its ``request_id`` is already stored."""
    if session.get(RegistrationRow, request.request_id) is not None:
        return False
    address = session.get(AddressRow, request.address_code)
    session.add(
        RegistrationRow(
            request_id=request.request_id,
            device_id=request.device_id,
            site_id=request.site_id,
            address_code=request.address_code,
            address_known=address is not None,
            grid_id=address.grid_id if address is not None else None,
            holder_ref=request.health_code.holder_ref,
            name_masked=request.name_masked,
            code_colour=request.health_code.colour.value if request.health_code.colour else None,
            sealed_face=vault.seal(sealing_ref(request.request_id), request.face_encoding),
            face_quality=request.face_quality,
            consent_version=request.consent.text_version,
            consent_at=request.consent.accepted_at,
            created_at=request.created_at,
            received_at=received_at,
            state=RegistrationState.PENDING.value,
            note="",
        )
    )
    session.flush()
    return True


def list_registrations(
    session: Session, state: RegistrationState | None, grids: Collection[str] | None
) -> list[RegistrationRow]:
    """Requests in ``state`` (all when None), oldest first; ``grids`` limits to those grids."""
    stmt = select(RegistrationRow).order_by(RegistrationRow.received_at)
    if state is not None:
        stmt = stmt.where(RegistrationRow.state == state.value)
    if grids is not None:
        stmt = stmt.where(RegistrationRow.grid_id.in_(grids))
    return list(session.scalars(stmt))


def approve(
    session: Session, vault: FaceVault, row: RegistrationRow, by: str, now: datetime, note: str
) -> Enrolled:
    """Upsert the resident by holder ref at the address, occupy the household, enrol the face."""
    _require_pending(row)
    if not row.address_known or session.get(AddressRow, row.address_code) is None:
        raise DecisionError(f"address {row.address_code} is not in the ledger")
    if row.sealed_face is None:
        raise DecisionError("the request has no face encoding")
    encoding = vault.open(sealing_ref(row.request_id), row.sealed_face)
    resident = session.scalars(
        select(ResidentRow).where(ResidentRow.holder_ref == row.holder_ref)
    ).one_or_none()
    if resident is None:
        resident = ResidentRow(
            resident_id=resident_id_for(row.holder_ref),
            holder_ref=row.holder_ref,
            id_masked="",
            name=row.name_masked,
            role="resident",
            created_at=now,
        )
        session.add(resident)
    resident.address_code = row.address_code
    resident.name = resident.name or row.name_masked
    resident.code_colour = row.code_colour or resident.code_colour
    resident.face_enrolled = True
    resident.updated_at = now
    household = session.get(HouseholdRow, row.address_code)
    if household is None:
        session.add(HouseholdRow(address_code=row.address_code, state="occupied"))
    else:
        household.state = "occupied"
    session.flush()
    enroll(session, vault, resident.resident_id, encoding, f"kiosk:{row.device_id}")
    _decide(row, RegistrationState.APPROVED, by, now, note)
    row.resident_id = resident.resident_id
    return Enrolled(resident.resident_id, encoding)


def reject(session: Session, row: RegistrationRow, by: str, now: datetime, note: str) -> None:
    """Refuse the request and delete its face encoding."""
    _require_pending(row)
    _decide(row, RegistrationState.REJECTED, by, now, note)


def _require_pending(row: RegistrationRow) -> None:
    if row.state != RegistrationState.PENDING:
        raise DecisionError(f"request {row.request_id} is already {row.state}")


def _decide(
    row: RegistrationRow, state: RegistrationState, by: str, now: datetime, note: str
) -> None:
    row.state = state.value
    row.sealed_face = None  # approved: now the resident's enrolment; rejected: gone
    row.decided_by, row.decided_at, row.note = by, now, note
