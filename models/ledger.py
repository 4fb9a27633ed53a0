"""Ledger records as they cross the hub's API (grid-worker apps, exports, imports).

Residents carry only the keyed hash and masked form of their ID number.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum

from pydantic import Field

from models.base import Identifier, Timestamp, WireModel
from models.events import CodeColour


class HouseholdState(StrEnum):
    """Whether anyone lives at an address."""

    OCCUPIED = "occupied"
    VACANT = "vacant"
    UNKNOWN = "unknown"


class ResidentRole(StrEnum):
    """How a person relates to the address."""

    RESIDENT = "resident"
    TENANT = "tenant"
    WORKER = "worker"


class Grid(WireModel):
    """A grid: the smallest unit a team of grid workers is responsible for."""

    grid_id: Identifier
    name: str = Field(max_length=100)
    community: str = Field("", max_length=100)
    leader_worker_id: Identifier | None = None


class GridWorker(WireModel):
    """A person who handles alerts and tasks for one or more grids."""

    worker_id: Identifier
    name: str = Field(max_length=100)
    phone: str = Field("", max_length=32)
    grid_ids: list[Identifier] = Field(default_factory=list)
    on_duty: bool = True


class Address(WireModel):
    """A standard address: the code on its QR door plate, and where it is."""

    address_code: str = Field(pattern=r"^[0-9A-Za-z_-]{4,64}$")
    street: str = Field(max_length=100, description="Street or lane (路/街/里/弄).")
    number: str = Field(max_length=20, description="House number (号).")
    building: str = Field("", max_length=20)
    unit: str = Field("", max_length=20)
    room: str = Field("", max_length=20)
    grid_id: Identifier


class Household(WireModel):
    """The household at an address."""

    address_code: str = Field(pattern=r"^[0-9A-Za-z_-]{4,64}$")
    state: HouseholdState = HouseholdState.UNKNOWN
    resident_count: int = Field(0, ge=0)


class Resident(WireModel):
    """A person in the ledger, without their ID number in clear."""

    resident_id: Identifier
    holder_ref: str = Field(max_length=128, description="Keyed hash of the ID number.")
    id_masked: str = Field(max_length=32)
    name: str = Field(max_length=100)
    phone: str = Field("", max_length=32)
    address_code: str | None = Field(None, pattern=r"^[0-9A-Za-z_-]{4,64}$")
    role: ResidentRole = ResidentRole.RESIDENT
    quarantine_until: date | None = None
    key_area_returnee: bool = False
    code_colour: CodeColour | None = None
    last_test_at: Timestamp | None = None
    face_enrolled: bool = False


class Group(WireModel):
    """A company or market whose admin watches its members' codes."""

    group_id: Identifier
    name: str = Field(max_length=100)
    admin_resident_id: Identifier | None = None
    member_ids: list[Identifier] = Field(default_factory=list)
