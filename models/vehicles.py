"""Checkpoint vehicle mode: one vehicle and its occupants, checked at a motorway exit.

"No car missed, no person missed" (不漏一车、不漏一人): staff open a vehicle by its plate,
check every occupant's health code (and optionally their ID), and close it. The whole vehicle
travels as one :class:`~models.events.PassageEvent` whose ``vehicle`` field is set, through
the same outbox and hub acknowledgement as any passage.

Plates follow GA 36-2018 for civil vehicles: a province abbreviation, the issuing office's
letter, then five characters (seven in all), or six for new-energy vehicles (eight in all).
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from models.base import Identifier, Timestamp, WireModel
from models.observations import HealthCodeObservation

MAX_OCCUPANTS = 64
"""A coach at a checkpoint; 64 occupants with their codes stay far below the payload cap."""

PROVINCES = "京津沪渝冀豫云辽黑湘皖鲁新苏浙赣鄂桂甘晋蒙陕吉闽贵粤青藏川宁琼"
"""Province abbreviations that open a civil plate."""

_OFFICE = "[A-HJ-NP-Z]"  # issuing office letter; I and O are never used
_SERIAL = "[A-HJ-NP-Z0-9]"
_NEV_CLASS = "[DABCEFGHJK]"  # D/A/B/C/E pure electric, F/G/H/J/K other new-energy
_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("new_energy", re.compile(rf"^[{PROVINCES}]{_OFFICE}{_NEV_CLASS}{_SERIAL}[0-9]{{4}}$")),
    ("new_energy", re.compile(rf"^[{PROVINCES}]{_OFFICE}[0-9]{{5}}{_NEV_CLASS}$")),
    ("standard", re.compile(rf"^[{PROVINCES}]{_OFFICE}{_SERIAL}{{5}}$")),
    ("trailer", re.compile(rf"^[{PROVINCES}]{_OFFICE}{_SERIAL}{{4}}挂$")),
    ("coach", re.compile(rf"^[{PROVINCES}]{_OFFICE}{_SERIAL}{{4}}学$")),
    ("police", re.compile(rf"^[{PROVINCES}]{_OFFICE}{_SERIAL}{{4}}警$")),
    ("hong_kong_macao", re.compile(rf"^粤Z{_SERIAL}{{4}}[港澳]$")),
)
_SEPARATORS = re.compile(r"[\s·•.\-_]")


class PlateKind(StrEnum):
    """Which family of plate a number belongs to."""

    STANDARD = "standard"
    NEW_ENERGY = "new_energy"
    TRAILER = "trailer"
    COACH = "coach"
    POLICE = "police"
    HONG_KONG_MACAO = "hong_kong_macao"


@dataclass(frozen=True)
class Plate:
    """A validated plate: its canonical text and its kind."""

    number: str
    kind: PlateKind


class PlateError(ValueError):
    """A plate number that is not a valid Chinese civil plate; the message says why."""


def normalise_plate(text: str) -> str:
    """Canonical form: NFKC (full-width letters to ASCII), upper case, no separators."""
    return _SEPARATORS.sub("", unicodedata.normalize("NFKC", text)).upper()


def parse_plate(text: str) -> Plate:
    """Validate a typed plate (``粤B·D12345``, ``京a 12345``) or raise :class:`PlateError`."""
    number = normalise_plate(text)
    if not number:
        raise PlateError("the plate is empty")
    if number[0] not in PROVINCES:
        raise PlateError(f"{number!r} does not start with a province abbreviation")
    if len(number) not in (7, 8):
        raise PlateError(f"{number!r} has {len(number)} characters; plates have 7, new-energy 8")
    for kind, pattern in _PATTERNS:
        if pattern.match(number):
            return Plate(number, PlateKind(kind))
    if len(number) == 8:
        raise PlateError(
            f"{number!r} is not a new-energy plate (D/A/B/C/E or F/G/H/J/K in 3rd or last place)"
        )
    raise PlateError(f"{number!r} is not a valid plate (letters I and O are never used)")


def _plate_field(value: str) -> str:
    try:
        return parse_plate(value).number
    except PlateError as exc:
        raise ValueError(str(exc)) from None


PlateNumber = Annotated[
    str,
    BeforeValidator(lambda v: v if not isinstance(v, str) else v.strip()),
    Field(min_length=1, max_length=16, description="Licence plate, canonical (粤BD12345)."),
    AfterValidator(_plate_field),
]


class OccupantCheck(WireModel):
    """One person in the vehicle: their health code, ID if scanned, destination and verdict."""

    seat: int = Field(ge=1, le=MAX_OCCUPANTS, title="Seat", description="Order checked, from 1.")
    health_code: HealthCodeObservation | None = Field(
        None, title="Health code", description="The scanned code and its verification result."
    )
    id_ref: str | None = Field(
        None,
        max_length=128,
        title="ID reference",
        description="Keyed hash of the ID number when the ID was scanned, never the number.",
    )
    id_masked: str | None = Field(None, max_length=32, title="ID number, masked")
    destination: str | None = Field(
        None,
        max_length=200,
        title="Destination",
        description="Where the person is going, as they said it (an address in the district).",
    )
    destination_address_code: str | None = Field(
        None,
        pattern=r"^[0-9A-Za-z_-]{4,64}$",
        title="Destination address code",
        description="Standard-address code when the destination was picked from a door plate.",
    )
    passed: bool = Field(title="Passed", description="The site's three-code verdict for them.")
    reasons: list[str] = Field(
        default_factory=list, max_length=16, title="Reasons", description="Why not passed."
    )


class VehicleCheck(WireModel):
    """One vehicle at a checkpoint: its plate, lane and every occupant checked."""

    plate: PlateNumber
    lane: Identifier | None = Field(None, title="Lane")
    opened_at: Timestamp = Field(title="Opened", description="When staff opened the vehicle.")
    occupants: list[OccupantCheck] = Field(
        min_length=1,
        max_length=MAX_OCCUPANTS,
        title="Occupants",
        description="Every person in the vehicle; it passes only when all of them pass.",
    )

    @model_validator(mode="after")
    def _one_person_per_seat(self) -> VehicleCheck:
        seats = [o.seat for o in self.occupants]
        if len(set(seats)) != len(seats):
            raise ValueError("two occupants have the same seat number")
        return self

    @property
    def plate_kind(self) -> PlateKind:
        """The plate's family (standard, new-energy, ...)."""
        return parse_plate(self.plate).kind

    @property
    def passed(self) -> bool:
        """The vehicle passes only when every occupant passes."""
        return all(o.passed for o in self.occupants)
