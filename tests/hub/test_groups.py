"""Group codes: a group admin sees their members' colours and test ages, nobody else's."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.alerts.escalation import Escalator
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.auth.users import UserError, create_user
from hub.config import HubSettings
from hub.groups.alerts import raise_group_code_alerts
from hub.ledger import sample
from hub.store import Store
from hub.store.alert_tables import AlertAuditRow
from hub.store.ledger_tables import GroupRow
from models.alerts import Alert, AlertRule
from models.base import utc_now
from tests.hub.conftest import TEST_SECRET
from tests.support.groups import seed_market
from tests.support.logins import PASSWORD, add_login, bearer

IDENTITY = b"identity-key-for-group-tests-0000000"


@pytest.fixture
def client(store: Store, tmp_path: Path) -> Iterator[TestClient]:
    sample.load(store, sample.generate(20, seed=5), IDENTITY)
    seed_market(store)
    with store.transaction() as session:
        session.add(GroupRow(group_id="company-2", name="某公司"))
        session.flush()
        create_user(session, "boss", PASSWORD, Role.GROUP_ADMIN, utc_now(), group_id="market-1")
    add_login(store, "ops")
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def test_the_group_admin_sees_red_and_yellow_first(client: TestClient) -> None:
    boss = bearer(client, "boss")
    group = client.get("/api/groups/market-1", headers=boss).json()
    assert group["name"] == "新塘农贸市场"
    assert [m["colour"] for m in group["members"]] == ["red", "yellow", "green"]
    assert (group["red"], group["yellow"], group["test_overdue"]) == (1, 1, 1)
    green = group["members"][2]
    assert green["test_overdue"] and green["test_age_h"] >= 72
    assert "*" in green["id_masked"]  # never the ID number itself
    assert client.get("/api/groups/company-2", headers=boss).status_code == 403
    assert client.get("/api/alerts", headers=boss).status_code == 403  # no grid alerts
    assert client.get("/api/auth/me", headers=boss).json()["group_id"] == "market-1"


def test_operators_see_any_group_and_unknown_groups_are_404(client: TestClient) -> None:
    ops = bearer(client, "ops")
    assert client.get("/api/groups/company-2", headers=ops).json()["members"] == []
    assert client.get("/api/groups/nope", headers=ops).status_code == 404


def test_a_group_admin_login_needs_a_real_group(store: Store) -> None:
    with pytest.raises(UserError, match="needs --group"), store.transaction() as session:
        create_user(session, "x-admin", PASSWORD, Role.GROUP_ADMIN, utc_now())
    with pytest.raises(UserError, match="no group g-404"), store.transaction() as session:
        create_user(session, "x-admin", PASSWORD, Role.GROUP_ADMIN, utc_now(), group_id="g-404")


def test_red_and_yellow_members_raise_one_alert_each_in_their_grid(store: Store) -> None:
    generated = sample.generate(20, seed=5)
    sample.load(store, generated, IDENTITY)
    red, yellow, _green = seed_market(store)
    sink = Collected()
    timer = Escalator(store, sink, timedelta(hours=1), extra_checks=[raise_group_code_alerts])
    assert timer.run_once() == 2
    assert timer.run_once() == 0  # one alert per person and colour, not one per tick
    by_subject = {a.subject_ref: a for a in sink.alerts}
    assert by_subject[red].rule is AlertRule.RED_CODE
    assert by_subject[yellow].rule is AlertRule.YELLOW_CODE
    assert {a.grid_id for a in sink.alerts} == {generated.grids[0]["grid_id"]}
    assert "新塘农贸市场" in by_subject[red].summary
    with store.sessions() as session:
        audit = session.scalars(select(AlertAuditRow.action)).all()
    assert sorted(audit) == ["raised", "raised"]


class Collected:
    """An alert sink that keeps what it is given."""

    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)
