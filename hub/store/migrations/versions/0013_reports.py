"""Self-reports through a report code, and the region risk list.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create risk_regions and reports."""
    op.create_table(
        "risk_regions",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("region_code", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("level", sa.String(8), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=False),
        sa.CheckConstraint(
            "level IN ('high', 'medium', 'low')", name=op.f("ck_risk_regions_level")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_risk_regions")),
    )
    op.create_index(op.f("ix_risk_regions_region_code"), "risk_regions", ["region_code"])
    op.create_table(
        "reports",
        sa.Column("report_id", sa.Uuid(), nullable=False),
        sa.Column("holder_ref", sa.String(128), nullable=False),
        sa.Column("id_masked", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("arrived", sa.Boolean(), nullable=False),
        sa.Column("arrival_date", sa.Date(), nullable=False),
        sa.Column("address_text", sa.String(200), nullable=False),
        sa.Column("address_code", sa.String(64), nullable=True),
        sa.Column("grid_id", sa.String(64), nullable=False),
        sa.Column("resident_id", sa.String(64), nullable=True),
        sa.Column("regions", JSON_DOCUMENT, nullable=False),
        sa.Column("risk_level", sa.String(8), nullable=False),
        sa.Column("health_code", sa.String(24), nullable=True),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("submissions", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Uuid(), nullable=True),
        sa.Column("alert_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "risk_level IN ('high', 'medium', 'low', 'none')", name=op.f("ck_reports_risk_level")
        ),
        sa.PrimaryKeyConstraint("report_id", name=op.f("pk_reports")),
        sa.UniqueConstraint(
            "holder_ref", "arrival_date", name=op.f("uq_reports_holder_ref_arrival_date")
        ),
    )
    op.create_index(op.f("ix_reports_phone"), "reports", ["phone"])
    op.create_index(op.f("ix_reports_grid_id"), "reports", ["grid_id"])
    op.create_index(op.f("ix_reports_created_at"), "reports", ["created_at"])


def downgrade() -> None:
    """Drop reports and risk_regions."""
    op.drop_table("reports")
    op.drop_table("risk_regions")
