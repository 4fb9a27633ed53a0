"""Builders of valid wire messages for tests."""

from __future__ import annotations

import random
from datetime import timedelta

from models import (
    CodeColour,
    Direction,
    DoorPlateObservation,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    Observation,
    PassageEvent,
    VerificationStatus,
)
from models.base import new_id, utc_now


def encoding(seed: int = 0) -> list[float]:
    """A deterministic 128-d vector in dlib's value range."""
    rng = random.Random(seed)
    return [rng.uniform(-0.3, 0.3) for _ in range(128)]


def passage_event(
    device_id: str = "gate-01", site_id: str = "site-a", *, faces: int = 1, seq: int = 0
) -> PassageEvent:
    """A passage with ``faces`` faces, a green code and a door plate."""
    now = utc_now()
    observations: list[FaceObservation | HealthCodeObservation | DoorPlateObservation] = [
        FaceObservation(
            track_id=seq * 10 + i, encoding=encoding(seq * 10 + i), quality=0.8, seen_at=now
        )
        for i in range(faces)
    ]
    observations.append(
        HealthCodeObservation(
            format=HealthCodeFormat.GRIDGATE,
            status=VerificationStatus.VALID,
            colour=CodeColour.GREEN,
            holder_ref="h1:abcdefghijklmnop",
            expires_at=now + timedelta(hours=24),
            seen_at=now,
        )
    )
    observations.append(DoorPlateObservation(address_code="310101001001", seen_at=now))
    return PassageEvent(
        event_id=new_id(),
        device_id=device_id,
        site_id=site_id,
        gate_id="north",
        direction=Direction.ENTRY,
        occurred_at=now,
        observations=observations,
        decision=GateDecision(action=GateAction.OPEN, reasons=["green_code"]),
    )


def passage_of(
    *observations: Observation,
    site_id: str = "site-a",
    gate_id: str = "north",
    direction: Direction = Direction.ENTRY,
    action: GateAction = GateAction.HOLD,
) -> PassageEvent:
    """A passage at gate-01 carrying exactly ``observations``, decided ``action``."""
    return PassageEvent(
        event_id=new_id(),
        device_id="gate-01",
        site_id=site_id,
        gate_id=gate_id,
        direction=direction,
        occurred_at=utc_now(),
        observations=list(observations),
        decision=GateDecision(action=action),
    )
