"""When each address's QR door plate was printed.

Revision ID: 0012
Revises: 0010
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add addresses.plate_printed_at."""
    with op.batch_alter_table("addresses") as batch:
        batch.add_column(sa.Column("plate_printed_at", sa.DateTime(timezone=True), nullable=True))


def downgrade() -> None:
    """Drop addresses.plate_printed_at."""
    with op.batch_alter_table("addresses") as batch:
        batch.drop_column("plate_printed_at")
