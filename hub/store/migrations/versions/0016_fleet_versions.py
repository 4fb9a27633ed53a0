"""Fleet versions the hub expects: a device's pushed config digest, the published trust list.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add the pushed-config columns to device_registry; create published_versions."""
    with op.batch_alter_table("device_registry") as batch:
        batch.add_column(sa.Column("config_digest", sa.String(16), nullable=True))
        batch.add_column(sa.Column("config_pushed_at", sa.DateTime(timezone=True), nullable=True))
    op.create_table(
        "published_versions",
        sa.Column("component", sa.String(32), nullable=False),
        sa.Column("version", sa.String(64), nullable=False),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("component", name=op.f("pk_published_versions")),
    )


def downgrade() -> None:
    """Drop published_versions and the pushed-config columns."""
    op.drop_table("published_versions")
    with op.batch_alter_table("device_registry") as batch:
        batch.drop_column("config_pushed_at")
        batch.drop_column("config_digest")
