"""Configuration of the passage window and the local gate policy."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.base import Identifier
from models.events import Direction


class PassageConfig(BaseModel):
    """How observations are merged into passages at one gate."""

    model_config = ConfigDict(extra="forbid")

    gate_id: Identifier = Field("main", title="Gate id", description="This camera's gate.")
    direction: Direction = Field(
        Direction.ENTRY, title="Direction", description="Passages through this gate go this way."
    )
    window_s: float = Field(
        3.0,
        gt=0,
        title="Passage window",
        description="A passage closes this long after its last new observation.",
    )
    max_duration_s: float = Field(
        15.0, gt=0, title="Longest passage", description="A passage closes after this at most."
    )


AddressPrefix = Annotated[str, Field(pattern=r"^[0-9A-Za-z_-]{1,64}$")]


class DoorPlatePolicy(BaseModel):
    """Whether a door plate of this compound is a way in (for people without face or pass)."""

    model_config = ConfigDict(extra="forbid")

    opens: bool = Field(
        False,
        title="A plate of this site opens",
        description="A door plate whose address code starts with one of the prefixes opens the "
        "gate, unless a code or face says otherwise. Off: plates are recorded, never decide.",
    )
    address_prefixes: list[AddressPrefix] = Field(
        default_factory=list,
        max_length=64,
        title="Address prefixes of this site",
        description="Standard-address code prefixes of the compound's households (e.g. "
        "'310101001'); a plate of another compound holds for a human.",
    )
    open_despite_unknown_face: bool = Field(
        False,
        title="Open despite an unknown face",
        description="Residents who declined face enrolment are 'unknown' to the gallery: with "
        "this on, their own plate still opens while faces are in use; off, they are held.",
    )

    @model_validator(mode="after")
    def _prefixes_when_open(self) -> DoorPlatePolicy:
        if self.opens and not self.address_prefixes:
            raise ValueError("door_plate.opens needs at least one address prefix")
        return self

    def of_site(self, address_code: str) -> bool:
        """The plate belongs to one of this site's addresses."""
        return address_code.startswith(tuple(self.address_prefixes))


class GatePolicy(BaseModel):
    """What opens the gate without a human: every path must also work without faces."""

    model_config = ConfigDict(extra="forbid")

    open_on_known_face: bool = Field(
        True, title="Open on a known face", description="A gallery match opens the gate."
    )
    open_on_green_code: bool = Field(
        True, title="Open on a valid green code", description="A verified green pass opens it."
    )
    bind_pass_to_face: bool = Field(
        False,
        title="Bind the pass to the face",
        description="Where faces are enrolled: a known face showing a pass whose holder is "
        "someone else (a screenshot of another person's pass) is refused as holder_mismatch.",
    )
    require_liveness: bool = Field(
        False,
        title="Require liveness",
        description="A known face opens only when the blink hint was checked and passed.",
    )
    deny_on_red_code: bool = Field(
        True, title="Deny on a red code", description="A red code denies the passage."
    )
    deny_on_invalid_pass: bool = Field(
        True, title="Deny on an invalid pass", description="A forged or expired pass denies it."
    )
    door_plate: DoorPlatePolicy = Field(
        default_factory=DoorPlatePolicy,
        title="Door plates",
        description="A door plate of this compound as a way in without face or pass.",
    )
