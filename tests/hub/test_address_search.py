"""Fuzzy address search: loose Chinese lane/number forms find the ledger's address."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from hub.api.main import create_app
from hub.auth.roles import Role
from hub.config import HubSettings
from hub.ledger.address_search import parse_address, search_addresses
from hub.store import Store
from hub.store.events import store_events
from hub.store.ledger_tables import AddressRow
from models.alerts import AlertRule
from models.base import utc_now
from models.events import DoorPlateObservation
from tests.hub.conftest import TEST_SECRET
from tests.support.factories import passage_event
from tests.support.grids import raise_alert, seed_grids
from tests.support.logins import add_login, bearer

LEDGER = [
    ("XTL-096-03-2-301", "新塘里", "96", "3", "2", "301", "G-A"),
    ("XTL-012-01-1-101", "新塘里", "12", "1", "1", "101", "G-A"),
    ("CGL-012-01-1-101", "长庚里", "12", "1", "1", "101", "G-A"),
    ("JSL-096-01-1-101", "建设路", "96", "1", "1", "101", "G-B"),
    ("HPL-096-02-1-201", "和平里", "96", "2", "1", "201", "G-B"),
]


@pytest.fixture
def ledger(store: Store) -> Store:
    seed_grids(store)
    with store.transaction() as session:
        for code, street, number, building, unit, room, grid in LEDGER:
            session.add(
                AddressRow(
                    address_code=code,
                    street=street,
                    number=number,
                    building=building,
                    unit=unit,
                    room=room,
                    grid_id=grid,
                )
            )
    return store


def test_parse_splits_street_number_and_the_rest() -> None:
    assert parse_address(" 长庚里 096 号 3栋 ").number == "96"
    assert parse_address("长庚里96号3栋2单元301").rest == "3栋2单元301"
    assert parse_address("新塘里").number is None


def test_the_neighbouring_lane_with_the_same_number_is_a_candidate(ledger: Store) -> None:
    with ledger.sessions() as session:
        found = search_addresses(session, "长庚里96号")
    texts = [c.text for c in found]
    assert texts[0] == "新塘里96号 3栋2单元301"  # same grid as 长庚里, same number
    assert found[0].reason == "neighbouring street in the same grid"
    assert all("96号" in t for t in texts)  # only the asked number
    assert "和平里96号 2栋1单元201" in texts  # a similar name (…里) ranks after the neighbour
    assert found[0].score > found[-1].score


def test_exact_and_miswritten_streets(ledger: Store) -> None:
    with ledger.sessions() as session:
        exact = search_addresses(session, "新塘里12号")
        typo = search_addresses(session, "新唐里12号")
        nothing = search_addresses(session, "   ")
    assert exact[0].address_code == "XTL-012-01-1-101" and exact[0].score == 100
    assert typo[0].address_code == "XTL-012-01-1-101"
    assert nothing == []


@pytest.fixture
def client(ledger: Store, tmp_path: Path) -> Iterator[TestClient]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(ledger.engine.url), secret_key=TEST_SECRET
    )
    add_login(ledger, "ops")
    add_login(ledger, "wang", Role.GRID_WORKER, worker_id="W-A")
    with TestClient(create_app(settings, ledger)) as test_client:
        yield test_client


def test_api_search_is_scoped_to_the_callers_grids(client: TestClient) -> None:
    url = "/api/ledger/addresses/search"
    everyone = client.get(url, params={"q": "长庚里96号"}, headers=bearer(client, "ops")).json()
    assert {c["grid_id"] for c in everyone} == {"G-A", "G-B"}
    mine = client.get(url, params={"q": "长庚里96号"}, headers=bearer(client, "wang")).json()
    assert [c["address_code"] for c in mine] == ["XTL-096-03-2-301"]
    too_long = client.get(url, params={"q": "x" * 201}, headers=bearer(client, "ops"))
    assert too_long.status_code == 422


def test_an_address_mismatch_alert_suggests_ledger_addresses(
    client: TestClient, ledger: Store
) -> None:
    event = passage_event(site_id="site-a").model_copy(
        update={
            "observations": [
                DoorPlateObservation(address_code="XTL-096-03-2-301", seen_at=utc_now())
            ]
        }
    )
    with ledger.transaction() as session:
        store_events(session, [event])
    alert = raise_alert(ledger, "G-A", rule=AlertRule.ADDRESS_MISMATCH, event_id=event.event_id)
    detail = client.get(f"/api/alerts/{alert.alert_id}", headers=bearer(client, "ops")).json()
    assert detail["seen"]["door_plates"] == ["XTL-096-03-2-301"]
    assert "和平里96号 2栋1单元201 (HPL-096-02-1-201)" in detail["suggestions"]
    assert all("XTL-096-03-2-301" not in s for s in detail["suggestions"])
