"""Group codes raise alerts: a member of a group whose code is red or yellow is followed up in
the grid of their address, once per person and colour (the gate's alert for the same person
and rule is the same alert)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.alerts.repository import active_key, raise_or_repeat
from hub.rules.config import DEFAULT_SEVERITY
from hub.rules.engine import AlertDraft
from hub.store.alert_tables import AlertRow
from hub.store.ledger_tables import AddressRow, GroupRow, ResidentRow, group_members
from models.alerts import AlertRule

UNASSIGNED_GRID = "unassigned"
_RULES = {"red": AlertRule.RED_CODE, "yellow": AlertRule.YELLOW_CODE}


def raise_group_code_alerts(session: Session, now: datetime) -> list[AlertRow]:
    """Open an alert for each red or yellow group member without one; the alerts opened."""
    rows = session.execute(
        select(ResidentRow, GroupRow, AddressRow.grid_id)
        .join(group_members, group_members.c.resident_id == ResidentRow.resident_id)
        .join(GroupRow, GroupRow.group_id == group_members.c.group_id)
        .outerjoin(AddressRow, AddressRow.address_code == ResidentRow.address_code)
        .where(ResidentRow.code_colour.in_(list(_RULES)))
        .order_by(ResidentRow.resident_id)
    ).all()
    opened = []
    for resident, group, grid_id in rows:
        rule = _RULES[resident.code_colour or ""]
        key = active_key(rule, resident.resident_id)
        if session.scalar(select(AlertRow.alert_id).where(AlertRow.active_key == key)):
            continue
        draft = AlertDraft(
            rule=rule,
            severity=DEFAULT_SEVERITY[rule],
            subject_ref=resident.resident_id,
            grid_id=grid_id or UNASSIGNED_GRID,
            summary=f"{resident.code_colour} code of a member of {group.name}",
            resident_id=resident.resident_id,
        )
        opened.append(
            raise_or_repeat(
                session, draft, site_id=f"group-{group.group_id}"[:64], gate_id=None,
                event_id=None, now=now,
            )
        )  # fmt: skip
    return opened
