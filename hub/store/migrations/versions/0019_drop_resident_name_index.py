"""Drop the index on residents.name: no query looks residents up by name.

Every resident written paid for it (an 800,000-row import: one more B-tree of random keys
to insert into), and nothing read through it: lookups go by id, ID-number hash and address.

Revision ID: 0019
Revises: 0018
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Drop ix_residents_name."""
    op.drop_index(op.f("ix_residents_name"), table_name="residents")


def downgrade() -> None:
    """Create ix_residents_name again."""
    op.create_index(op.f("ix_residents_name"), "residents", ["name"])
