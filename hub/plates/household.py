"""The household file (一户一档) a plate opens: residents, open tasks and alerts, last visits;
and the changes a visiting grid worker records there."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.ledger.address_search import address_text
from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import AddressRow, HouseholdRow, ResidentRow
from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskKind, TaskResult
from models.alerts import AlertState, SweepStep

LAST_VISITS = 10


class HouseholdError(LookupError):
    """No such address, or no such resident."""


@dataclass
class HouseholdFile:
    """Everything about one address a visiting worker needs."""

    address_code: str
    address: str
    grid_id: str
    state: str
    residents: list[ResidentRow] = field(default_factory=list)
    open_tasks: list[TaskRow] = field(default_factory=list)
    open_alerts: list[AlertRow] = field(default_factory=list)
    last_visits: list[TaskRow] = field(default_factory=list)


def address_of(session: Session, code: str) -> AddressRow:
    """The address, or :class:`HouseholdError`."""
    row = session.get(AddressRow, code)
    if row is None:
        raise HouseholdError(f"no address {code} in the ledger")
    return row


def household_file(session: Session, code: str) -> HouseholdFile:
    """The file of the household at ``code``."""
    address = address_of(session, code)
    household = session.get(HouseholdRow, code)
    residents = list(
        session.scalars(
            select(ResidentRow).where(ResidentRow.address_code == code).order_by(ResidentRow.name)
        )
    )
    ids = [r.resident_id for r in residents]
    tasks = session.scalars(
        select(TaskRow)
        .where(TaskRow.address_code == code)
        .order_by(TaskRow.done_at.desc().nulls_last(), TaskRow.day.desc())
    ).all()
    alerts = (
        session.scalars(
            select(AlertRow)
            .where(AlertRow.resident_id.in_(ids), AlertRow.state != str(AlertState.RESOLVED))
            .order_by(AlertRow.updated_at.desc())
        ).all()
        if ids
        else []
    )
    return HouseholdFile(
        address_code=code,
        address=address_text(address),
        grid_id=address.grid_id,
        state=household.state if household else "unknown",
        residents=residents,
        open_tasks=[t for t in tasks if t.status == "pending"],
        open_alerts=list(alerts),
        last_visits=[t for t in tasks if t.status == "done"][:LAST_VISITS],
    )


def record_visit(
    session: Session,
    code: str,
    actor: str,
    worker_id: str | None,
    step: SweepStep,
    result: TaskResult,
    now: datetime,
    today: date,
    note: str = "",
) -> TaskRow:
    """A visit (one sweep step and what it found), kept with the household's tasks."""
    address = address_of(session, code)
    row = TaskRow(
        task_id=uuid.uuid4(),
        day=today,
        kind=str(TaskKind.VISIT),
        grid_id=address.grid_id,
        address_code=code,
        subject=f"visit:{code}:{uuid.uuid4().hex[:12]}",
        worker_id=worker_id,
        status="done",
        result=str(result),
        note=f"{step}: {note}"[:1000],
        done_at=now,
        done_by=actor,
    )
    session.add(row)
    return row


def move(session: Session, code: str, resident_id: str, *, moving_in: bool) -> ResidentRow:
    """A resident moves in to (or out of) the household at ``code``; occupancy follows."""
    address_of(session, code)
    resident = session.get(ResidentRow, resident_id)
    if resident is None:
        raise HouseholdError(f"no resident {resident_id} in the ledger")
    if not moving_in and resident.address_code != code:
        raise HouseholdError(f"resident {resident_id} does not live at {code}")
    previous = resident.address_code
    resident.address_code = code if moving_in else None
    session.flush()
    for touched in {code, previous} - {None}:
        assert touched is not None
        _update_occupancy(session, touched)
    return resident


def _update_occupancy(session: Session, code: str) -> None:
    lives_here = session.scalar(
        select(ResidentRow.resident_id).where(ResidentRow.address_code == code).limit(1)
    )
    state = "occupied" if lives_here else "vacant"
    household = session.get(HouseholdRow, code)
    if household is None:
        session.add(HouseholdRow(address_code=code, state=state))
    else:
        household.state = state
