"""Alert scope for propagation: the building and community of each alert, backfilled.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMMUNITY = """
UPDATE alerts SET community = (
    SELECT NULLIF(grids.community, '') FROM grids WHERE grids.grid_id = alerts.grid_id
)
"""
"""An alert's community is its grid's."""

BUILDING = """
UPDATE alerts SET building = (
    SELECT addresses.street || addresses.number || '号'
        || CASE WHEN addresses.building <> '' THEN ' ' || addresses.building || '栋' ELSE '' END
    FROM residents JOIN addresses ON addresses.address_code = residents.address_code
    WHERE residents.resident_id = alerts.resident_id
)
WHERE alerts.resident_id IS NOT NULL
"""
"""The building of the resident's address, as hub.alerts.repository.building_key writes it
(alerts raised on a door plate alone keep none: the plate is not stored on the alert)."""


def upgrade() -> None:
    """Add and index alerts.building and alerts.community; fill them for existing alerts."""
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("building", sa.String(160), nullable=True))
        batch.add_column(sa.Column("community", sa.String(100), nullable=True))
    op.create_index(op.f("ix_alerts_building"), "alerts", ["building"])
    op.create_index(op.f("ix_alerts_community"), "alerts", ["community"])
    op.execute(COMMUNITY)
    op.execute(BUILDING)


def downgrade() -> None:
    """Drop the scope columns and their indexes."""
    op.drop_index(op.f("ix_alerts_community"), table_name="alerts")
    op.drop_index(op.f("ix_alerts_building"), table_name="alerts")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("community")
        batch.drop_column("building")
