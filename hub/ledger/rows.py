"""One row of an import file per kind, validated: what a ledger cell may hold and mean."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationInfo
from pydantic.functional_validators import field_validator

from hub.ledger import parse
from hub.ledger.idnumber import validate_id_number
from models.base import Identifier
from models.events import CodeColour, Direction
from models.ledger import HouseholdState, ResidentRole

ADDRESS_CODE = r"^[0-9A-Za-z_-]{4,64}$"
PHONE = r"^[0-9+()\- ]*$"
NAME_MAX = 100
"""Longest name, street or community."""
PHONE_MAX = 32
PLACE_MAX = 20
"""Longest house number, building, unit or room."""
PLATE_LENGTHS = range(5, 13)
"""Lengths a vehicle plate may have."""

AddressCode = Annotated[
    str,
    Field(
        pattern=ADDRESS_CODE,
        title="Address code",
        description="The code on the address's QR door plate (4–64 letters, digits, _ or -).",
    ),
]
Name = Annotated[
    str, Field(min_length=1, max_length=NAME_MAX, title="Name", description="Full name.")
]
Phone = Annotated[
    str,
    Field(
        "",
        max_length=PHONE_MAX,
        pattern=PHONE,
        title="Phone",
        description="Phone number: digits, '+', '-', spaces, parentheses.",
    ),
]
Place = Annotated[str, Field("", max_length=PLACE_MAX, description="Building, unit or room.")]


class RowModel(BaseModel):
    """A validated file row: unknown fields refused, text stripped."""

    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class AddressFields(RowModel):
    """Where an address is; shared by address rows and flat resident rows."""

    street: str = Field(
        "", max_length=NAME_MAX, title="Street", description="Street or lane (路/街/里/弄)."
    )
    number: str = Field("", max_length=PLACE_MAX, title="Number", description="House number (号).")
    building: Place = Field("", title="Building", description="Building (栋/幢).")
    unit: Place = Field("", title="Unit", description="Unit (单元).")
    room: Place = Field("", title="Room", description="Room (室).")


class ResidentIn(AddressFields):
    """A resident row: the ID number is hashed and masked before anything is stored."""

    id_number: Annotated[str, AfterValidator(validate_id_number)] = Field(
        title="ID number", description="18-character resident ID number (身份证号)."
    )
    name: Name
    phone: Phone
    address_code: AddressCode | None = Field(None, title="Address code")
    grid_id: Identifier | None = Field(
        None, title="Grid", description="Grid of the address (checked against the grids)."
    )
    role: Annotated[ResidentRole, BeforeValidator(parse.role)] = Field(
        ResidentRole.RESIDENT, title="Role", description="resident, tenant or worker."
    )
    quarantine_until: Annotated[date | None, BeforeValidator(parse.a_date)] = Field(
        None, title="Quarantine until", description="Last day of home quarantine."
    )
    key_area_returnee: Annotated[bool, BeforeValidator(parse.boolean)] = Field(
        False, title="Key-area returnee", description="Returned from a key area (是/否)."
    )
    code_colour: Annotated[CodeColour | None, BeforeValidator(parse.colour)] = Field(
        None, title="Code colour", description="Health-code colour (绿/黄/红)."
    )
    last_test_at: datetime | None = Field(
        None, title="Last test", description="Last negative test; naive times in the file's zone."
    )
    plates: Annotated[list[str], BeforeValidator(parse.plates)] = Field(
        default_factory=list,
        title="Vehicle plates",
        description="Plates registered to the resident, separated by ; or 、.",
    )

    @field_validator("last_test_at", mode="before")
    @classmethod
    def _aware(cls, value: Any, info: ValidationInfo) -> Any:
        tz = info.context.get("tz", parse.CHINA_TZ) if isinstance(info.context, dict) else None
        return parse.a_datetime(value, tz if isinstance(tz, timezone) else parse.CHINA_TZ)

    @field_validator("plates")
    @classmethod
    def _plate_lengths(cls, value: list[str]) -> list[str]:
        for plate in value:
            if len(plate) not in PLATE_LENGTHS:
                raise ValueError(f"not a vehicle plate: {plate!r}")
        return value


class AddressIn(AddressFields):
    """An address row."""

    address_code: AddressCode
    street: str = Field(
        min_length=1, max_length=100, title="Street", description="Street or lane (路/街/里/弄)."
    )
    grid_id: Identifier = Field(title="Grid", description="The grid the address belongs to.")
    household: Annotated[HouseholdState | None, BeforeValidator(parse.household)] = Field(
        None, title="Household", description="occupied, vacant or unknown (已住/空置/未知)."
    )


class GridIn(RowModel):
    """A grid row."""

    grid_id: Identifier = Field(title="Grid id")
    name: Name
    community: str = Field("", max_length=100, title="Community", description="社区.")
    leader_worker_id: Identifier | None = Field(
        None, title="Leader", description="Worker id of the grid leader (网格长)."
    )


class WorkerIn(RowModel):
    """A grid-worker row."""

    worker_id: Identifier = Field(title="Worker id")
    name: Name
    phone: Phone
    grid_ids: Annotated[list[Identifier], BeforeValidator(parse.items)] = Field(
        default_factory=list, title="Grids", description="Grids the worker handles."
    )
    channels: Annotated[dict[str, str], BeforeValidator(parse.channels)] = Field(
        default_factory=dict,
        title="Channels",
        description="How alerts reach the worker: ``sms:138...; email:a@b.cn``.",
    )
    on_duty: Annotated[bool, BeforeValidator(parse.boolean)] = Field(
        True, title="On duty", description="Whether alerts go to the worker now (在岗)."
    )


class SiteIn(RowModel):
    """A site row: a compound, checkpoint or kiosk."""

    site_id: Identifier = Field(title="Site id")
    name: Name
    kind: Annotated[str, BeforeValidator(parse.site_kind)] = Field(
        pattern=r"^(compound|checkpoint|kiosk)$",
        title="Kind",
        description="compound, checkpoint or kiosk (小区/卡口/自助机).",
    )
    grid_id: Identifier | None = Field(None, title="Grid", description="The site's grid.")


class GateIn(RowModel):
    """A gate of a site."""

    gate_id: Identifier = Field(title="Gate id")
    site_id: Identifier = Field(title="Site id")
    name: str = Field("", max_length=100, title="Name", description="Gate name.")
    direction: Annotated[Direction, BeforeValidator(parse.direction)] = Field(
        title="Direction", description="entry or exit (进/出)."
    )
