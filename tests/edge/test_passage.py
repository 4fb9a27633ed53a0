"""Passage assembly and the local gate decision."""

from __future__ import annotations

from datetime import timedelta

import pytest
from pydantic import ValidationError

from edge.passage.assembler import PassageAssembler
from edge.passage.config import GatePolicy, PassageConfig
from edge.passage.decide import decide
from models import decode, encode
from models.base import utc_now
from models.events import (
    CodeColour,
    DoorPlateObservation,
    FaceDecision,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    Liveness,
    PassageEvent,
    VerificationStatus,
)
from models.events import FaceMatch as Match
from models.identity import resident_id_for
from tests.support.factories import encoding


def _code(
    colour: CodeColour | None = CodeColour.GREEN,
    status: VerificationStatus = VerificationStatus.VALID,
) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=status,
        colour=colour,
        seen_at=utc_now(),
        expires_at=utc_now() + timedelta(hours=1),
    )


def _face(
    track: int, decision: FaceDecision, quality: float = 0.6, blink: bool | None = None
) -> FaceObservation:
    return FaceObservation(
        track_id=track,
        encoding=encoding(track),
        quality=quality,
        seen_at=utc_now(),
        local_match=Match(
            decision=decision, resident_ref="r-1" if decision is FaceDecision.KNOWN else None
        ),
        liveness=Liveness(checked=blink is not None, passed=blink),
    )


def _assembler(**policy: bool) -> PassageAssembler:
    return PassageAssembler(
        PassageConfig(gate_id="north", window_s=3.0, max_duration_s=10.0),
        GatePolicy(**policy),
        device_id="gate-01",
        site_id="site-a",
    )


def test_observations_within_the_window_merge_into_one_event() -> None:
    assembler = _assembler()
    assembler.add_face(_face(1, FaceDecision.KNOWN), now=0.0)
    assembler.add_code("GGHC1:x", _code(), now=1.0)
    assembler.add_code("GGHC1:x", _code(), now=2.0)  # the same code in later frames
    assembler.add_code(
        "GGDP1:310101", DoorPlateObservation(address_code="310101", seen_at=utc_now()), now=2.5
    )
    assert assembler.tick(now=3.0) is None  # 2 s after the last new observation
    event = assembler.tick(now=5.6)
    assert event is not None
    assert len(event.faces()) == 1
    assert len(event.health_codes()) == 1
    assert len(event.door_plates()) == 1
    assert event.gate_id == "north"
    assert event.decision.action is GateAction.OPEN
    assert decode(PassageEvent, encode(event)) == event
    assert assembler.tick(now=100.0) is None


def test_a_long_stream_of_new_things_is_cut_at_the_longest_duration() -> None:
    assembler = _assembler()
    events = []
    for step in range(25):
        assembler.add_face(_face(step, FaceDecision.UNKNOWN), now=step * 1.0)
        closed = assembler.tick(now=step * 1.0)
        if closed:
            events.append(closed)
    assert len(events) == 2
    assert all(len(e.faces()) == 11 for e in events)


def test_a_better_view_of_the_same_track_replaces_the_earlier_one() -> None:
    assembler = _assembler()
    assembler.add_face(_face(4, FaceDecision.UNDECIDED, quality=0.3), now=0.0)
    assembler.add_face(_face(4, FaceDecision.KNOWN, quality=0.9), now=0.5)
    event = assembler.tick(now=10.0)
    assert event is not None
    (face,) = event.faces()
    assert face.quality == 0.9


@pytest.mark.parametrize(
    ("observations", "action", "reason"),
    [
        ([_code()], GateAction.OPEN, "green_code"),
        ([_code(CodeColour.RED)], GateAction.DENY, "red_code"),
        ([_code(CodeColour.YELLOW)], GateAction.HOLD, "yellow_code"),
        ([_code(None, VerificationStatus.INVALID)], GateAction.DENY, "invalid_pass"),
        ([_code(None, VerificationStatus.UNVERIFIED)], GateAction.HOLD, "code_unverified"),
        ([_face(1, FaceDecision.KNOWN)], GateAction.OPEN, "known_face"),
        ([_face(1, FaceDecision.UNKNOWN)], GateAction.HOLD, "unknown_face"),
        ([_face(1, FaceDecision.KNOWN), _code(CodeColour.RED)], GateAction.DENY, "red_code"),
        ([], GateAction.HOLD, "nothing_verified"),
    ],
)
def test_local_decision(
    observations: list[FaceObservation | HealthCodeObservation],
    action: GateAction,
    reason: str,
) -> None:
    decision = decide(observations, GatePolicy())
    assert decision.action is action
    assert reason in decision.reasons


def test_liveness_can_be_required_for_faces() -> None:
    policy = GatePolicy(require_liveness=True)
    assert decide([_face(1, FaceDecision.KNOWN, blink=False)], policy).action is GateAction.HOLD
    assert decide([_face(1, FaceDecision.KNOWN, blink=True)], policy).action is GateAction.OPEN


def test_gates_work_without_faces_and_by_manual_override() -> None:
    assembler = _assembler(open_on_known_face=False)
    assembler.add_face(_face(1, FaceDecision.KNOWN), now=0.0)
    event = assembler.tick(now=5.0)
    assert event is not None and event.decision.action is GateAction.HOLD
    assembler.override(
        GateDecision(action=GateAction.OPEN, reasons=["manual"], operator_id="op-3"),
        now=6.0,
        at=utc_now(),
    )
    event = assembler.tick(now=6.0, force=True)
    assert event is not None
    assert event.decision.operator_id == "op-3"
    assert event.observations == []


def _holders_pass(holder_ref: str) -> HealthCodeObservation:
    return _code().model_copy(update={"holder_ref": holder_ref})


def _known(resident_ref: str) -> FaceObservation:
    face = _face(1, FaceDecision.KNOWN)
    return face.model_copy(
        update={"local_match": Match(decision=FaceDecision.KNOWN, resident_ref=resident_ref)}
    )


def test_a_pass_bound_to_the_face_refuses_someone_elses_pass() -> None:
    mine, theirs = "h1:" + "a" * 32, "h1:" + "b" * 32
    me = resident_id_for(mine)
    bound = GatePolicy(bind_pass_to_face=True)
    screenshot = decide([_known(me), _holders_pass(theirs)], bound)
    assert screenshot.action is GateAction.DENY and "holder_mismatch" in screenshot.reasons
    held = decide(
        [_known(me), _holders_pass(theirs)],
        GatePolicy(bind_pass_to_face=True, deny_on_invalid_pass=False),
    )
    assert held.action is GateAction.HOLD and "holder_mismatch" in held.reasons
    own = decide([_known(me), _holders_pass(mine)], bound)
    assert own.action is GateAction.OPEN and "holder_mismatch" not in own.reasons
    no_face = decide([_holders_pass(theirs)], bound)  # nothing to bind to: the pass decides
    assert no_face.action is GateAction.OPEN
    unbound = decide([_known(me), _holders_pass(theirs)], GatePolicy())
    assert unbound.action is GateAction.OPEN


# --- door plates: a way in without face or pass -------------------------------------------

SITE_PREFIX = "310101001"


def _plate(address_code: str = SITE_PREFIX + "017") -> DoorPlateObservation:
    return DoorPlateObservation(address_code=address_code, seen_at=utc_now())


def _plates(**door_plate: object) -> GatePolicy:
    return GatePolicy.model_validate(
        {"door_plate": {"opens": True, "address_prefixes": [SITE_PREFIX], **door_plate}}
    )


def test_a_plate_alone_decides_nothing_by_default() -> None:
    decision = decide([_plate()], GatePolicy())
    assert (decision.action, decision.reasons) == (GateAction.HOLD, ["nothing_verified"])


def test_a_plate_of_the_site_opens_and_one_of_another_compound_holds() -> None:
    opened = decide([_plate()], _plates())
    assert (opened.action, opened.reasons) == (GateAction.OPEN, ["door_plate_of_site"])
    other = decide([_plate("320202002017")], _plates())
    assert (other.action, other.reasons) == (GateAction.HOLD, ["door_plate_of_other_site"])
    one_of_two = decide([_plate("320202002017"), _plate()], _plates())
    assert one_of_two.action is GateAction.OPEN


@pytest.mark.parametrize(
    ("other", "action", "reason"),
    [
        (_code(CodeColour.RED), GateAction.DENY, "red_code"),
        (_code(None, VerificationStatus.INVALID), GateAction.DENY, "invalid_pass"),
        (_code(CodeColour.YELLOW), GateAction.HOLD, "yellow_code"),
        (_face(1, FaceDecision.UNKNOWN), GateAction.HOLD, "unknown_face"),
    ],
)
def test_evidence_against_the_person_beats_their_plate(
    other: FaceObservation | HealthCodeObservation, action: GateAction, reason: str
) -> None:
    decision = decide([_plate(), other], _plates())
    assert (decision.action, decision.reasons) == (action, [reason])


def test_a_red_code_holds_a_plate_even_where_red_codes_do_not_deny() -> None:
    policy = _plates().model_copy(update={"deny_on_red_code": False})
    decision = decide([_plate(), _code(CodeColour.RED)], policy)
    assert (decision.action, decision.reasons) == (GateAction.HOLD, ["red_code"])


def test_a_resident_without_face_enrolment_can_be_let_in_by_their_plate() -> None:
    unenrolled = _face(1, FaceDecision.UNKNOWN)
    lenient = decide([_plate(), unenrolled], _plates(open_despite_unknown_face=True))
    assert lenient.action is GateAction.OPEN
    assert set(lenient.reasons) == {"door_plate_of_site"}
    undecided = decide([_plate(), _face(2, FaceDecision.UNDECIDED)], _plates())
    assert undecided.action is GateAction.OPEN  # an unclear view is no evidence against


def test_a_plate_with_a_green_code_names_both_reasons() -> None:
    decision = decide([_plate(), _code()], _plates())
    assert decision.action is GateAction.OPEN
    assert set(decision.reasons) == {"door_plate_of_site", "green_code"}


@pytest.mark.parametrize(
    "door_plate",
    [
        {"opens": True},  # no prefix: which plates would open?
        {"opens": True, "address_prefixes": ["31/01"]},
        {"opens": True, "address_prefixes": [""]},
        {"opens": True, "address_prefixes": ["310101"], "open_always": True},
    ],
)
def test_bad_door_plate_policies_are_refused(door_plate: dict[str, object]) -> None:
    with pytest.raises(ValidationError):
        GatePolicy.model_validate({"door_plate": door_plate})
