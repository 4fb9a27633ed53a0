"""The two-threshold face decision and the quality-weighted vote."""

from __future__ import annotations

import numpy as np
import pytest
from pydantic import ValidationError

from models.events import FaceDecision
from models.face_match import Candidate, FaceThresholds, decide, match_one, nearest, vote

T = FaceThresholds(known_below=0.45, unknown_above=0.55)


@pytest.mark.parametrize(
    ("distance", "expected"),
    [
        (0.0, FaceDecision.KNOWN),
        (0.449, FaceDecision.KNOWN),
        (0.45, FaceDecision.UNDECIDED),
        (0.5, FaceDecision.UNDECIDED),
        (0.55, FaceDecision.UNDECIDED),
        (0.551, FaceDecision.UNKNOWN),
        (1.2, FaceDecision.UNKNOWN),
        (None, FaceDecision.UNKNOWN),
    ],
)
def test_decide_uses_two_thresholds(distance: float | None, expected: FaceDecision) -> None:
    assert decide(distance, T) is expected


def test_thresholds_must_be_ordered() -> None:
    with pytest.raises(ValidationError):
        FaceThresholds(known_below=0.6, unknown_above=0.5)


def test_nearest_beyond_tolerance_is_never_named() -> None:
    gallery = np.zeros((3, 128))
    gallery[1, 0] = 0.1
    probe = np.zeros(128)
    probe[0] = 0.9  # 0.8 from row 1, the nearest
    candidate = nearest(probe, gallery, ["a", "b", "c"])
    assert candidate.ref == "b"
    result = match_one(candidate, T)
    assert result.decision is FaceDecision.UNKNOWN
    assert result.resident_ref is None
    assert result.distance == pytest.approx(0.8)


def test_nearest_within_tolerance_is_named() -> None:
    gallery = np.eye(4, 128)
    probe = gallery[2] + 0.01
    result = match_one(nearest(probe, gallery, ["a", "b", "c", "d"]), T)
    assert (result.decision, result.resident_ref) == (FaceDecision.KNOWN, "c")


def test_empty_gallery_is_unknown() -> None:
    assert match_one(nearest(np.zeros(128), np.zeros((0, 128)), []), T).decision is (
        FaceDecision.UNKNOWN
    )


def test_vote_weighs_quality() -> None:
    good = (Candidate("alice", 0.3), 0.9)
    blurry_wrong = (Candidate("bob", 0.4), 0.2)
    result = vote([good, blurry_wrong], T)
    assert (result.decision, result.resident_ref) == (FaceDecision.KNOWN, "alice")


def test_vote_without_majority_is_undecided() -> None:
    result = vote([(Candidate("alice", 0.3), 0.5), (Candidate("bob", 0.3), 0.5)], T)
    assert result.decision is FaceDecision.UNDECIDED
    assert result.resident_ref is None


def test_vote_of_strangers_is_unknown() -> None:
    result = vote([(Candidate("alice", 0.7), 0.8), (Candidate("alice", 0.5), 0.1)], T)
    assert result.decision is FaceDecision.UNKNOWN
    assert result.resident_ref is None


def test_no_samples_is_not_checked() -> None:
    assert vote([], T).decision is FaceDecision.NOT_CHECKED
