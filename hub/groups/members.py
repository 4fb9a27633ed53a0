"""What a group admin sees: each member's code colour, test age and flags, worst first."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.store.ledger_tables import GroupRow, ResidentRow, group_members

TEST_OVERDUE_AFTER = timedelta(hours=48)
_RANK = {"red": 0, "yellow": 1, None: 2, "green": 3}


class UnknownGroupError(LookupError):
    """No such group in the ledger."""


@dataclass(frozen=True)
class MemberCode:
    """One member at a glance (ID number masked)."""

    resident_id: str
    name: str
    id_masked: str
    colour: str | None
    last_test_at: datetime | None
    test_age_h: float | None
    test_overdue: bool
    quarantined: bool


def group_name(session: Session, group_id: str) -> str:
    """The group's name, or :class:`UnknownGroupError`."""
    group = session.get(GroupRow, group_id)
    if group is None:
        raise UnknownGroupError(f"no group {group_id}")
    return group.name


def member_codes(session: Session, group_id: str, now: datetime) -> list[MemberCode]:
    """Every member: red first, then yellow, unknown, green; overdue tests before others."""
    group_name(session, group_id)
    rows = session.scalars(
        select(ResidentRow)
        .join(group_members, group_members.c.resident_id == ResidentRow.resident_id)
        .where(group_members.c.group_id == group_id)
    )
    members = []
    for row in rows:
        age = (now - row.last_test_at).total_seconds() / 3600 if row.last_test_at else None
        members.append(
            MemberCode(
                resident_id=row.resident_id,
                name=row.name,
                id_masked=row.id_masked,
                colour=row.code_colour,
                last_test_at=row.last_test_at,
                test_age_h=round(age, 1) if age is not None else None,
                test_overdue=age is None or age > TEST_OVERDUE_AFTER.total_seconds() / 3600,
                quarantined=row.quarantine_until is not None and row.quarantine_until >= now.date(),
            )
        )
    return sorted(members, key=lambda m: (_RANK.get(m.colour, 2), not m.test_overdue, m.name))
