"""Classifying raw messages, and the acks built from a committed batch."""

from __future__ import annotations

import json
import uuid

from hub.ingest.acks import build_acks
from hub.ingest.classify import (
    AcceptedEvent,
    AcceptedStatus,
    Inbound,
    Refused,
    classify,
    salvage_event_id,
)
from models import ComponentVersions, DeviceStatus, EventAck, encode
from models.ack import MAX_ACK_IDS
from models.base import utc_now
from models.topics import ack, cmd_reply, events, status
from tests.support.factories import passage_event

TOPIC = events("site-a", "gate-01")


def _inbound(payload: bytes, topic: str = TOPIC) -> Inbound:
    return Inbound(topic, payload, utc_now())


def _refused(payload: bytes, topic: str = TOPIC) -> Refused:
    result = classify(_inbound(payload, topic))
    assert isinstance(result, Refused), result
    return result


def test_valid_event_is_accepted() -> None:
    event = passage_event()
    result = classify(_inbound(encode(event)))
    assert isinstance(result, AcceptedEvent)
    assert result.event == event


def test_each_kind_of_bad_event_is_refused_with_a_reason() -> None:
    event = passage_event()
    data = json.loads(encode(event))
    assert _refused(b"garbage").kind == "json"
    assert _refused(encode(event)[:-20]).kind == "json"
    assert _refused(b"\xff\xfe" + encode(event)).kind == "encoding"
    wrong_version = _refused(json.dumps({**data, "schema_version": 2}).encode())
    assert (wrong_version.kind, wrong_version.event_id) == ("schema_version", event.event_id)
    missing = _refused(json.dumps({k: v for k, v in data.items() if k != "gate_id"}).encode())
    assert missing.kind == "validation" and "gate_id" in missing.reason
    assert missing.event_id == event.event_id


def test_topic_and_payload_must_name_the_same_device() -> None:
    event = passage_event(device_id="gate-02")
    refused = _refused(encode(event))
    assert refused.kind == "mismatch"
    assert (refused.site_id, refused.device_id, refused.event_id) == (
        "site-a",
        "gate-01",
        event.event_id,
    )
    other_site = passage_event(site_id="site-b")
    assert _refused(encode(other_site)).kind == "mismatch"


def test_unparseable_topic_and_unexpected_channel() -> None:
    event = encode(passage_event())
    assert _refused(event, "gridgate/v1/dev/site-a/gate-01/bogus").kind == "topic"
    assert _refused(event, "elsewhere/x").kind == "topic"
    assert _refused(event, cmd_reply("site-a", "gate-01")).kind == "channel"


def test_status_is_accepted_and_checked_against_its_topic() -> None:
    payload = DeviceStatus(
        device_id="gate-01",
        site_id="site-a",
        online=True,
        reported_at=utc_now(),
        versions=ComponentVersions(agent="0.1.0"),
    )
    assert isinstance(
        classify(_inbound(encode(payload), status("site-a", "gate-01"))), AcceptedStatus
    )
    assert _refused(encode(payload), status("site-a", "gate-09")).kind == "mismatch"
    assert _refused(b"{}", status("site-a", "gate-01")).kind == "validation"


def test_salvage_event_id_only_reads_uuid7s() -> None:
    event_id = passage_event().event_id
    assert salvage_event_id(json.dumps({"event_id": str(event_id)}).encode()) == event_id
    assert salvage_event_id(json.dumps({"event_id": str(uuid.uuid4())}).encode()) is None
    assert salvage_event_id(b"[1, 2]") is None
    assert salvage_event_id(b'{"event_id": 5}') is None
    assert salvage_event_id(b"\xff") is None


def test_acks_group_by_device_and_split_at_the_limit() -> None:
    many = [passage_event(seq=i, faces=0) for i in range(MAX_ACK_IDS + 5)]
    other = passage_event(device_id="gate-02", faces=0)
    accepted = [
        AcceptedEvent(e, _inbound(b"", events(e.site_id, e.device_id))) for e in [*many, other]
    ]
    bad = passage_event(device_id="gate-02")
    refused = [
        Refused(_inbound(b""), "validation", "x" * 500, "site-a", "gate-02", bad.event_id),
        Refused(_inbound(b""), "json", "no id"),
    ]
    acks = build_acks([*accepted, accepted[0]], refused, utc_now())
    topics = [topic for topic, _ in acks]
    assert topics == [ack("site-a", "gate-01")] * 2 + [ack("site-a", "gate-02")]
    first, second, third = (a for _, a in acks)
    assert isinstance(first, EventAck)
    assert len(first.event_ids) == MAX_ACK_IDS and len(second.event_ids) == 5
    assert third.event_ids == [other.event_id]
    assert [r.event_id for r in third.rejected] == [bad.event_id]
    assert len(third.rejected[0].reason) == 200
