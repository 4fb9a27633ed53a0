"""A market group of three ledger residents: one red code, one yellow, one green but overdue."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import insert, select

from hub.store.db import Store
from hub.store.ledger_tables import GroupRow, ResidentRow, group_members
from models.base import utc_now


def seed_market(store: Store, group_id: str = "market-1") -> list[str]:
    """The group and its members (red, yellow, green with a 3-day-old test), by colour."""
    now = utc_now()
    with store.transaction() as session:
        ids = list(
            session.scalars(
                select(ResidentRow.resident_id).order_by(ResidentRow.resident_id).limit(3)
            )
        )
        session.add(GroupRow(group_id=group_id, name="新塘农贸市场", admin_resident_id=ids[0]))
        session.flush()
        for resident_id, colour, tested in zip(
            ids,
            ("red", "yellow", "green"),
            (now, now - timedelta(hours=5), now - timedelta(days=3)),
            strict=True,
        ):
            row = session.get(ResidentRow, resident_id)
            assert row is not None
            row.code_colour, row.last_test_at = colour, tested
            session.execute(
                insert(group_members).values(group_id=group_id, resident_id=resident_id)
            )
    return ids
