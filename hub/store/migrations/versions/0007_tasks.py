"""Daily check tasks.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create tasks."""
    op.create_table(
        "tasks",
        sa.Column("task_id", sa.Uuid(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("kind", sa.String(24), nullable=False),
        sa.Column("grid_id", sa.String(64), nullable=False),
        sa.Column("address_code", sa.String(64), nullable=True),
        sa.Column("resident_id", sa.String(64), nullable=True),
        sa.Column("subject", sa.String(200), nullable=False),
        sa.Column("worker_id", sa.String(64), nullable=True),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("result", sa.String(16), nullable=True),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("done_by", sa.String(64), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'done')", name=op.f("ck_tasks_status")),
        sa.CheckConstraint(
            "result IN ('reached', 'away', 'unreachable')", name=op.f("ck_tasks_result")
        ),
        sa.ForeignKeyConstraint(
            ["address_code"],
            ["addresses.address_code"],
            name=op.f("fk_tasks_address_code_addresses"),
        ),
        sa.ForeignKeyConstraint(
            ["worker_id"], ["grid_workers.worker_id"], name=op.f("fk_tasks_worker_id_grid_workers")
        ),
        sa.PrimaryKeyConstraint("task_id", name=op.f("pk_tasks")),
        sa.UniqueConstraint("day", "kind", "subject", name=op.f("uq_tasks_day_kind_subject")),
    )
    op.create_index(op.f("ix_tasks_day"), "tasks", ["day"])
    op.create_index(op.f("ix_tasks_grid_id"), "tasks", ["grid_id"])
    op.create_index(op.f("ix_tasks_worker_id"), "tasks", ["worker_id"])


def downgrade() -> None:
    """Drop tasks."""
    op.drop_table("tasks")
