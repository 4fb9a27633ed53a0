"""Merges what one gate sees within a short window into one :class:`PassageEvent`."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from edge.passage.config import GatePolicy, PassageConfig
from edge.passage.decide import decide
from models.base import new_id
from models.events import (
    DoorPlateObservation,
    FaceObservation,
    GateDecision,
    HealthCodeObservation,
    Observation,
    PassageEvent,
)

Clock = Callable[[], datetime]


@dataclass
class _OpenPassage:
    started: float
    last_new: float
    occurred_at: datetime
    codes: dict[str, HealthCodeObservation | DoorPlateObservation] = field(default_factory=dict)
    faces: dict[int, FaceObservation] = field(default_factory=dict)
    override: GateDecision | None = None


class PassageAssembler:
    """Collects observations; :meth:`tick` closes passages whose window has passed."""

    def __init__(
        self,
        config: PassageConfig,
        policy: GatePolicy,
        device_id: str,
        site_id: str,
    ) -> None:
        self.config = config
        self.policy = policy
        self.device_id = device_id
        self.site_id = site_id
        self._open: _OpenPassage | None = None

    def _passage(self, now: float, at: datetime) -> _OpenPassage:
        if self._open is None:
            self._open = _OpenPassage(started=now, last_new=now, occurred_at=at)
        return self._open

    def add_code(
        self, key: str, observation: HealthCodeObservation | DoorPlateObservation, now: float
    ) -> None:
        """Add a decoded QR observation; a code already in this passage is not added twice."""
        passage = self._passage(now, observation.seen_at)
        if key not in passage.codes:
            passage.codes[key] = observation
            passage.last_new = now

    def add_face(self, observation: FaceObservation, now: float) -> None:
        """Add or refresh a face track (a better view replaces the earlier one)."""
        passage = self._passage(now, observation.seen_at)
        known = passage.faces.get(observation.track_id)
        if known is None or observation.quality > known.quality:
            passage.faces[observation.track_id] = observation
        if known is None:
            passage.last_new = now

    def override(self, decision: GateDecision, now: float, at: datetime) -> None:
        """An operator's manual decision for the current (or a new) passage."""
        passage = self._passage(now, at)
        passage.override = decision
        passage.last_new = now

    @property
    def is_open(self) -> bool:
        """A passage is being collected."""
        return self._open is not None

    def tick(self, now: float, force: bool = False) -> PassageEvent | None:
        """Close the passage when its window or longest duration has passed (or ``force``)."""
        passage = self._open
        if passage is None:
            return None
        quiet = now - passage.last_new >= self.config.window_s
        too_long = now - passage.started >= self.config.max_duration_s
        if not (quiet or too_long or force):
            return None
        self._open = None
        observations: list[Observation] = [*passage.faces.values(), *passage.codes.values()]
        decision = passage.override or decide(observations, self.policy)
        return PassageEvent(
            event_id=new_id(),
            device_id=self.device_id,
            site_id=self.site_id,
            gate_id=self.config.gate_id,
            direction=self.config.direction,
            occurred_at=passage.occurred_at,
            observations=observations,
            decision=decision,
        )
