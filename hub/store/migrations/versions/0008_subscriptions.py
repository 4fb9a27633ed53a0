"""Grid workers' alert subscriptions per channel.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create alert_subscriptions."""
    op.create_table(
        "alert_subscriptions",
        sa.Column("worker_id", sa.String(64), nullable=False),
        sa.Column("channel", sa.String(32), nullable=False),
        sa.Column("enabled", sa.Boolean(), nullable=False),
        sa.Column("min_severity", sa.String(16), nullable=False),
        sa.Column("rules", JSON_DOCUMENT, nullable=True),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["grid_workers.worker_id"],
            name=op.f("fk_alert_subscriptions_worker_id_grid_workers"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("worker_id", "channel", name=op.f("pk_alert_subscriptions")),
    )


def downgrade() -> None:
    """Drop alert_subscriptions."""
    op.drop_table("alert_subscriptions")
