"""Resident ledger: grids, workers, sites, gates, addresses, households, residents, groups.

Revision ID: 0002
Revises: 0001
Create Date: 2024-11-24
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

JSON_DOCUMENT = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
TIMESTAMP = sa.DateTime(timezone=True)
ID = 64


def _id(name: str, *, nullable: bool) -> sa.Column[str]:
    return sa.Column(name, sa.String(ID), nullable=nullable)


def _fk(column: str, table: str, ref: str, ondelete: str | None = None) -> sa.ForeignKeyConstraint:
    """A named foreign key from ``table.column`` to ``ref`` (``"table.column"``)."""
    target = ref.split(".")[0]
    return sa.ForeignKeyConstraint(
        [column], [ref], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    """Create the ledger's tables and indexes."""
    op.create_table(
        "grids",
        _id("grid_id", nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("community", sa.String(100), nullable=False),
        _id("leader_worker_id", nullable=True),
        sa.PrimaryKeyConstraint("grid_id", name=op.f("pk_grids")),
    )
    op.create_table(
        "grid_workers",
        _id("worker_id", nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        sa.Column("channels", JSON_DOCUMENT, nullable=False),
        sa.Column("on_duty", sa.Boolean(), nullable=False),
        sa.PrimaryKeyConstraint("worker_id", name=op.f("pk_grid_workers")),
    )
    op.create_table(
        "worker_grids",
        _id("worker_id", nullable=False),
        _id("grid_id", nullable=False),
        _fk("worker_id", "worker_grids", "grid_workers.worker_id", "CASCADE"),
        _fk("grid_id", "worker_grids", "grids.grid_id", "CASCADE"),
        sa.PrimaryKeyConstraint("worker_id", "grid_id", name=op.f("pk_worker_grids")),
    )
    op.create_index(op.f("ix_worker_grids_grid_id"), "worker_grids", ["grid_id"])

    op.create_table(
        "sites",
        _id("site_id", nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        _id("grid_id", nullable=True),
        sa.CheckConstraint(
            "kind IN ('compound', 'checkpoint', 'kiosk')", name=op.f("ck_sites_kind")
        ),
        _fk("grid_id", "sites", "grids.grid_id"),
        sa.PrimaryKeyConstraint("site_id", name=op.f("pk_sites")),
    )
    op.create_index(op.f("ix_sites_grid_id"), "sites", ["grid_id"])
    op.create_table(
        "gates",
        _id("gate_id", nullable=False),
        _id("site_id", nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("direction", sa.String(16), nullable=False),
        _fk("site_id", "gates", "sites.site_id", "CASCADE"),
        sa.PrimaryKeyConstraint("gate_id", name=op.f("pk_gates")),
    )
    op.create_index(op.f("ix_gates_site_id"), "gates", ["site_id"])

    op.create_table(
        "addresses",
        _id("address_code", nullable=False),
        sa.Column("street", sa.String(100), nullable=False),
        sa.Column("number", sa.String(20), nullable=False),
        sa.Column("building", sa.String(20), nullable=False),
        sa.Column("unit", sa.String(20), nullable=False),
        sa.Column("room", sa.String(20), nullable=False),
        _id("grid_id", nullable=False),
        _fk("grid_id", "addresses", "grids.grid_id"),
        sa.PrimaryKeyConstraint("address_code", name=op.f("pk_addresses")),
    )
    op.create_index(op.f("ix_addresses_grid_id"), "addresses", ["grid_id"])
    op.create_index(
        op.f("ix_addresses_street_number_building_unit_room"),
        "addresses",
        ["street", "number", "building", "unit", "room"],
    )
    op.create_table(
        "households",
        _id("address_code", nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.CheckConstraint(
            "state IN ('occupied', 'vacant', 'unknown')", name=op.f("ck_households_state")
        ),
        _fk("address_code", "households", "addresses.address_code", "CASCADE"),
        sa.PrimaryKeyConstraint("address_code", name=op.f("pk_households")),
    )

    op.create_table(
        "residents",
        _id("resident_id", nullable=False),
        sa.Column("holder_ref", sa.String(128), nullable=False),
        sa.Column("id_masked", sa.String(32), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("phone", sa.String(32), nullable=False),
        _id("address_code", nullable=True),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("quarantine_until", sa.Date(), nullable=True),
        sa.Column("key_area_returnee", sa.Boolean(), nullable=False),
        sa.Column("code_colour", sa.String(16), nullable=True),
        sa.Column("last_test_at", TIMESTAMP, nullable=True),
        sa.Column("face_enrolled", sa.Boolean(), nullable=False),
        sa.Column("created_at", TIMESTAMP, nullable=False),
        sa.Column("updated_at", TIMESTAMP, nullable=False),
        sa.CheckConstraint(
            "role IN ('resident', 'tenant', 'worker')", name=op.f("ck_residents_role")
        ),
        sa.CheckConstraint(
            "code_colour IN ('green', 'yellow', 'red')", name=op.f("ck_residents_code_colour")
        ),
        _fk("address_code", "residents", "addresses.address_code"),
        sa.PrimaryKeyConstraint("resident_id", name=op.f("pk_residents")),
    )
    op.create_index(op.f("ix_residents_holder_ref"), "residents", ["holder_ref"], unique=True)
    op.create_index(op.f("ix_residents_name"), "residents", ["name"])
    op.create_index(op.f("ix_residents_address_code"), "residents", ["address_code"])

    op.create_table(
        "vehicle_plates",
        sa.Column("plate", sa.String(16), nullable=False),
        _id("resident_id", nullable=False),
        _fk("resident_id", "vehicle_plates", "residents.resident_id", "CASCADE"),
        sa.PrimaryKeyConstraint("plate", name=op.f("pk_vehicle_plates")),
    )
    op.create_index(op.f("ix_vehicle_plates_resident_id"), "vehicle_plates", ["resident_id"])

    op.create_table(
        "groups",
        _id("group_id", nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        _id("admin_resident_id", nullable=True),
        sa.ForeignKeyConstraint(
            ["admin_resident_id"],
            ["residents.resident_id"],
            name=op.f("fk_groups_admin_resident_id_residents"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("group_id", name=op.f("pk_groups")),
    )
    op.create_table(
        "group_members",
        _id("group_id", nullable=False),
        _id("resident_id", nullable=False),
        _fk("group_id", "group_members", "groups.group_id", "CASCADE"),
        _fk("resident_id", "group_members", "residents.resident_id", "CASCADE"),
        sa.PrimaryKeyConstraint("group_id", "resident_id", name=op.f("pk_group_members")),
    )
    op.create_index(op.f("ix_group_members_resident_id"), "group_members", ["resident_id"])


def downgrade() -> None:
    """Drop the ledger's tables, dependants first."""
    for table in (
        "group_members",
        "groups",
        "vehicle_plates",
        "residents",
        "households",
        "addresses",
        "gates",
        "sites",
        "worker_grids",
        "grid_workers",
        "grids",
    ):
        op.drop_table(table)
