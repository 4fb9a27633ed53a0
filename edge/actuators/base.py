"""The actuator protocol and its configuration."""

from __future__ import annotations

from typing import Literal, Protocol

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, model_validator

from models.events import GateDecision


class ActuatorConfig(BaseModel):
    """How the gate is driven."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["log", "http", "gpio"] = Field(
        "log",
        title="Kind",
        description="log: record only (default); http: a network relay; gpio: a relay on a pin.",
    )
    url: AnyHttpUrl | None = Field(
        None,
        title="Relay URL",
        description="For kind http: an http(s) URL, POSTed {'action', 'seconds'}.",
    )
    open_seconds: float = Field(
        5.0, gt=0, le=120, title="Open time (s)", description="How long the gate stays open."
    )
    timeout_s: float = Field(2.0, gt=0, title="Relay timeout (s)", description="HTTP timeout.")
    gpio_chip: str = Field(
        "/dev/gpiochip0", title="GPIO chip", description="For kind gpio: the character device."
    )
    gpio_line: int | None = Field(
        None, ge=0, title="GPIO line", description="For kind gpio: the line offset (BCM number)."
    )
    gpio_active_low: bool = Field(
        False, title="Active low", description="For kind gpio: the relay closes on a low level."
    )

    @model_validator(mode="after")
    def _http_needs_a_url(self) -> ActuatorConfig:
        if self.kind == "http" and self.url is None:
            raise ValueError("actuator kind 'http' needs a url")
        return self


class Actuator(Protocol):
    """Carries out a gate decision; failures are reported, never raised."""

    def apply(self, decision: GateDecision) -> bool:
        """Act on ``decision``; False when the hardware could not be driven."""
        ...

    def close(self) -> None:
        """Release the hardware."""
        ...
