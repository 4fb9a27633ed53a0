"""Kiosk self-registrations.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-23
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Create registrations."""
    op.create_table(
        "registrations",
        sa.Column("request_id", sa.Uuid(), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("address_code", sa.String(64), nullable=False),
        sa.Column("address_known", sa.Boolean(), nullable=False),
        sa.Column("grid_id", sa.String(64), nullable=True),
        sa.Column("holder_ref", sa.String(128), nullable=False),
        sa.Column("name_masked", sa.String(32), nullable=False),
        sa.Column("code_colour", sa.String(16), nullable=True),
        sa.Column("sealed_face", sa.LargeBinary(), nullable=True),
        sa.Column("face_quality", sa.Float(), nullable=False),
        sa.Column("consent_version", sa.String(32), nullable=False),
        sa.Column("consent_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("resident_id", sa.String(64), nullable=True),
        sa.Column("decided_by", sa.String(64), nullable=True),
        sa.Column("decided_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("note", sa.String(1000), nullable=False),
        sa.CheckConstraint(
            "state IN ('pending', 'approved', 'rejected')", name=op.f("ck_registrations_state")
        ),
        sa.PrimaryKeyConstraint("request_id", name=op.f("pk_registrations")),
    )
    op.create_index(op.f("ix_registrations_grid_id"), "registrations", ["grid_id"])
    op.create_index(op.f("ix_registrations_holder_ref"), "registrations", ["holder_ref"])
    op.create_index(
        op.f("ix_registrations_state_received_at"), "registrations", ["state", "received_at"]
    )


def downgrade() -> None:
    """Drop registrations."""
    op.drop_table("registrations")
