"""Logins (users) and the alert lifecycle columns (acknowledged, resolved, escalated).

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TIMESTAMP = sa.DateTime(timezone=True)
LIFECYCLE_COLUMNS = (
    ("acknowledged_at", TIMESTAMP),
    ("acknowledged_by", sa.String(64)),
    ("resolved_at", TIMESTAMP),
    ("resolved_by", sa.String(64)),
    ("resolution", sa.String(32)),
    ("escalated_at", TIMESTAMP),
)


def upgrade() -> None:
    """Create users; add the lifecycle columns to alerts."""
    op.create_table(
        "users",
        sa.Column("username", sa.String(64), nullable=False),
        sa.Column("password_hash", sa.String(200), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("display_name", sa.String(100), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("disabled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "role IN ('admin', 'operator', 'grid_worker', 'device')", name=op.f("ck_users_role")
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"],
            ["grid_workers.worker_id"],
            name=op.f("fk_users_worker_id_grid_workers"),
        ),
        sa.PrimaryKeyConstraint("username", name=op.f("pk_users")),
    )
    with op.batch_alter_table("alerts") as batch:
        for name, kind in LIFECYCLE_COLUMNS:
            batch.add_column(sa.Column(name, kind, nullable=True))


def downgrade() -> None:
    """Drop the lifecycle columns and users."""
    with op.batch_alter_table("alerts") as batch:
        for name, _kind in reversed(LIFECYCLE_COLUMNS):
            batch.drop_column(name)
    op.drop_table("users")
