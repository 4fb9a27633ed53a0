"""The checkpoint's settings (``checkpoint:`` in the edge config; absent: not a checkpoint)."""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel, ConfigDict, Field, model_validator

from edge.checkpoint.access import is_loopback
from models.base import Identifier
from models.events import Direction


class CheckpointConfig(BaseModel):
    """The vehicle desk of a highway checkpoint and its local operator page."""

    model_config = ConfigDict(extra="forbid")

    host: str = Field(
        "127.0.0.1",
        title="Listen address",
        description="The operator page; loopback unless handhelds on the checkpoint's own "
        "network must reach it, which requires access_token_file (never expose it further).",
    )
    port: int = Field(8091, ge=0, le=65535, title="Port", description="0 picks a free port.")
    lanes: list[Identifier] = Field(
        default_factory=lambda: ["1"],
        min_length=1,
        max_length=32,
        title="Lanes",
        description="Lane ids staff choose from when opening a vehicle.",
    )
    default_direction: Direction = Field(
        Direction.ENTRY,
        title="Default direction",
        description="Preselected on the page: entry into or exit from the district.",
    )
    require_id: bool = Field(
        False,
        title="Require an ID",
        description="Every occupant's ID number must be scanned or typed to pass.",
    )
    destination_required: bool = Field(
        True,
        title="Destination required",
        description="An occupant without a destination does not pass (destination_missing).",
    )
    identity_key_file: Path | None = Field(
        None,
        title="Identity key file",
        description="The site's identity key (the hub's GRIDGATE_HUB_IDENTITY_KEY, at least 16 "
        "bytes): ID numbers become the ledger's keyed hash and are checked against the "
        "pass holder. Unset: ID numbers are not taken.",
    )
    access_token_file: Path | None = Field(
        None,
        title="Access token file",
        description="A secret of at least 22 URL-safe characters (python3 -c 'import secrets; "
        "print(secrets.token_urlsafe(32))'). Handhelds open the page once through the pairing "
        "link (gridgate-edge checkpoint pairing-qr), which keeps it as an HttpOnly cookie; any "
        "other request gets 401. Required when host is not a loopback address; replace it and "
        "restart to unpair every handheld.",
    )
    max_open_vehicles: int = Field(
        8,
        ge=1,
        le=64,
        title="Open vehicles",
        description="Vehicles that may be open at once (several lanes, several handhelds).",
    )

    @model_validator(mode="after")
    def _consistent(self) -> CheckpointConfig:
        if len(set(self.lanes)) != len(self.lanes):
            raise ValueError("lanes must be unique")
        if self.require_id and self.identity_key_file is None:
            raise ValueError("require_id needs identity_key_file to hash the ID numbers")
        if self.access_token_file is None and not is_loopback(self.host):
            raise ValueError(
                f"host {self.host} is not a loopback address: set access_token_file so that "
                "only handhelds paired with its token can use the page"
            )
        return self
