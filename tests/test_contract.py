"""The wire contract: round trips, and one clear typed error for every kind of bad payload."""

from __future__ import annotations

import contextlib
import json
from uuid import uuid4

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from models import (
    Alert,
    AlertRule,
    AlertState,
    CameraState,
    CommandName,
    CommandResult,
    ComponentVersions,
    ContractError,
    DeviceCommand,
    DeviceStatus,
    EventAck,
    FaceObservation,
    PassageEvent,
    RejectedEvent,
    Severity,
    decode,
    encode,
)
from models.base import WireModel, new_id, utc_now
from models.codec import MAX_PAYLOAD_BYTES
from tests.support.factories import passage_event


def _messages() -> list[WireModel]:
    now = utc_now()
    return [
        passage_event(faces=2),
        DeviceStatus(
            device_id="gate-01",
            site_id="site-a",
            online=True,
            reported_at=now,
            fps=14.5,
            queue_depth=3,
            camera=CameraState.OK,
            versions=ComponentVersions(agent="0.1.0", gallery="g42"),
        ),
        EventAck(
            device_id="gate-01",
            event_ids=[new_id(), new_id()],
            rejected=[RejectedEvent(event_id=new_id(), reason="device mismatch")],
            acked_at=now,
        ),
        DeviceCommand(
            command_id=new_id(),
            name=CommandName.OPEN_GATE,
            issued_at=now,
            issued_by="operator-7",
            args={"gate": "north", "seconds": 5},
        ),
        CommandResult(
            command_id=new_id(), device_id="gate-01", ok=True, detail="opened", completed_at=now
        ),
        Alert(
            alert_id=uuid4(),
            rule=AlertRule.UNREGISTERED_PERSON,
            severity=Severity.MAJOR,
            state=AlertState.OPEN,
            grid_id="grid-3",
            site_id="site-a",
            gate_id="north",
            subject_ref="track:gate-01:17",
            summary="unregistered face at north gate",
            raised_at=now,
            updated_at=now,
        ),
    ]


@pytest.mark.parametrize("message", _messages(), ids=lambda m: type(m).__name__)
def test_round_trip_preserves_every_field(message: WireModel) -> None:
    decoded = decode(type(message), encode(message))
    assert decoded == message
    assert decoded.model_dump() == message.model_dump()


def test_event_observations_keep_their_kind() -> None:
    event = decode(PassageEvent, encode(passage_event(faces=3)))
    assert len(event.faces()) == 3
    assert len(event.health_codes()) == 1
    assert event.door_plates()[0].address_code == "310101001001"


def _event_dict() -> dict[str, object]:
    result: dict[str, object] = json.loads(encode(passage_event()))
    return result


def test_a_face_kept_on_the_device_travels_without_its_encoding() -> None:
    with_encodings = passage_event(faces=2)
    kept = with_encodings.model_copy(
        update={
            "observations": [
                o.model_copy(update={"encoding": None}) if isinstance(o, FaceObservation) else o
                for o in with_encodings.observations
            ]
        }
    )
    payload = encode(kept)
    assert b'"encoding"' not in payload  # left out, not null
    decoded = decode(PassageEvent, payload)
    assert decoded == kept
    assert [f.encoding for f in decoded.faces()] == [None, None]
    assert [f.local_match for f in decoded.faces()] == [f.local_match for f in kept.faces()]
    assert b'"encoding"' in encode(with_encodings)  # events that carry one are unchanged
    data = json.loads(payload)
    data["observations"][0]["encoding"] = None
    assert decode(PassageEvent, json.dumps(data)).faces()[0].encoding is None


def test_wrong_type_names_the_field_path() -> None:
    data = _event_dict()
    data["observations"][0]["quality"] = "very good"  # type: ignore[index]
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert info.value.kind == "validation"
    assert "observations.0.face.quality" in info.value.paths


def test_short_face_encoding_is_refused() -> None:
    data = _event_dict()
    data["observations"][0]["encoding"] = [0.1] * 127  # type: ignore[index]
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert "observations.0.face.encoding" in info.value.paths


@pytest.mark.parametrize("value", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_encoding_is_refused(value: str) -> None:
    data = _event_dict()
    encoding = data["observations"][0]["encoding"]  # type: ignore[index]
    text = json.dumps(data).replace(
        json.dumps(encoding), json.dumps(encoding).replace(str(encoding[0]), value, 1), 1
    )
    assert value in text
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, text)
    assert info.value.paths == ["observations.0.face.encoding.0"]
    assert "finite" in str(info.value)


def test_unknown_schema_version_is_refused_clearly() -> None:
    data = _event_dict()
    data["schema_version"] = 2
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert info.value.kind == "schema_version"
    assert "version 1" in str(info.value)


@pytest.mark.parametrize("cut", [1, 10, 100, -1])
def test_truncated_json_is_a_json_error(cut: int) -> None:
    payload = encode(passage_event())
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, payload[:cut])
    assert info.value.kind == "json"


def test_non_utf8_bytes_are_an_encoding_error() -> None:
    payload = encode(passage_event()).replace(b"north", b"n\xff\xferth")
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, payload)
    assert info.value.kind == "encoding"


def test_oversize_payload_is_refused_before_parsing() -> None:
    payload = b" " * (MAX_PAYLOAD_BYTES + 1)
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, payload)
    assert info.value.kind == "oversize"


def test_unknown_field_is_refused() -> None:
    data = _event_dict()
    data["id_number"] = "110101199003074514"
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert "id_number" in info.value.paths


def test_event_id_must_be_uuid7() -> None:
    data = _event_dict()
    data["event_id"] = str(uuid4())
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert "event_id" in info.value.paths


def test_naive_timestamp_is_refused_and_offsets_normalise_to_utc() -> None:
    data = _event_dict()
    data["occurred_at"] = "2026-11-23T08:00:00"
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert "occurred_at" in info.value.paths
    data["occurred_at"] = "2026-11-23T16:00:00+08:00"
    event = decode(PassageEvent, json.dumps(data))
    assert event.occurred_at.utcoffset() is not None
    assert event.occurred_at.hour == 8


def test_topic_unsafe_device_id_is_refused() -> None:
    data = _event_dict()
    data["device_id"] = "gate/#"
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert "device_id" in info.value.paths


def test_unknown_observation_kind_is_refused() -> None:
    data = _event_dict()
    data["observations"].append({"kind": "fingerprint", "seen_at": "2026-11-23T08:00:00Z"})  # type: ignore[attr-defined]
    with pytest.raises(ContractError) as info:
        decode(PassageEvent, json.dumps(data))
    assert info.value.kind == "validation"


def test_empty_ack_is_refused() -> None:
    with pytest.raises(ContractError):
        decode(EventAck, json.dumps({"device_id": "gate-01", "acked_at": "2026-11-23T08:00:00Z"}))


@settings(max_examples=300, deadline=None)
@given(st.binary(max_size=2048))
def test_arbitrary_bytes_never_escape_as_another_exception(payload: bytes) -> None:
    try:
        decode(PassageEvent, payload)
    except ContractError as exc:
        assert exc.kind in {"encoding", "json", "validation", "schema_version"}


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_mutated_valid_events_raise_only_contract_errors(data: st.DataObject) -> None:
    payload = bytearray(encode(passage_event()))
    for _ in range(data.draw(st.integers(1, 5))):
        index = data.draw(st.integers(0, len(payload) - 1))
        payload[index] = data.draw(st.integers(0, 255))
    with contextlib.suppress(ContractError):
        decode(PassageEvent, bytes(payload))
