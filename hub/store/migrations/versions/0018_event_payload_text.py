"""Events keep their payload as JSON text on PostgreSQL (``json``, not ``jsonb``).

The payload is written whole and read whole; ``jsonb`` converted each of a face encoding's
128 numbers on the way in (more than half the server's work per stored event). SQLite
already stores JSON as text: nothing changes there. The conversion rewrites the table.

Revision ID: 0018
Revises: 0017
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """events.payload: jsonb → json (PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column("events", "payload", type_=sa.JSON(), postgresql_using="payload::json")


def downgrade() -> None:
    """events.payload: json → jsonb (PostgreSQL)."""
    if op.get_bind().dialect.name == "postgresql":
        op.alter_column(
            "events", "payload", type_=postgresql.JSONB(), postgresql_using="payload::jsonb"
        )
