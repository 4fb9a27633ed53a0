"""Report messages tracked, report purges audited, tasks indexed by worker and day.

Revision ID: 0015
Revises: 0014
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

MESSAGE_STATUSES = "message_status IN ('pending', 'sent', 'failed')"


def upgrade() -> None:
    """Add the message columns and the updated_at index to reports; create report_purges;
    index tasks by (worker_id, day) for the least-loaded worker of a day."""
    with op.batch_alter_table("reports") as batch:
        batch.add_column(sa.Column("message_status", sa.String(8), nullable=True))
        batch.add_column(
            sa.Column("message_attempts", sa.Integer(), server_default="0", nullable=False)
        )
        batch.add_column(
            sa.Column("message_error", sa.String(500), server_default="", nullable=False)
        )
        batch.create_check_constraint(op.f("ck_reports_message_status"), MESSAGE_STATUSES)
    op.create_index(op.f("ix_reports_updated_at"), "reports", ["updated_at"])
    op.create_index("ix_tasks_worker_id_day", "tasks", ["worker_id", "day"])
    op.create_table(
        "report_purges",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", sa.String(64), nullable=False),
        sa.Column("older_than", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reports", sa.Integer(), nullable=False),
        sa.Column("tasks", sa.Integer(), nullable=False),
        sa.Column("alerts", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_purges")),
    )


def downgrade() -> None:
    """Drop report_purges, the index and the message columns."""
    op.drop_table("report_purges")
    op.drop_index("ix_tasks_worker_id_day", table_name="tasks")
    op.drop_index(op.f("ix_reports_updated_at"), table_name="reports")
    with op.batch_alter_table("reports") as batch:
        batch.drop_constraint(op.f("ck_reports_message_status"), type_="check")
        batch.drop_column("message_error")
        batch.drop_column("message_attempts")
        batch.drop_column("message_status")
