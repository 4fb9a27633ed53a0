"""Checkpoint vehicles at the hub, through the real ingest path, on SQLite and PostgreSQL.

One vehicle event → one stored vehicle with its occupants, occupants linked to residents,
destinations resolved to ledger addresses, red / yellow code and unregistered-arrival alerts
in the destination's grid, all in the event's own transaction; then the API over them.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from hub.alerts.effects import AlertEffects
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.config import HubSettings
from hub.ingest.batch import Batch, write_batch
from hub.ingest.classify import AcceptedEvent, Inbound, classify
from hub.ingest.consumer import IngestConsumer
from hub.ledger.lookup import SqlLedgerLookup
from hub.ledger.repository import LedgerRepository
from hub.match.faces import FaceIndex
from hub.store.alert_tables import AlertRow
from hub.store.db import Store
from hub.store.tables import DeadLetterRow, EventRow
from hub.store.vehicle_tables import OccupantRow, VehicleRow
from hub.vehicles.resolve import confident
from models import Alert, PassageEvent, encode
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
from models.ledger import Address, Grid, GridWorker, Resident
from models.topics import events as events_topic
from models.vehicles import OccupantCheck, VehicleCheck
from tests.hub.conftest import TEST_SECRET
from tests.support.hub_publisher import HubPublisher
from tests.support.logins import add_login, bearer

SITE = "K1"
G2_ADDRESS = "XTL-096"  # 新塘里96号, grid G2
RED, GREEN, STRANGER = "h1:red", "h1:green", "h1:stranger"


class Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def _fill_ledger(store: Store) -> None:
    """Grids G1 (the checkpoint's) and G2, a worker each, two streets, two residents."""
    with store.transaction() as session:
        repo = LedgerRepository(session)
        repo.upsert_grids([Grid(grid_id=g, name=f"网格 {g}") for g in ("G1", "G2", "G3")])
        repo.upsert_workers(
            [
                GridWorker(worker_id=f"W{g}", name=f"网格员{g}", grid_ids=[f"G{g}"])
                for g in (1, 2, 3)
            ]
        )
        repo.upsert_addresses(
            [
                Address(address_code=G2_ADDRESS, street="新塘里", number="96", grid_id="G2"),
                Address(address_code="XTL-097", street="新塘里", number="97", grid_id="G2"),
                Address(address_code="CGL-001", street="长庚里", number="1", grid_id="G1"),
            ]
        )
        repo.upsert_sites(
            [{"site_id": SITE, "name": "高速出口", "kind": "checkpoint", "grid_id": "G1"}]
        )
        repo.upsert_residents(
            [
                Resident(
                    resident_id=f"r-{ref[3:]}",
                    holder_ref=ref,
                    id_masked="110***********0021",
                    name=name,
                    address_code="CGL-001",
                )
                for ref, name in ((RED, "赵红"), (GREEN, "钱绿"))
            ]
        )


@pytest.fixture
def ledger(store: Store) -> Store:
    _fill_ledger(store)
    return store


def _code(colour: CodeColour, ref: str | None) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=VerificationStatus.VALID,
        colour=colour,
        holder_ref=ref,
        seen_at=utc_now(),
    )


def occupant(
    seat: int,
    colour: CodeColour = CodeColour.GREEN,
    ref: str | None = None,
    *,
    destination: str | None = None,
    code: str | None = None,
    id_ref: str | None = None,
) -> OccupantCheck:
    green = colour is CodeColour.GREEN
    return OccupantCheck(
        seat=seat,
        health_code=_code(colour, ref),
        id_ref=id_ref,
        destination=destination,
        destination_address_code=code,
        passed=green,
        reasons=[] if green else [f"{colour}_code"],
    )


def vehicle_event(*occupants: OccupantCheck, plate: str = "粤B·D12345") -> PassageEvent:
    vehicle = VehicleCheck(plate=plate, lane="L2", opened_at=utc_now(), occupants=list(occupants))
    return PassageEvent(
        event_id=new_id(),
        device_id="cp-01",
        site_id=SITE,
        gate_id="exit-3",
        direction=Direction.ENTRY,
        occurred_at=utc_now(),
        decision=GateDecision(
            action=GateAction.OPEN if vehicle.passed else GateAction.HOLD,
            reasons=[r for o in occupants for r in o.reasons],
        ),
        vehicle=vehicle,
    )


def the_car() -> PassageEvent:
    """Red resident bound for G2 by door plate, green resident, a stranger to 新塘里96号."""
    return vehicle_event(
        occupant(1, CodeColour.RED, RED, code=G2_ADDRESS),
        occupant(2, CodeColour.GREEN, GREEN),
        occupant(3, CodeColour.GREEN, STRANGER, destination="新塘里96号"),
    )


def ingest(store: Store, effects: AlertEffects, *events: PassageEvent) -> list[uuid.UUID]:
    """Write one batch as the consumer does: store, effects, commit."""
    inbound = [
        AcceptedEvent(e, Inbound(events_topic(e.site_id, e.device_id), encode(e), utc_now()))
        for e in events
    ]
    with store.transaction() as session:
        return write_batch(session, Batch(events=inbound), effects)


def effects(sink: Sink | None = None) -> AlertEffects:
    return AlertEffects(ledger=SqlLedgerLookup, faces=FaceIndex(), sink=sink)


def _alerts(store: Store) -> list[tuple[str, str, str, int]]:
    with store.sessions() as session:
        rows = session.scalars(select(AlertRow).order_by(AlertRow.rule)).all()
        return [(r.rule, r.subject_ref, r.grid_id, r.repeat_count) for r in rows]


def _occupants(store: Store, event: PassageEvent) -> list[OccupantRow]:
    with store.sessions() as session:
        stmt = select(OccupantRow).where(OccupantRow.event_id == event.event_id)
        return list(session.scalars(stmt.order_by(OccupantRow.position)))


def _count(store: Store, table: type) -> int:
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(table)) or 0


def test_a_car_is_stored_held_with_its_occupants_and_alerts_in_the_destination_grid(
    ledger: Store,
) -> None:
    sink = Sink()
    car = the_car()
    assert ingest(ledger, effects(sink), car) == [car.event_id]
    with ledger.sessions() as session:
        vehicle = session.get(VehicleRow, car.event_id)
        assert vehicle is not None
        assert (vehicle.plate, vehicle.plate_kind, vehicle.lane) == (
            "粤BD12345",
            "new_energy",
            "L2",
        )
        assert (vehicle.passed, vehicle.occupant_count, vehicle.reasons) == (False, 3, ["red_code"])
    red, green, stranger = _occupants(ledger, car)
    assert (red.colour, red.resident_id, red.address_code, red.grid_id) == (
        "red",
        "r-red",
        G2_ADDRESS,
        "G2",
    )
    assert (green.resident_id, green.address_code, green.grid_id) == ("r-green", None, "G1")
    assert (stranger.resident_id, stranger.address_code, stranger.grid_id) == (
        None,
        G2_ADDRESS,
        "G2",
    )
    assert stranger.destination == "新塘里96号" and stranger.destination_code is None
    assert _alerts(ledger) == [
        ("red_code", "r-red", "G2", 1),
        ("unregistered_arrival", STRANGER, "G2", 1),
    ]
    assert sorted(a.rule for a in sink.alerts) == ["red_code", "unregistered_arrival"]
    assert {(a.site_id, a.gate_id, a.event_id) for a in sink.alerts} == {
        (SITE, "exit-3", car.event_id)
    }
    assert "粤BD12345 seat 1" in next(a.summary for a in sink.alerts if a.rule == "red_code")


def test_the_same_vehicle_delivered_twice_is_stored_once(ledger: Store) -> None:
    car = the_car()
    effect = effects()
    assert ingest(ledger, effect, car, car) == [car.event_id]  # twice in one batch
    assert ingest(ledger, effect, car) == []  # and again later
    assert (_count(ledger, VehicleRow), _count(ledger, OccupantRow)) == (1, 3)
    assert [repeats for *_, repeats in _alerts(ledger)] == [1, 1]


def test_the_same_person_in_a_later_car_repeats_the_active_alert(ledger: Store) -> None:
    effect = effects()
    ingest(ledger, effect, the_car())
    ingest(ledger, effect, the_car())
    assert _alerts(ledger) == [
        ("red_code", "r-red", "G2", 2),
        ("unregistered_arrival", STRANGER, "G2", 2),
    ]
    assert _count(ledger, VehicleRow) == 2


def test_strangers_bound_outside_the_ledger_raise_no_unregistered_arrival(ledger: Store) -> None:
    nowhere = [
        ("北京市朝阳区建国路88号", None),  # outside the district
        ("新塘里", None),  # no house number: which one?
        ("新塘里196号", None),  # no such number
        (None, "NOWHERE-1"),  # a door plate the ledger does not know
        (None, None),  # said nothing
    ]
    car = vehicle_event(
        *(
            occupant(seat, CodeColour.YELLOW, f"h1:s{seat}", destination=text, code=code)
            for seat, (text, code) in enumerate(nowhere, 1)
        )
    )
    ingest(ledger, effects(), car)
    rows = _occupants(ledger, car)
    assert [(r.address_code, r.grid_id) for r in rows] == [(None, None)] * len(nowhere)
    assert [r.destination_code for r in rows] == [code for _, code in nowhere]
    assert _alerts(ledger) == [  # yellow codes, in the checkpoint's grid
        ("yellow_code", f"h1:s{seat}", "G1", 1) for seat in range(1, len(nowhere) + 1)
    ]


def test_occupants_are_linked_by_their_id_when_the_code_names_no_one(ledger: Store) -> None:
    car = vehicle_event(
        occupant(1, CodeColour.GREEN, None, id_ref=GREEN, destination="新塘里97号"),
        occupant(2, CodeColour.GREEN, None, destination="新塘里 97 号"),
    )
    ingest(ledger, effects(), car)
    linked, unknown = _occupants(ledger, car)
    assert (linked.resident_id, linked.grid_id, linked.id_ref) == ("r-green", "G2", GREEN)
    assert (unknown.seat, unknown.resident_id, unknown.address_code) == (2, None, "XTL-097")
    subject = f"vehicle:{car.event_id}:2"  # neither ID nor holder: the occupant's place
    assert _alerts(ledger) == [("unregistered_arrival", subject, "G2", 1)]


def test_a_forged_plate_is_a_dead_letter_and_stores_no_vehicle(ledger: Store) -> None:
    raw = json.loads(encode(the_car()))
    raw["vehicle"]["plate"] = "XX12345"
    inbound = Inbound(events_topic(SITE, "cp-01"), json.dumps(raw).encode(), utc_now())
    with ledger.transaction() as session:
        write_batch(session, Batch.of([classify(inbound)]), effects())
    assert (_count(ledger, VehicleRow), _count(ledger, EventRow)) == (0, 0)
    assert _count(ledger, DeadLetterRow) == 1


def test_an_ordinary_gate_event_stores_no_vehicle(ledger: Store) -> None:
    gate = the_car().model_copy(update={"vehicle": None})
    ingest(ledger, effects(), gate)
    assert (_count(ledger, EventRow), _count(ledger, VehicleRow)) == (1, 0)


def test_vehicles_and_alerts_roll_back_with_the_batch(ledger: Store) -> None:
    car = the_car()
    inbound = AcceptedEvent(car, Inbound(events_topic(SITE, "cp-01"), encode(car), utc_now()))
    with pytest.raises(RuntimeError), ledger.transaction() as session:
        write_batch(session, Batch(events=[inbound]), effects())
        raise RuntimeError("the batch failed after the effects ran")
    assert (_count(ledger, VehicleRow), _count(ledger, AlertRow)) == (0, 0)


def test_the_consumer_stores_a_resent_vehicle_once_and_acks_it_twice(
    ledger: Store, settings: HubSettings, publisher: HubPublisher
) -> None:
    sink = Sink()
    consumer = IngestConsumer(settings, ledger, effects=effects(sink))
    consumer.start()
    try:
        assert consumer.wait_ready(10)
        car = the_car()
        publisher.publish(car)
        assert publisher.wait_settled(30)
        publisher.publish(car)
        assert publisher.wait_for(lambda: publisher.acked[car.event_id] == 2, 30)
    finally:
        consumer.stop()
    assert (_count(ledger, VehicleRow), _count(ledger, OccupantRow)) == (1, 3)
    assert sorted(a.rule for a in sink.alerts) == ["red_code", "unregistered_arrival"]


def test_a_confident_candidate_must_lead_clearly() -> None:
    from hub.ledger.address_search import AddressCandidate

    def candidate(code: str, score: float) -> AddressCandidate:
        return AddressCandidate(code, code, "G2", score, "same street")

    assert confident("新塘里96号", [candidate("a", 100)]) == candidate("a", 100)
    assert confident("新塘里96号", [candidate("a", 84.9)]) is None
    assert confident("新塘里96号", [candidate("a", 95), candidate("b", 90)]) is None
    assert confident("新塘里", [candidate("a", 100)]) is None
    assert confident("新塘里96号", []) is None


# ---- the API ---------------------------------------------------------------------------------


@pytest.fixture
def api(ledger: Store, tmp_path: Path) -> Iterator[TestClient]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(ledger.engine.url), secret_key=TEST_SECRET
    )
    add_login(ledger)
    for worker in ("W1", "W2", "W3"):
        add_login(ledger, worker.lower(), Role.GRID_WORKER, worker_id=worker)
    with TestClient(create_app(settings, ledger)) as client:
        yield client


def _three_cars(store: Store) -> Sequence[PassageEvent]:
    base = utc_now() - timedelta(minutes=5)
    cars = [
        the_car(),
        vehicle_event(occupant(1, ref=GREEN), plate="京A12345"),  # green, home grid G1
        vehicle_event(occupant(1, ref=STRANGER, destination="新塘里97号"), plate="沪AB1C2D"),
    ]
    timed = [
        c.model_copy(update={"occurred_at": base + timedelta(minutes=i)})
        for i, c in enumerate(cars)
    ]
    ingest(store, effects(), *timed)
    return timed


def test_operators_list_filter_and_page_vehicles_newest_first(
    api: TestClient, ledger: Store
) -> None:
    car, green, _ = _three_cars(ledger)
    headers = bearer(api)
    page = api.get("/api/vehicles", headers=headers).json()
    assert page["total"] == 3
    assert [v["plate"] for v in page["items"]] == ["沪AB1C2D", "京A12345", "粤BD12345"]
    assert [v["held"] for v in page["items"]] == [False, False, True]
    assert page["items"][2]["occupant_count"] == 3

    def plates(**params: object) -> list[str]:
        response = api.get("/api/vehicles", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [v["plate"] for v in response.json()["items"]]

    assert plates(held=True) == ["粤BD12345"]
    assert plates(held=False) == ["沪AB1C2D", "京A12345"]
    assert plates(plate="粤b·d123") == ["粤BD12345"]  # typed loosely, part of it
    assert plates(plate="%") == []  # a LIKE wildcard is a character
    assert plates(site=SITE, limit=1, offset=1) == ["京A12345"]
    assert plates(site="elsewhere") == []
    assert plates(since=green.occurred_at.isoformat()) == ["沪AB1C2D", "京A12345"]
    detail = api.get(f"/api/vehicles/{car.event_id}", headers=headers).json()
    assert [(o["seat"], o["colour"], o["grid_id"]) for o in detail["occupants"]] == [
        (1, "red", "G2"),
        (2, "green", "G1"),
        (3, "green", "G2"),
    ]
    assert detail["held"] is True and detail["reasons"] == ["red_code"]
    assert "holder_ref" not in detail["occupants"][0]  # never a keyed reference


def test_grid_workers_see_only_occupants_bound_for_their_grids(
    api: TestClient, ledger: Store
) -> None:
    car, green, _ = _three_cars(ledger)
    w1, w2, w3 = (bearer(api, name) for name in ("w1", "w2", "w3"))
    listed = {
        name: [v["plate"] for v in api.get("/api/vehicles", headers=h).json()["items"]]
        for name, h in (("w1", w1), ("w2", w2), ("w3", w3))
    }
    assert listed == {"w1": ["京A12345", "粤BD12345"], "w2": ["沪AB1C2D", "粤BD12345"], "w3": []}
    seats = {
        name: [
            o["seat"]
            for o in api.get(f"/api/vehicles/{car.event_id}", headers=h).json()["occupants"]
        ]
        for name, h in (("w1", w1), ("w2", w2))
    }
    assert seats == {"w1": [2], "w2": [1, 3]}
    assert api.get(f"/api/vehicles/{car.event_id}", headers=w3).status_code == 404
    assert api.get(f"/api/vehicles/{green.event_id}", headers=w2).status_code == 404


def test_bad_requests_are_refused(api: TestClient) -> None:
    headers = bearer(api)
    for path, code in [
        ("/api/vehicles?limit=0", 422),
        ("/api/vehicles?limit=201", 422),
        ("/api/vehicles?offset=-1", 422),
        ("/api/vehicles?held=maybe", 422),
        ("/api/vehicles?since=yesterday", 422),
        ("/api/vehicles?since=2026-01-01T00:00:00", 422),  # no time zone
        ("/api/vehicles?plate=" + "粤" * 17, 422),
        ("/api/vehicles/not-a-uuid", 422),
        (f"/api/vehicles/{uuid.uuid4()}", 404),
    ]:
        assert api.get(path, headers=headers).status_code == code, path


def test_the_vehicle_list_needs_a_login(api: TestClient) -> None:
    assert api.get("/api/vehicles").status_code == 401
