"""The known / undecided / unknown decision for faces, shared by edge and hub.

Two thresholds on the Euclidean distance between dlib encodings: below ``known_below`` the
nearest gallery entry is a match, above ``unknown_above`` nobody in the gallery is, and in
between the system does not guess. The nearest entry is never reported beyond tolerance.
Across several encodings of one person, a quality-weighted vote decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from pydantic import BaseModel, ConfigDict, Field, model_validator

from models.events import FaceDecision, FaceMatch

Vector = npt.NDArray[np.float64]


class FaceThresholds(BaseModel):
    """Distance thresholds; dlib's customary single tolerance is 0.6."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    known_below: float = Field(
        0.45, gt=0, title="Known below", description="A distance under this is a match."
    )
    unknown_above: float = Field(
        0.55, gt=0, title="Unknown above", description="A distance over this is nobody known."
    )

    @model_validator(mode="after")
    def _ordered(self) -> FaceThresholds:
        if self.known_below > self.unknown_above:
            raise ValueError("known_below must not exceed unknown_above")
        return self


def decide(distance: float | None, thresholds: FaceThresholds) -> FaceDecision:
    """Classify one distance; ``None`` (empty gallery) is unknown."""
    if distance is None or distance > thresholds.unknown_above:
        return FaceDecision.UNKNOWN
    if distance < thresholds.known_below:
        return FaceDecision.KNOWN
    return FaceDecision.UNDECIDED


@dataclass(frozen=True)
class Candidate:
    """The nearest gallery entry for one encoding."""

    ref: str | None
    distance: float | None


def nearest(encoding: Sequence[float] | Vector, gallery: Vector, refs: Sequence[str]) -> Candidate:
    """Nearest entry of ``gallery`` (an N x 128 array, row i belongs to ``refs[i]``)."""
    if len(refs) == 0:
        return Candidate(None, None)
    distances = np.linalg.norm(gallery - np.asarray(encoding, dtype=np.float64), axis=1)
    index = int(np.argmin(distances))
    return Candidate(refs[index], float(distances[index]))


def match_one(candidate: Candidate, thresholds: FaceThresholds) -> FaceMatch:
    """The decision for one encoding, naming the resident only when known."""
    decision = decide(candidate.distance, thresholds)
    return FaceMatch(
        decision=decision,
        resident_ref=candidate.ref if decision is FaceDecision.KNOWN else None,
        distance=candidate.distance,
    )


def vote(samples: Sequence[tuple[Candidate, float]], thresholds: FaceThresholds) -> FaceMatch:
    """Combine several (candidate, quality) samples of one person by quality-weighted vote.

    A resident wins only with more than half the total weight of known votes for them;
    unknown wins with more than half the weight; otherwise the result is undecided.
    """
    if not samples:
        return FaceMatch(decision=FaceDecision.NOT_CHECKED)
    weights: dict[str, float] = {}
    best: dict[str, float] = {}
    unknown = 0.0
    total = 0.0
    for candidate, quality in samples:
        weight = max(quality, 1e-6)
        total += weight
        decision = decide(candidate.distance, thresholds)
        if decision is FaceDecision.KNOWN and candidate.ref is not None:
            weights[candidate.ref] = weights.get(candidate.ref, 0.0) + weight
            best[candidate.ref] = min(best.get(candidate.ref, np.inf), candidate.distance or 0.0)
        elif decision is FaceDecision.UNKNOWN:
            unknown += weight
    if weights:
        ref, weight = max(weights.items(), key=lambda item: item[1])
        if weight > total / 2:
            return FaceMatch(decision=FaceDecision.KNOWN, resident_ref=ref, distance=best[ref])
    distances = [c.distance for c, _ in samples if c.distance is not None]
    closest = min(distances) if distances else None
    if unknown > total / 2:
        return FaceMatch(decision=FaceDecision.UNKNOWN, distance=closest)
    return FaceMatch(decision=FaceDecision.UNDECIDED, distance=closest)
