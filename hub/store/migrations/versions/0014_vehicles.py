"""Checkpoint vehicles and their occupants.

Revision ID: 0014
Revises: 0013
Create Date: 2026-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")


def upgrade() -> None:
    """Create vehicles and vehicle_occupants."""
    op.create_table(
        "vehicles",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("site_id", sa.String(64), nullable=False),
        sa.Column("gate_id", sa.String(64), nullable=False),
        sa.Column("device_id", sa.String(64), nullable=False),
        sa.Column("lane", sa.String(64), nullable=True),
        sa.Column("plate", sa.String(16), nullable=False),
        sa.Column("plate_kind", sa.String(16), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reasons", JSON_DOCUMENT, nullable=False),
        sa.Column("occupant_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["events.event_id"],
            name=op.f("fk_vehicles_event_id_events"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_vehicles")),
    )
    op.create_index(op.f("ix_vehicles_occurred_at"), "vehicles", ["occurred_at"])
    op.create_index(op.f("ix_vehicles_plate_occurred_at"), "vehicles", ["plate", "occurred_at"])
    op.create_index(op.f("ix_vehicles_site_id_occurred_at"), "vehicles", ["site_id", "occurred_at"])
    op.create_table(
        "vehicle_occupants",
        sa.Column("event_id", sa.Uuid(), nullable=False),
        sa.Column("position", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seat", sa.Integer(), nullable=False),
        sa.Column("holder_ref", sa.String(128), nullable=True),
        sa.Column("id_ref", sa.String(128), nullable=True),
        sa.Column("id_masked", sa.String(32), nullable=True),
        sa.Column("colour", sa.String(16), nullable=True),
        sa.Column("status", sa.String(16), nullable=True),
        sa.Column("reason_codes", JSON_DOCUMENT, nullable=False),
        sa.Column("destination", sa.String(200), nullable=True),
        sa.Column("destination_code", sa.String(64), nullable=True),
        sa.Column("address_code", sa.String(64), nullable=True),
        sa.Column("grid_id", sa.String(64), nullable=True),
        sa.Column("resident_id", sa.String(64), nullable=True),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("reasons", JSON_DOCUMENT, nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["vehicles.event_id"],
            name=op.f("fk_vehicle_occupants_event_id_vehicles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("event_id", "position", name=op.f("pk_vehicle_occupants")),
    )
    op.create_index(op.f("ix_vehicle_occupants_grid_id"), "vehicle_occupants", ["grid_id"])


def downgrade() -> None:
    """Drop vehicle_occupants and vehicles."""
    op.drop_table("vehicle_occupants")
    op.drop_table("vehicles")
