"""Vehicle mode on the wire: plate validation, one event per vehicle, compatibility."""

from __future__ import annotations

import json

import pytest

from models import ContractError, PassageEvent, decode, encode
from models.base import new_id, utc_now
from models.events import (
    CodeColour,
    Direction,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    VerificationStatus,
)
from models.vehicles import (
    MAX_OCCUPANTS,
    OccupantCheck,
    PlateError,
    PlateKind,
    VehicleCheck,
    parse_plate,
)
from tests.support.factories import passage_event


@pytest.mark.parametrize(
    ("typed", "number", "kind"),
    [
        ("粤B12345", "粤B12345", PlateKind.STANDARD),
        ("京a·1234x", "京A1234X", PlateKind.STANDARD),
        ("沪 A-B1C2D", "沪AB1C2D", PlateKind.STANDARD),
        ("粤BD12345", "粤BD12345", PlateKind.NEW_ENERGY),  # small, pure electric
        ("苏AFK1234", "苏AFK1234", PlateKind.NEW_ENERGY),  # small, hybrid, letter 2nd
        ("浙C12345D", "浙C12345D", PlateKind.NEW_ENERGY),  # large
        ("鲁Ｑ１２３４５", "鲁Q12345", PlateKind.STANDARD),  # full-width from a phone keyboard
        ("冀A1234挂", "冀A1234挂", PlateKind.TRAILER),
        ("川A1234学", "川A1234学", PlateKind.COACH),
        ("粤Z1234港", "粤Z1234港", PlateKind.HONG_KONG_MACAO),
    ],
)
def test_plates_of_every_family_are_accepted_in_canonical_form(
    typed: str, number: str, kind: PlateKind
) -> None:
    plate = parse_plate(typed)
    assert (plate.number, plate.kind) == (number, kind)


@pytest.mark.parametrize(
    ("typed", "why"),
    [
        ("", "empty"),
        ("AB12345", "province"),
        ("粤B1234", "7"),
        ("粤BI2345", "I and O"),
        ("粤B123456", "new-energy"),  # 8 characters without a new-energy class letter
        ("粤BX12345", "new-energy"),
        ("粤BD1234Z", "new-energy"),
        ("粤B12345678", "characters"),
    ],
)
def test_bad_plates_are_refused_with_the_reason(typed: str, why: str) -> None:
    with pytest.raises(PlateError, match=why):
        parse_plate(typed)


def _code(colour: CodeColour) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=VerificationStatus.VALID,
        colour=colour,
        holder_ref=f"ref-{colour}",
        seen_at=utc_now(),
    )


def _vehicle_event(*colours: CodeColour) -> PassageEvent:
    occupants = [
        OccupantCheck(
            seat=i,
            health_code=_code(c),
            destination="新塘里96号",
            passed=c is CodeColour.GREEN,
            reasons=[] if c is CodeColour.GREEN else [f"{c}_code"],
        )
        for i, c in enumerate(colours, 1)
    ]
    vehicle = VehicleCheck(plate="粤B·D12345", lane="L2", opened_at=utc_now(), occupants=occupants)
    return PassageEvent(
        event_id=new_id(),
        device_id="cp-01",
        site_id="K1",
        gate_id="exit-3",
        direction=Direction.ENTRY,
        occurred_at=utc_now(),
        decision=GateDecision(
            action=GateAction.OPEN if vehicle.passed else GateAction.HOLD,
            reasons=[r for o in occupants for r in o.reasons],
        ),
        vehicle=vehicle,
    )


def test_a_vehicle_with_its_occupants_is_one_event_and_round_trips() -> None:
    event = _vehicle_event(CodeColour.GREEN, CodeColour.RED, CodeColour.GREEN)
    back = decode(PassageEvent, encode(event))
    assert back == event
    assert back.vehicle is not None
    assert back.vehicle.plate == "粤BD12345"
    assert back.vehicle.plate_kind is PlateKind.NEW_ENERGY
    assert not back.vehicle.passed
    assert back.decision.action is GateAction.HOLD
    assert [o.seat for o in back.vehicle.occupants] == [1, 2, 3]


def test_a_passage_without_a_vehicle_has_no_vehicle_key_on_the_wire() -> None:
    """Older hubs refuse unknown keys: events of gates, not checkpoints, are unchanged."""
    event = passage_event(faces=1)
    assert "vehicle" not in json.loads(encode(event))
    assert decode(PassageEvent, encode(event)).vehicle is None


def test_a_forged_plate_or_an_empty_vehicle_is_a_validation_error() -> None:
    raw = json.loads(encode(_vehicle_event(CodeColour.GREEN)))
    raw["vehicle"]["plate"] = "XX12345"
    with pytest.raises(ContractError) as bad_plate:
        decode(PassageEvent, json.dumps(raw))
    assert bad_plate.value.paths == ["vehicle.plate"]
    raw["vehicle"]["plate"] = "粤B12345"
    raw["vehicle"]["occupants"] = []
    with pytest.raises(ContractError) as empty:
        decode(PassageEvent, json.dumps(raw))
    assert empty.value.paths == ["vehicle.occupants"]


def test_two_occupants_on_one_seat_are_refused() -> None:
    raw = json.loads(encode(_vehicle_event(CodeColour.GREEN, CodeColour.GREEN)))
    raw["vehicle"]["occupants"][1]["seat"] = 1
    with pytest.raises(ContractError, match="same seat"):
        decode(PassageEvent, json.dumps(raw))


def test_a_full_coach_fits_one_payload() -> None:
    event = _vehicle_event(*([CodeColour.GREEN] * MAX_OCCUPANTS))
    assert decode(PassageEvent, encode(event)) == event
