"""The registration messages and topics: round trips, and every kind of bad payload refused."""

from __future__ import annotations

import json
import uuid
from datetime import timedelta
from typing import Any

import pytest

from models import ContractError, decode, encode, topics
from models.base import new_id, utc_now
from models.events import CodeColour, HealthCodeFormat, HealthCodeObservation, VerificationStatus
from models.registrations import Consent, RegistrationAck, RegistrationRequest
from models.topics import DeviceChannel
from tests.support.factories import encoding


def request(**changes: Any) -> RegistrationRequest:
    """A valid request; ``changes`` override fields."""
    now = utc_now()
    values: dict[str, Any] = {
        "request_id": new_id(),
        "device_id": "kiosk-01",
        "site_id": "site-a",
        "address_code": "310101001001",
        "health_code": HealthCodeObservation(
            format=HealthCodeFormat.GRIDGATE,
            status=VerificationStatus.VALID,
            colour=CodeColour.GREEN,
            holder_ref="h1:holder",
            expires_at=now + timedelta(hours=1),
            seen_at=now,
        ),
        "name_masked": "张*",
        "face_encoding": encoding(1),
        "face_quality": 0.8,
        "consent": Consent(text_version="kiosk-2026-11-v1", accepted_at=now),
        "created_at": now,
    }
    values.update(changes)
    return RegistrationRequest(**values)


def _payload(**changes: Any) -> bytes:
    body = json.loads(encode(request()))
    for key, value in changes.items():
        if value is None:
            body.pop(key)
        else:
            body[key] = value
    return json.dumps(body).encode()


def test_request_and_ack_round_trip() -> None:
    sent = request()
    assert decode(RegistrationRequest, encode(sent)) == sent
    ack = RegistrationAck(
        device_id="kiosk-01", request_id=sent.request_id, accepted=True, acked_at=utc_now()
    )
    assert decode(RegistrationAck, encode(ack)) == ack
    assert b"crop" not in encode(sent) and b"photo" not in encode(sent)


@pytest.mark.parametrize(
    ("changes", "path"),
    [
        ({"consent": None}, "consent"),
        ({"consent": {"text_version": "v1"}}, "consent.accepted_at"),
        ({"face_encoding": [0.1] * 127}, "face_encoding"),
        ({"face_encoding": None}, "face_encoding"),
        ({"address_code": "../etc"}, "address_code"),
        ({"request_id": str(uuid.uuid4())}, "request_id"),
        ({"photo": "AAAA"}, "photo"),
        ({"face_quality": 1.5}, "face_quality"),
    ],
)
def test_bad_requests_are_refused_with_their_field(changes: dict[str, Any], path: str) -> None:
    with pytest.raises(ContractError) as caught:
        decode(RegistrationRequest, _payload(**changes))
    assert caught.value.kind == "validation"
    assert any(p.startswith(path) for p in caught.value.paths), caught.value.paths


@pytest.mark.parametrize(
    "health",
    [
        {"status": "invalid", "reason_codes": ["bad_signature"]},
        {"status": "unverified", "reason_codes": ["unsupported"]},
        {"holder_ref": None},
    ],
)
def test_a_pass_that_is_not_verified_valid_with_a_holder_is_refused(
    health: dict[str, Any],
) -> None:
    body = json.loads(encode(request()))
    body["health_code"].update(health)
    with pytest.raises(ContractError, match="pass must"):
        decode(RegistrationRequest, json.dumps(body))


def test_truncated_and_foreign_version_payloads() -> None:
    whole = encode(request())
    with pytest.raises(ContractError) as caught:
        decode(RegistrationRequest, whole[: len(whole) // 2])
    assert caught.value.kind == "json"
    with pytest.raises(ContractError) as caught:
        decode(RegistrationRequest, _payload(schema_version=2))
    assert caught.value.kind == "schema_version"


def test_registration_topics_are_device_channels() -> None:
    assert topics.registrations("site-a", "kiosk-01") == (
        "gridgate/v1/dev/site-a/kiosk-01/registrations"
    )
    ack = topics.registration_ack("site-a", "kiosk-01")
    assert ack == "gridgate/v1/dev/site-a/kiosk-01/registrations/ack"
    assert topics.parse_device_topic(ack).channel is DeviceChannel.REGISTRATION_ACK
    assert topics.shared(topics.all_devices(DeviceChannel.REGISTRATIONS)) == (
        "$share/hub/gridgate/v1/dev/+/+/registrations"
    )
    payloads = {row["payload"] for row in topics.topic_map()}
    assert {"RegistrationRequest", "RegistrationAck"} <= payloads
