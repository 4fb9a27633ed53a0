"""The resident ledger's tables (台账): grids, workers, sites, addresses, residents, groups.

ID numbers are never stored: a resident carries only ``holder_ref`` (keyed hash) and
``id_masked``. ``grids.leader_worker_id`` has no foreign key so grids and workers can be
imported in either order.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Column,
    Date,
    ForeignKey,
    Index,
    String,
    Table,
)
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import JSONDocument, UTCDateTime

ID = 64
"""Length of identifier columns (models.base.Identifier)."""

worker_grids = Table(
    "worker_grids",
    Base.metadata,
    Column(
        "worker_id",
        String(ID),
        ForeignKey("grid_workers.worker_id", ondelete="CASCADE"),
        primary_key=True,
    ),
    Column(
        "grid_id",
        String(ID),
        ForeignKey("grids.grid_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
"""Which grids a worker handles (many to many)."""

group_members = Table(
    "group_members",
    Base.metadata,
    Column(
        "group_id", String(ID), ForeignKey("groups.group_id", ondelete="CASCADE"), primary_key=True
    ),
    Column(
        "resident_id",
        String(ID),
        ForeignKey("residents.resident_id", ondelete="CASCADE"),
        primary_key=True,
        index=True,
    ),
)
"""Residents belonging to a group (company, market)."""


class GridRow(Base):
    """A grid: the smallest unit a team of grid workers is responsible for."""

    __tablename__ = "grids"

    grid_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    community: Mapped[str] = mapped_column(String(100), default="")
    leader_worker_id: Mapped[str | None] = mapped_column(String(ID))


class GridWorkerRow(Base):
    """A grid worker; ``channels`` is how alerts reach them (e.g. ``{"sms": "..."}``)."""

    __tablename__ = "grid_workers"

    worker_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    phone: Mapped[str] = mapped_column(String(32), default="")
    channels: Mapped[dict[str, Any]] = mapped_column(JSONDocument, default=dict)
    on_duty: Mapped[bool] = mapped_column(Boolean, default=True)


class SiteRow(Base):
    """A place with gates: a compound, a checkpoint or a kiosk."""

    __tablename__ = "sites"

    site_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(16))
    grid_id: Mapped[str | None] = mapped_column(ForeignKey("grids.grid_id"), index=True)

    __table_args__ = (CheckConstraint("kind IN ('compound', 'checkpoint', 'kiosk')", "kind"),)


class GateRow(Base):
    """One gate (lane, turnstile) of a site."""

    __tablename__ = "gates"

    gate_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    site_id: Mapped[str] = mapped_column(
        ForeignKey("sites.site_id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100), default="")
    direction: Mapped[str] = mapped_column(String(16))


class AddressRow(Base):
    """A standard address: the code on its QR door plate, and where it is."""

    __tablename__ = "addresses"

    address_code: Mapped[str] = mapped_column(String(ID), primary_key=True)
    street: Mapped[str] = mapped_column(String(100))
    number: Mapped[str] = mapped_column(String(20))
    building: Mapped[str] = mapped_column(String(20), default="")
    unit: Mapped[str] = mapped_column(String(20), default="")
    room: Mapped[str] = mapped_column(String(20), default="")
    grid_id: Mapped[str] = mapped_column(ForeignKey("grids.grid_id"), index=True)
    plate_printed_at: Mapped[datetime | None] = mapped_column(UTCDateTime, default=None)
    """When its QR door plate was last printed (`gridgate-hub codes plates`)."""

    __table_args__ = (Index(None, "street", "number", "building", "unit", "room"),)


class HouseholdRow(Base):
    """Whether anyone lives at an address."""

    __tablename__ = "households"

    address_code: Mapped[str] = mapped_column(
        ForeignKey("addresses.address_code", ondelete="CASCADE"), primary_key=True
    )
    state: Mapped[str] = mapped_column(String(16))

    __table_args__ = (CheckConstraint("state IN ('occupied', 'vacant', 'unknown')", "state"),)


class ResidentRow(Base):
    """A person in the ledger, identified by the keyed hash of their ID number."""

    __tablename__ = "residents"

    resident_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    holder_ref: Mapped[str] = mapped_column(String(128), unique=True, index=True)
    id_masked: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(100))  # no index: never searched (0019)
    phone: Mapped[str] = mapped_column(String(32), default="")
    address_code: Mapped[str | None] = mapped_column(
        ForeignKey("addresses.address_code"), index=True
    )
    role: Mapped[str] = mapped_column(String(16))
    quarantine_until: Mapped[date | None] = mapped_column(Date)
    key_area_returnee: Mapped[bool] = mapped_column(Boolean, default=False)
    code_colour: Mapped[str | None] = mapped_column(String(16))
    last_test_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    face_enrolled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("role IN ('resident', 'tenant', 'worker')", "role"),
        CheckConstraint("code_colour IN ('green', 'yellow', 'red')", "code_colour"),
    )


class VehiclePlateRow(Base):
    """A vehicle plate registered to a resident."""

    __tablename__ = "vehicle_plates"

    plate: Mapped[str] = mapped_column(String(16), primary_key=True)
    resident_id: Mapped[str] = mapped_column(
        ForeignKey("residents.resident_id", ondelete="CASCADE"), index=True
    )


class GroupRow(Base):
    """A company or market whose admin watches its members' codes."""

    __tablename__ = "groups"

    group_id: Mapped[str] = mapped_column(String(ID), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    admin_resident_id: Mapped[str | None] = mapped_column(
        ForeignKey("residents.resident_id", ondelete="SET NULL")
    )
