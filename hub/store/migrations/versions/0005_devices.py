"""Device registry: provisioned edge devices and their broker credentials.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create device_registry."""
    op.create_table(
        "device_registry",
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("credential", sa.String(200), nullable=True),
        sa.Column("cert_serial", sa.String(40), nullable=True),
        sa.Column("cert_fingerprint", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("device_id", name=op.f("pk_device_registry")),
    )
    op.create_index(op.f("ix_device_registry_site_id"), "device_registry", ["site_id"])


def downgrade() -> None:
    """Drop device_registry."""
    op.drop_index(op.f("ix_device_registry_site_id"), table_name="device_registry")
    op.drop_table("device_registry")
