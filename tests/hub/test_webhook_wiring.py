"""The webhook channels as a running hub builds them: the command centre's robot gets every
alert, an on-duty grid worker's own robot the alerts they subscribed to, each POST signed."""

from __future__ import annotations

import hmac
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pydantic import ValidationError
from sqlalchemy import select, update

from hub.app import Hub
from hub.config import HubSettings
from hub.ledger import sample
from hub.push.webhook import signature
from hub.store.alert_tables import DeliveryRow, SubscriptionRow
from hub.store.ledger_tables import GridWorkerRow
from models.base import new_id, utc_now
from models.events import (
    Direction,
    FaceObservation,
    GateAction,
    GateDecision,
    PassageEvent,
)
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET, make_settings
from tests.hub.test_push import Receiver, serving_receiver
from tests.support.broker import MosquittoBroker
from tests.support.hub_publisher import HubPublisher

SECRET = "webhook-secret-of-the-district"
IDENTITY = b"identity-key-for-webhook-wiring-000"
STRANGER = np.random.default_rng(51).normal(0, 0.1, 128)


@pytest.fixture
def robots() -> Iterator[tuple[str, type[Receiver]]]:
    """One local HTTP server standing in for every robot; each URL path names one."""
    with serving_receiver() as served:
        yield served


def _stranger_at(site: str) -> PassageEvent:
    return PassageEvent(
        event_id=new_id(),
        device_id="gate-01",
        site_id=site,
        gate_id="east",
        direction=Direction.ENTRY,
        occurred_at=utc_now(),
        observations=[
            FaceObservation(
                track_id=1, encoding=[float(v) for v in STRANGER], quality=0.8, seen_at=utc_now()
            )
        ],
        decision=GateDecision(action=GateAction.OBSERVE),
    )


def _by_robot(handler: type[Receiver]) -> dict[str, list[tuple[dict[str, str], bytes]]]:
    """What each robot (the URL path, without the query) received."""
    robots: dict[str, list[tuple[dict[str, str], bytes]]] = {}
    for path, post in zip(list(handler.paths), list(handler.received), strict=True):
        robots.setdefault(path.split("?")[0], []).append(post)
    return robots


def test_an_alert_reaches_the_centre_and_the_on_duty_workers_robot_signed(
    broker: MosquittoBroker,
    publisher: HubPublisher,
    robots: tuple[str, type[Receiver]],
    tmp_path: Path,
) -> None:
    base, handler = robots
    settings = make_settings(
        broker,
        f"sqlite:///{tmp_path / 'hub.db'}",
        tmp_path / "hub",
        webhook_url=f"{base}/centre?access_token=group-robot-token",
        webhook_secret=SECRET,
    )
    hub = Hub(settings)
    generated = sample.generate(20, seed=3)
    sample.load(hub.store, generated, IDENTITY)
    site, grid = generated.sites[0]["site_id"], generated.sites[0]["grid_id"]
    leader, on_duty, off_duty = (w["worker_id"] for w in generated.workers if w["grid_ids"] == grid)
    with hub.store.transaction() as session:
        for worker in (leader, on_duty, off_duty):
            session.execute(
                update(GridWorkerRow)
                .where(GridWorkerRow.worker_id == worker)
                .values(channels={"webhook": f"{base}/{worker}?access_token=t-{worker}"})
            )
        # the leader is on duty but wants only critical alerts here
        session.add(SubscriptionRow(worker_id=leader, channel="webhook", min_severity="critical"))
    hub.start()
    try:
        assert hub.ingest.wait_ready(15)
        publisher.publish(_stranger_at(site))
        wait_for(lambda: bool(publisher.acked), 15, "the hub to acknowledge the passage")
        assert hub.push.wait_idle(15)
    finally:
        hub.stop()
    received = _by_robot(handler)
    assert sorted(received) == sorted(["/centre", f"/{on_duty}"])
    for path, ((headers, body),) in received.items():
        expected = signature(SECRET.encode(), headers["X-Gridgate-Timestamp"], body)
        assert hmac.compare_digest(headers["X-Gridgate-Signature"], expected), path
        message = json.loads(body)
        assert message["msgtype"] == "markdown"
        assert message["alert"]["rule"] == "unregistered_person"
        assert message["alert"]["grid_id"] == grid
    with hub.store.sessions() as session:
        done = session.execute(select(DeliveryRow.channel, DeliveryRow.target)).all()
    targets = {channel: target for channel, target in done if channel.endswith("webhook")}
    # recorded without the robots' tokens
    assert targets == {"centre_webhook": f"{base}/centre", "webhook": f"{base}/{on_duty}"}


def test_settings_refuse_an_unsigned_webhook(tmp_path: Path) -> None:
    base: dict[str, Any] = {"data_dir": tmp_path, "secret_key": TEST_SECRET}
    with pytest.raises(ValidationError, match="needs webhook_secret"):
        HubSettings(**base, webhook_url="https://oapi.dingtalk.com/robot/send")
    with pytest.raises(ValidationError, match="webhook_secret is empty"):
        HubSettings(**base, webhook_url="https://example.cn/hook", webhook_secret="")
    with pytest.raises(ValidationError, match="webhook_url"):
        HubSettings(**base, webhook_url="not a url", webhook_secret=SECRET)
    signed = HubSettings(**base, webhook_url="https://example.cn/hook", webhook_secret=SECRET)
    assert "webhook-secret" not in repr(signed)
