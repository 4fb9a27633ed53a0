"""Generate a day's check list from the ledger and balance it across on-duty grid workers.

All tasks of one household go to one worker (one visit), households go to whoever has the
fewest tasks that day, and generating again the same day adds only what is new.
"""

from __future__ import annotations

import uuid
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import Select, func, or_, select
from sqlalchemy.orm import Session

from hub.store.ledger_tables import (
    AddressRow,
    GridWorkerRow,
    HouseholdRow,
    ResidentRow,
    worker_grids,
)
from hub.store.task_tables import TaskRow
from hub.tasks.kinds import TaskKind

DEFAULT_TEST_INTERVAL = timedelta(hours=48)
NEW_REGISTRATION_WINDOW = timedelta(hours=24)


@dataclass(frozen=True)
class Draft:
    """A task before assignment."""

    kind: TaskKind
    grid_id: str
    address_code: str | None
    resident_id: str | None
    subject: str


def generate_tasks(
    session: Session,
    day: date,
    now: datetime,
    *,
    test_interval: timedelta = DEFAULT_TEST_INTERVAL,
    grids: frozenset[str] | None = None,
) -> Counter[str]:
    """Add ``day``'s tasks (optionally only for ``grids``); counts of tasks added per kind."""
    drafts = [
        d for d in _drafts(session, day, now, test_interval) if grids is None or d.grid_id in grids
    ]
    existing: set[tuple[str, str]] = {
        (kind, subject)
        for kind, subject in session.execute(
            select(TaskRow.kind, TaskRow.subject).where(TaskRow.day == day)
        )
    }
    fresh = [d for d in drafts if (str(d.kind), d.subject) not in existing]
    assign = _assigner(session, day, {d.grid_id for d in fresh})
    added: Counter[str] = Counter()
    for draft in fresh:
        session.add(
            TaskRow(
                task_id=uuid.uuid4(),
                day=day,
                kind=str(draft.kind),
                grid_id=draft.grid_id,
                address_code=draft.address_code,
                resident_id=draft.resident_id,
                subject=draft.subject,
                worker_id=assign(draft),
                status="pending",
                note="",
            )
        )
        added[str(draft.kind)] += 1
    return added


def _drafts(session: Session, day: date, now: datetime, test_interval: timedelta) -> list[Draft]:
    resident_cols = (ResidentRow.resident_id, ResidentRow.address_code, AddressRow.grid_id)
    base = select(*resident_cols).join(
        AddressRow, AddressRow.address_code == ResidentRow.address_code
    )
    queries: list[tuple[TaskKind, Select[str, str | None, str]]] = [
        (
            TaskKind.TEST_OVERDUE,
            base.where(
                or_(
                    ResidentRow.last_test_at.is_(None),
                    ResidentRow.last_test_at < now - test_interval,
                )
            ),
        ),
        (TaskKind.RETURNEE_VERIFY, base.where(ResidentRow.key_area_returnee.is_(True))),
        (TaskKind.QUARANTINE_CHECK, base.where(ResidentRow.quarantine_until >= day)),
        (
            TaskKind.NEW_REGISTRATION,
            base.where(ResidentRow.created_at >= now - NEW_REGISTRATION_WINDOW),
        ),
    ]
    drafts = [
        Draft(kind, grid, address, resident, f"resident:{resident}")
        for kind, query in queries
        for resident, address, grid in session.execute(query.order_by(ResidentRow.resident_id))
    ]
    unknown = (
        select(HouseholdRow.address_code, AddressRow.grid_id)
        .join(AddressRow, AddressRow.address_code == HouseholdRow.address_code)
        .where(HouseholdRow.state == "unknown")
        .order_by(HouseholdRow.address_code)
    )
    drafts += [
        Draft(TaskKind.UNREACHABLE, grid, code, None, f"household:{code}")
        for code, grid in session.execute(unknown)
    ]
    return drafts


def _assigner(session: Session, day: date, grid_ids: set[str]) -> Callable[[Draft], str | None]:
    """A function giving each draft a worker: same household, same worker; else least loaded."""
    on_duty: dict[str, list[str]] = defaultdict(list)
    rows = session.execute(
        select(worker_grids.c.grid_id, GridWorkerRow.worker_id)
        .join(GridWorkerRow, GridWorkerRow.worker_id == worker_grids.c.worker_id)
        .where(worker_grids.c.grid_id.in_(grid_ids), GridWorkerRow.on_duty.is_(True))
        .order_by(GridWorkerRow.worker_id)
    )
    for grid, worker in rows:
        on_duty[grid].append(worker)
    load: Counter[str] = Counter()
    for worker, count in session.execute(
        select(TaskRow.worker_id, func.count())
        .where(TaskRow.day == day)
        .group_by(TaskRow.worker_id)
    ):
        if worker is not None:
            load[worker] = count
    household_worker: dict[str, str] = {}

    def assign(draft: Draft) -> str | None:
        if draft.address_code in household_worker:
            worker = household_worker[draft.address_code]
        elif on_duty.get(draft.grid_id):
            worker = min(on_duty[draft.grid_id], key=lambda w: (load[w], w))
        else:
            return None
        if draft.address_code is not None:
            household_worker[draft.address_code] = worker
        load[worker] += 1
        return worker

    return assign
