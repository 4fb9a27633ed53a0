"""Configuration of the passage window and the local gate policy."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

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
