"""Alerts reach the on-duty workers of their grid on the channels each worker chose."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import insert

from hub.api.main import create_app
from hub.auth.roles import Role
from hub.config import HubSettings
from hub.push.base import ChannelError
from hub.push.log import LogSender
from hub.push.personal import PersonalChannel
from hub.push.recipients import RecipientDirectory
from hub.store import Store
from hub.store.ledger_tables import GridRow, GridWorkerRow, worker_grids
from models.alerts import Alert, AlertRule, Severity
from models.base import new_id, utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.logins import add_login, bearer

WORKERS = [  # id, channels, on duty
    ("W-LEAD", {"sms": "13900000000"}, False),
    ("W-1", {"sms": "13800000001", "email": "w1@example.cn"}, True),
    ("W-2", {"sms": "13800000002"}, True),
    ("W-OFF", {"sms": "13800000003"}, False),
]


@pytest.fixture
def ledger(store: Store) -> Store:
    with store.transaction() as session:
        for worker_id, channels, on_duty in WORKERS:
            session.add(
                GridWorkerRow(
                    worker_id=worker_id, name=worker_id, channels=channels, on_duty=on_duty
                )
            )
        session.flush()
        session.add(GridRow(grid_id="G-1", name="网格一", leader_worker_id="W-LEAD"))
        session.flush()
        for worker_id, _, _ in WORKERS[1:]:
            session.execute(insert(worker_grids).values(worker_id=worker_id, grid_id="G-1"))
    return store


def _alert(
    severity: Severity = Severity.MAJOR,
    *,
    escalated: bool = False,
    rule: AlertRule = AlertRule.RED_CODE,
) -> Alert:
    now = utc_now()
    return Alert(
        alert_id=new_id(),
        rule=rule,
        severity=severity,
        grid_id="G-1",
        site_id="S-1",
        subject_ref="holder:1",
        summary="red code at the east gate",
        raised_at=now - timedelta(minutes=1),
        updated_at=now,
        escalated=escalated,
    )


def test_on_duty_workers_get_it_and_the_leader_only_once_escalated(ledger: Store) -> None:
    directory = RecipientDirectory(ledger)
    assert [r.worker_id for r in directory.for_alert(_alert(), "sms")] == ["W-1", "W-2"]
    assert [r.target for r in directory.for_alert(_alert(), "email")] == ["w1@example.cn"]
    escalated = directory.for_alert(_alert(escalated=True), "sms")
    assert [r.worker_id for r in escalated] == ["W-1", "W-2", "W-LEAD"]
    assert directory.for_alert(_alert().model_copy(update={"grid_id": "G-404"}), "sms") == []


def test_the_personal_channel_messages_each_recipient_once_even_across_retries(
    ledger: Store,
) -> None:
    class FlakyGateway(LogSender):
        def __init__(self) -> None:
            super().__init__("sms")
            self.failures = 1

        def deliver(self, target: str, text: str) -> None:
            if target.endswith("2") and self.failures:
                self.failures -= 1
                raise ChannelError("gateway busy")
            super().deliver(target, text)

    gateway = FlakyGateway()
    channel = PersonalChannel("sms", RecipientDirectory(ledger), gateway)
    alert = _alert()
    with pytest.raises(ChannelError):
        channel.send(alert)
    assert channel.send(alert) == "13800000001,13800000002"  # the retry
    assert [target for target, _ in gateway.sent] == ["13800000001", "13800000002"]
    assert "red_code" in gateway.sent[0][1]
    later = alert.updated_at + timedelta(minutes=3)
    repeat = alert.model_copy(update={"repeat_count": 2, "updated_at": later})
    channel.send(repeat)
    assert len(gateway.sent) == 4  # a repeat is news again
    reminder = alert.model_copy(update={"updated_at": later + timedelta(hours=4)})
    channel.send(reminder)
    assert len(gateway.sent) == 6  # so is a reminder (updated_at moves)


@pytest.fixture
def client(ledger: Store, tmp_path: Path) -> Iterator[tuple[TestClient, RecipientDirectory]]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(ledger.engine.url), secret_key=TEST_SECRET
    )
    directory = RecipientDirectory(ledger, cache_s=3600)
    add_login(ledger, "w1", Role.GRID_WORKER, worker_id="W-1")
    add_login(ledger, "ops")
    with TestClient(create_app(settings, ledger, recipients=directory)) as test_client:
        yield test_client, directory


def test_workers_choose_channels_severities_and_rules(
    client: tuple[TestClient, RecipientDirectory],
) -> None:
    api, directory = client
    headers = bearer(api, "w1")
    assert directory.for_alert(_alert(Severity.MINOR), "sms")  # cached: takes every alert
    mine = api.get("/api/me/subscriptions", headers=headers).json()
    assert [(s["channel"], s["target"], s["enabled"]) for s in mine] == [
        ("email", "w1@example.cn", True),
        ("sms", "13800000001", True),
    ]
    chosen = [
        {"channel": "sms", "min_severity": "major", "rules": ["red_code", "quarantine_breach"]},
        {"channel": "email", "enabled": False},
    ]
    assert api.put("/api/me/subscriptions", json=chosen, headers=headers).status_code == 200

    def sms(alert: Alert) -> list[str]:
        return [r.worker_id for r in directory.for_alert(alert, "sms")]

    assert sms(_alert(Severity.MINOR)) == ["W-2"]  # below W-1's threshold
    assert sms(_alert(Severity.CRITICAL)) == ["W-1", "W-2"]
    assert sms(_alert(rule=AlertRule.TAILGATING)) == ["W-2"]  # not one of W-1's rules
    assert directory.for_alert(_alert(), "email") == []
    unknown = api.put("/api/me/subscriptions", json=[{"channel": "wechat"}], headers=headers)
    assert unknown.status_code == 422 and "wechat" in unknown.text
    operator = api.get("/api/me/subscriptions", headers=bearer(api, "ops"))
    assert operator.status_code == 409
