"""Group codes: a group admin's view of their members (operators see any group)."""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime

from fastapi import APIRouter, Depends, HTTPException, status
from pydantic import BaseModel

from hub.api.deps import StoreDep, require_role
from hub.auth.roles import Principal, Role
from hub.groups.members import UnknownGroupError, group_name, member_codes
from models.base import utc_now

router = APIRouter(prefix="/api/groups", tags=["groups"])

GroupReader = Depends(require_role(Role.GROUP_ADMIN, Role.ADMIN, Role.OPERATOR))


class Member(BaseModel):
    """One member's codes."""

    resident_id: str
    name: str
    id_masked: str
    colour: str | None
    last_test_at: datetime | None
    test_age_h: float | None
    test_overdue: bool
    quarantined: bool


class GroupCodes(BaseModel):
    """A group at a glance."""

    group_id: str
    name: str
    members: list[Member]
    red: int
    yellow: int
    test_overdue: int


@router.get("/{group_id}", response_model=GroupCodes)
def group_codes(group_id: str, store: StoreDep, caller: Principal = GroupReader) -> GroupCodes:
    """Members' code colour and test age, red and yellow first."""
    if caller.role is Role.GROUP_ADMIN and caller.group_id != group_id:
        raise HTTPException(status.HTTP_403_FORBIDDEN, "a group admin sees only their group")
    with store.sessions() as session:
        try:
            name = group_name(session, group_id)
            members = member_codes(session, group_id, utc_now())
        except UnknownGroupError as exc:
            raise HTTPException(status.HTTP_404_NOT_FOUND, str(exc)) from None
    return GroupCodes(
        group_id=group_id,
        name=name,
        members=[Member(**asdict(m)) for m in members],
        red=sum(m.colour == "red" for m in members),
        yellow=sum(m.colour == "yellow" for m in members),
        test_overdue=sum(m.test_overdue for m in members),
    )
