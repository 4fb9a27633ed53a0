"""The MQTT topic map: builders, parser, and refusal of ids that break topics."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from models import topics
from models.topics import DeviceChannel, TopicError


def test_device_topics_follow_the_map() -> None:
    assert topics.events("site-a", "gate-01") == "gridgate/v1/dev/site-a/gate-01/events"
    assert topics.status("site-a", "gate-01").endswith("/status")
    assert topics.cmd_reply("site-a", "gate-01").endswith("/cmd/reply")
    assert topics.alerts("grid-3") == "gridgate/v1/alerts/grid-3"
    assert not topics.trust_list().startswith("/")
    assert topics.config("site-a", "gate-01") == "gridgate/v1/dev/site-a/gate-01/config"


def test_the_pushed_config_topic_is_in_the_map_and_retained() -> None:
    (row,) = [r for r in topics.topic_map() if r["topic"].endswith("/config")]
    assert (row["direction"], row["payload"], row["retained"]) == ("hub→edge", "ConfigPush", "yes")
    assert len(topics.topic_map()) == len(DeviceChannel) + 3  # + gallery, trust list, alerts


@pytest.mark.parametrize("channel", list(DeviceChannel))
def test_parse_inverts_build(channel: DeviceChannel) -> None:
    parsed = topics.parse_device_topic(topics.device("site-a", "gate-01", channel))
    assert (parsed.site_id, parsed.device_id, parsed.channel) == ("site-a", "gate-01", channel)


@pytest.mark.parametrize("bad", ["gate/01", "+", "#", "", "a" * 65, "gate 01"])
def test_ids_that_would_break_a_topic_are_refused(bad: str) -> None:
    with pytest.raises(TopicError):
        topics.events("site-a", bad)


@pytest.mark.parametrize(
    "topic",
    [
        "/gridgate/v1/dev/site-a/gate-01/events",
        "gridgate/v1/dev/site-a/events",
        "gridgate/v1/dev/site-a/gate-01/photos",
        "other/v1/dev/site-a/gate-01/events",
    ],
)
def test_foreign_topics_do_not_parse(topic: str) -> None:
    with pytest.raises(TopicError):
        topics.parse_device_topic(topic)


def test_shared_subscription_for_hub_workers() -> None:
    assert topics.shared(topics.all_devices(DeviceChannel.EVENTS)) == (
        "$share/hub/gridgate/v1/dev/+/+/events"
    )


def test_topic_strings_live_only_in_the_topic_module() -> None:
    from pathlib import Path

    root = Path(__file__).resolve().parents[1]
    offenders = [
        str(path.relative_to(root))
        for folder in ("edge", "hub", "models")
        for path in (root / folder).rglob("*.py")
        if path.name != "topics.py" and "gridgate/v1" in path.read_text(encoding="utf-8")
    ]
    assert offenders == []


def test_the_architecture_doc_lists_every_topic() -> None:
    """docs/ARCHITECTURE.md's topic map names each topic of :func:`topics.topic_map`."""
    doc = (Path(__file__).resolve().parents[1] / "docs" / "ARCHITECTURE.md").read_text("utf-8")
    listed = set(re.findall(r"^\| `([^`]+)` \|", doc, re.M))
    missing = {row["topic"] for row in topics.topic_map()} - listed
    assert not missing, f"topics missing from docs/ARCHITECTURE.md: {sorted(missing)}"
