"""Checkpoint vehicle mode end to end: a real checkpoint agent (its page's HTTP API, real signed
passes, outbox, MQTT link), real Mosquitto and the real hub on SQLite with a ledger.

A car with three residents bound for a G2 address, one with a red code, is HELD; closed, it is
stored at the hub once with its plate and occupants, the red-code alert reaches G2's topic and
the hub's ack empties the outbox. Five cars closed with the broker down reach the hub exactly
once each when it returns.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from edge.app import EdgeAgent
from edge.simulate.gate import ScriptedGateSource
from edge.simulate.scenes import Scene
from hub.app import Hub
from hub.ledger.repository import LedgerRepository
from hub.store.db import Store
from hub.store.tables import EventRow
from hub.store.vehicle_tables import VehicleRow
from models.alerts import AlertRule
from models.events import CodeColour
from models.identity import holder_ref
from models.ledger import Address, Grid, Resident
from tests.edge.helpers import wait_for
from tests.edge.test_checkpoint import ID_A, ID_B, ID_C, KEY, SITE, checkpoint_config, pass_of
from tests.hub.conftest import make_settings
from tests.hub.test_end_to_end import GridWorkerApp
from tests.support.broker import MosquittoBroker
from tests.support.hub_server import serving
from tests.support.logins import operator_headers
from tests.support.passes import Issuer

G2_ADDRESS, HOME = "XTL-096", "CGL-001"
DESTINATION = "新塘里 96号"  # free text, as the driver says it
PEOPLE = {ID_A: "r-a", ID_B: "r-b", ID_C: "r-c"}


def fill_ledger(store: Store) -> None:
    """The checkpoint's grid G1 (the three people live there) and G2 with 新塘里96号."""
    with store.transaction() as session:
        repo = LedgerRepository(session)
        repo.upsert_grids([Grid(grid_id=g, name=f"网格 {g}") for g in ("G1", "G2")])
        repo.upsert_addresses(
            [
                Address(address_code=G2_ADDRESS, street="新塘里", number="96", grid_id="G2"),
                Address(address_code="XTL-097", street="新塘里", number="97", grid_id="G2"),
                Address(address_code=HOME, street="长庚里", number="1", grid_id="G1"),
            ]
        )
        repo.upsert_sites(
            [{"site_id": SITE, "name": "高速出口", "kind": "checkpoint", "grid_id": "G1"}]
        )
        repo.upsert_residents(
            Resident(
                resident_id=resident,
                holder_ref=holder_ref(number, KEY),
                id_masked="***",
                name="乘客",
                address_code=HOME,
            )
            for number, resident in PEOPLE.items()
        )


@dataclass
class Scene2E:
    """The running pieces: hub (and an operator's API client), agent, its page, the issuer."""

    hub: Hub
    api: httpx.Client
    agent: EdgeAgent
    page: httpx.Client
    issuer: Issuer


@pytest.fixture
def running(broker: MosquittoBroker, tmp_path: Path) -> Iterator[Scene2E]:
    hub = Hub(make_settings(broker, f"sqlite:///{tmp_path / 'hub.db'}", tmp_path / "hub"))
    fill_ledger(hub.store)
    config, issuer = checkpoint_config(tmp_path, broker)
    camera = ScriptedGateSource([Scene()], fps=10, frames_per_scene=1, empty_frames=10)
    agent = EdgeAgent(config, source=camera)
    with serving(hub) as port:
        api = httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30)
        api.headers.update(operator_headers(hub.store, api))
        agent.start()
        try:
            assert agent.checkpoint is not None and agent.checkpoint.server is not None
            assert agent.link.wait_ready(10)
            page = httpx.Client(
                base_url=f"http://127.0.0.1:{agent.checkpoint.server.port}", timeout=10
            )
            yield Scene2E(hub, api, agent, page, issuer)
        finally:
            agent.stop()


def check_car(
    page: httpx.Client, issuer: Issuer, plate: str, *people: tuple[str, CodeColour]
) -> dict[str, object]:
    """Open a car on the page, add each person (pass, ID, destination); the page's view."""
    opened = page.post("/api/vehicles", json={"plate": plate, "direction": "entry", "lane": "1"})
    assert opened.status_code == 201, opened.text
    car = opened.json()["id"]
    view: dict[str, object] = opened.json()
    for number, colour in people:
        body = {"code": pass_of(issuer, number, colour), "id_number": number}
        added = page.post(
            f"/api/vehicles/{car}/occupants", json={**body, "destination": DESTINATION}
        )
        assert added.status_code == 201, added.text
        view = added.json()
    return view


def close(page: httpx.Client, car: object) -> dict[str, object]:
    closed = page.post(f"/api/vehicles/{car}/close")
    assert closed.status_code == 200, closed.text
    result: dict[str, object] = closed.json()
    return result


def stored_vehicles(store: Store) -> dict[str, int]:
    """Rows per vehicle event id in the hub's store."""
    with store.sessions() as session:
        rows = session.execute(
            select(VehicleRow.event_id, func.count()).group_by(VehicleRow.event_id)
        ).all()
        return {str(event_id): count for event_id, count in rows}


def event_rows(store: Store) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(EventRow)) or 0


def test_a_held_car_reaches_the_hub_and_g2_and_five_cars_survive_an_outage(
    running: Scene2E, broker: MosquittoBroker
) -> None:
    hub, api, agent, page = running.hub, running.api, running.agent, running.page
    phone = GridWorkerApp(broker, "G2")
    try:
        assert phone.ready.wait(10)
        view = check_car(
            page,
            running.issuer,
            "粤B·D12345",
            (ID_A, CodeColour.GREEN),
            (ID_B, CodeColour.RED),
            (ID_C, CodeColour.GREEN),
        )
        assert (view["passed"], view["reasons"]) == (False, ["red_code"])  # HELD
        closed = close(page, view["id"])
        assert (closed["plate"], closed["passed"]) == ("粤BD12345", False)
        held = str(closed["event_id"])

        wait_for(lambda: held in stored_vehicles(hub.store), 20, "the car at the hub")
        listed = api.get("/api/vehicles").json()
        assert listed["total"] == 1
        (summary,) = listed["items"]
        assert (summary["event_id"], summary["plate"], summary["site_id"]) == (
            held,
            "粤BD12345",
            SITE,
        )
        assert (summary["held"], summary["reasons"], summary["occupant_count"]) == (
            True,
            ["red_code"],
            3,
        )
        detail = api.get(f"/api/vehicles/{held}").json()
        assert [
            (o["seat"], o["colour"], o["resident_id"], o["address_code"], o["grid_id"])
            for o in detail["occupants"]
        ] == [
            (1, "green", "r-a", G2_ADDRESS, "G2"),
            (2, "red", "r-b", G2_ADDRESS, "G2"),
            (3, "green", "r-c", G2_ADDRESS, "G2"),
        ]
        wait_for(lambda: bool(phone.alerts), 15, "the red-code alert on G2's topic")
        wait_for(lambda: agent.outbox.depth() == 0, 15, "the hub's ack of the car")
        assert page.get("/api/state").json()["uplink"] == {"connected": True, "queued": 0}

        broker.stop()  # the uplink goes down
        wait_for(lambda: not agent.link.stats().connected, 10, "the link to notice the outage")
        later = []
        for n in range(5):
            car = check_car(page, running.issuer, f"粤B1234{n}", (ID_A, CodeColour.GREEN))
            assert car["passed"] is True
            later.append(str(close(page, car["id"])["event_id"]))
        assert page.get("/api/state").json()["uplink"] == {"connected": False, "queued": 5}
        broker.start()
        wait_for(lambda: len(stored_vehicles(hub.store)) == 6, 30, "the five cars at the hub")
        wait_for(lambda: agent.outbox.depth() == 0, 20, "the hub's acks of the five cars")
    finally:
        phone.close()
    assert stored_vehicles(hub.store) == dict.fromkeys([held, *later], 1)
    assert event_rows(hub.store) == 6
    assert api.get("/api/vehicles", params={"held": False}).json()["total"] == 5
    assert [(a.rule, a.grid_id, str(a.event_id)) for a in phone.alerts] == [
        (AlertRule.RED_CODE, "G2", held)
    ]
