"""Alert propagation gate → building → grid → community: each alert records its scope, and
the list, the rollup and the live stream filter by it (a grid worker still sees only their
grids). Also the migration that backfills the scope of alerts raised before it."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
import uvicorn
from fastapi.testclient import TestClient
from sqlalchemy import Integer, String, Uuid, column, insert, select, table
from sqlalchemy import event as sa_event
from sqlalchemy.pool import QueuePool

from hub.alerts.effects import AlertEffects
from hub.alerts.lifecycle import acknowledge, resolve
from hub.alerts.repository import building_key, flush_audit, raise_or_repeat
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.broker import free_port
from hub.config import HubSettings
from hub.ledger.lookup import SqlLedgerLookup
from hub.match.faces import FaceIndex
from hub.push.sse import SseBroadcaster
from hub.rules.engine import AlertDraft
from hub.store.alert_tables import AlertRow
from hub.store.db import Store
from hub.store.ledger_tables import (
    AddressRow,
    GridRow,
    GridWorkerRow,
    ResidentRow,
    SiteRow,
    worker_grids,
)
from hub.store.migrate import upgrade
from hub.store.types import UTCDateTime
from models.alerts import Alert, AlertRule, Resolution, Severity
from models.base import new_id, utc_now
from models.events import (
    CodeColour,
    DoorPlateObservation,
    FaceObservation,
    HealthCodeFormat,
    HealthCodeObservation,
    Observation,
    PassageEvent,
    VerificationStatus,
)
from tests.edge.helpers import wait_for
from tests.hub.conftest import TEST_SECRET
from tests.support.factories import passage_of
from tests.support.logins import add_login, bearer

XINTANG_3 = "新塘里96号 3栋"
XINTANG_5 = "新塘里96号 5栋"
JIANGNAN = "江南路8号"  # an address with no building number
GRIDS = [("G-A", "新塘社区", "W-A"), ("G-B", "江南社区", "W-B")]
ADDRESSES = [  # code, street, number, building, grid
    ("ADDR-3", "新塘里", "96", "3", "G-A"),
    ("ADDR-5", "新塘里", "96", "5", "G-A"),
    ("ADDR-8", "江南路", "8", "", "G-B"),
]
RESIDENTS = [("r-li", "h:li", "ADDR-3"), ("r-zhao", "h:zhao", "ADDR-8"), ("r-qian", "h:qian", None)]


def _seed(store: Store) -> None:
    """Two grids in two communities, three addresses, three residents, one site in G-A."""
    now = utc_now()
    with store.transaction() as session:
        for grid_id, community, worker_id in GRIDS:
            session.add(GridWorkerRow(worker_id=worker_id, name=worker_id, channels={}))
            session.flush()
            session.add(
                GridRow(grid_id=grid_id, name=grid_id, community=community, leader_worker_id=None)
            )
            session.flush()
            session.execute(insert(worker_grids).values(worker_id=worker_id, grid_id=grid_id))
        session.add(SiteRow(site_id="site-a", name="新塘小区", kind="compound", grid_id="G-A"))
        for code, street, number, building, grid_id in ADDRESSES:
            session.add(
                AddressRow(
                    address_code=code,
                    street=street,
                    number=number,
                    building=building,
                    unit="1",
                    room="101",
                    grid_id=grid_id,
                )
            )
        session.flush()
        for resident_id, holder, address in RESIDENTS:
            session.add(
                ResidentRow(
                    resident_id=resident_id,
                    holder_ref=holder,
                    id_masked="1101**********0011",
                    name=resident_id,
                    address_code=address,
                    role="resident",
                    last_test_at=now,
                    created_at=now,
                    updated_at=now,
                )
            )


def _event(gate: str, *observations: Observation) -> PassageEvent:
    return passage_of(*observations, gate_id=gate)


def _red(holder: str) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=VerificationStatus.VALID,
        colour=CodeColour.RED,
        holder_ref=holder,
        seen_at=utc_now(),
    )


def _stranger(seed: int) -> FaceObservation:
    vector = np.random.default_rng(seed).normal(0, 0.1, 128)
    return FaceObservation(
        track_id=1, encoding=[float(v) for v in vector], quality=0.7, seen_at=utc_now()
    )


def _plate(code: str) -> DoorPlateObservation:
    return DoorPlateObservation(address_code=code, seen_at=utc_now())


class Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def test_ingest_records_the_building_and_community_of_each_alert(store: Store) -> None:
    """The resident's address gives the building, else the door plate shown; the grid gives
    the community. The pushed alerts carry both; one unknown is left out of the payload."""
    _seed(store)
    sink = Sink()
    effects = AlertEffects(ledger=SqlLedgerLookup, faces=FaceIndex(), sink=sink)
    events = [
        _event("north", _red("h:li"), _plate("ADDR-8")),  # the resident's address wins
        _event("south", _stranger(1), _plate("ADDR-8")),  # a stranger: the door plate's
        _event("west", _stranger(2)),  # nothing to place it: the site's grid only
        _event("east", _red("h:qian")),  # a resident with no address on record
        _event("north", _red("h:li")),  # a repeat keeps the scope
    ]
    with store.transaction() as session:
        effects.apply_many(session, events)
    scope = {(a.gate_id, a.rule): (a.building, a.grid_id, a.community) for a in sink.alerts}
    assert scope == {
        ("north", AlertRule.RED_CODE): (XINTANG_3, "G-A", "新塘社区"),
        ("north", AlertRule.ADDRESS_MISMATCH): (XINTANG_3, "G-A", "新塘社区"),
        ("south", AlertRule.UNREGISTERED_PERSON): (JIANGNAN, "G-B", "江南社区"),
        ("west", AlertRule.UNREGISTERED_PERSON): (None, "G-A", "新塘社区"),
        ("east", AlertRule.RED_CODE): (None, "G-A", "新塘社区"),
    }
    repeated = [a for a in sink.alerts if a.repeat_count == 2]
    assert [(a.rule, a.building) for a in repeated] == [(AlertRule.RED_CODE, XINTANG_3)]
    with store.transaction() as session:
        stored = {(r.gate_id, r.rule): (r.building, r.community) for r in session.scalars(
            select(AlertRow).where(AlertRow.rule == str(AlertRule.UNREGISTERED_PERSON))
        )}  # fmt: skip
    assert stored == {("south", "unregistered_person"): (JIANGNAN, "江南社区"),
                      ("west", "unregistered_person"): (None, "新塘社区")}  # fmt: skip
    west = next(a for a in sink.alerts if a.gate_id == "west")
    payload = json.loads(west.model_dump_json())
    assert "building" not in payload and payload["community"] == "新塘社区"
    assert Alert.model_validate(payload) == west


def test_a_batch_reads_the_scope_of_its_new_alerts_in_one_query(store: Store) -> None:
    """No query per event: however many alerts a batch opens, their buildings and
    communities come in one round trip (and a batch of repeats needs none)."""
    _seed(store)
    effects = AlertEffects(ledger=SqlLedgerLookup, faces=FaceIndex())
    statements: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        statements.append(statement)

    sa_event.listen(store.engine, "before_cursor_execute", note)
    reds = [_event("north", _red("h:li")), _event("east", _red("h:zhao"))]
    try:
        with store.transaction() as session:
            effects.apply_many(
                session, [_event(f"g{i}", _stranger(100 + i), _plate("ADDR-5")) for i in range(20)]
            )
            effects.apply_many(session, reds)  # a second batch in the same transaction
        opened = [s for s in statements if "UNION ALL" in s and "grids" in s]
        statements.clear()
        with store.transaction() as session:
            effects.apply_many(session, reds)  # repeats only: their scope is known
        repeated = [s for s in statements if "UNION ALL" in s and "grids" in s]
    finally:
        sa_event.remove(store.engine, "before_cursor_execute", note)
    assert (len(opened), len(repeated)) == (2, 0)
    with store.transaction() as session:
        rows = session.scalars(select(AlertRow)).all()
    assert len(rows) == 22
    assert {r.building for r in rows if r.rule == "unregistered_person"} == {XINTANG_5}
    assert {r.building for r in rows if r.rule == "red_code"} == {XINTANG_3, JIANGNAN}
    assert {r.repeat_count for r in rows if r.rule == "red_code"} == {2}


def _raise(store: Store, gate: str, grid: str, subject: str, **where: str | None) -> AlertRow:
    """An alert through the real repository (resident_id / address_code place it)."""
    with store.transaction() as session:
        row = raise_or_repeat(
            session,
            AlertDraft(
                rule=AlertRule.UNREGISTERED_PERSON,
                severity=Severity(where.pop("severity", None) or "major"),
                subject_ref=subject,
                grid_id=grid,
                summary=f"seen at {gate}",
                resident_id=where.get("resident_id"),
            ),
            site_id="site-a",
            gate_id=gate,
            event_id=new_id(),
            now=utc_now(),
            address_code=where.get("address_code"),
        )
        flush_audit(session)
        return row


@pytest.fixture
def scoped(store: Store, tmp_path: Path) -> Iterator[tuple[TestClient, dict[str, AlertRow]]]:
    """Five alerts over two grids, two communities, three buildings; one of them resolved."""
    _seed(store)
    add_login(store, "ops")
    add_login(store, "wang", Role.GRID_WORKER, worker_id="W-A")
    alerts = {
        "li": _raise(store, "north", "G-A", "r-li", resident_id="r-li", severity="critical"),
        "a5": _raise(store, "north", "G-A", "face:1", address_code="ADDR-5"),
        "a5b": _raise(store, "south", "G-A", "face:2", address_code="ADDR-5", severity="minor"),
        "b8": _raise(store, "south", "G-B", "face:3", address_code="ADDR-8"),
        "gone": _raise(store, "south", "G-B", "face:4", address_code="ADDR-8"),
    }
    with store.transaction() as session:
        row = session.get(AlertRow, alerts["gone"].alert_id)
        assert row is not None
        acknowledge(session, row, "ops", utc_now())
        resolve(session, row, "ops", Resolution.FALSE_ALARM, utc_now())
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    with TestClient(create_app(settings, store)) as client:
        yield client, alerts


def test_the_list_filters_by_gate_building_grid_and_community(
    scoped: tuple[TestClient, dict[str, AlertRow]],
) -> None:
    client, alerts = scoped
    ops, wang = bearer(client, "ops"), bearer(client, "wang")
    names = {str(row.alert_id): name for name, row in alerts.items()}

    def listed(headers: dict[str, str], **params: Any) -> set[str]:
        response = client.get("/api/alerts", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return {names[a["alert_id"]] for a in response.json()}

    assert listed(ops, building=XINTANG_5) == {"a5", "a5b"}
    assert listed(ops, building=[XINTANG_3, JIANGNAN]) == {"li", "b8", "gone"}
    assert listed(ops, community="江南社区") == {"b8", "gone"}
    assert listed(ops, gate_id="south", community="新塘社区") == {"a5b"}
    assert listed(ops, grid_id="G-B", active=True) == {"b8"}
    assert listed(ops, grid="G-A") == {"li", "a5", "a5b"}  # the older name still works
    assert listed(ops, building="no such building") == set()
    # a grid worker asking beyond their grids gets nothing more
    assert listed(wang) == {"li", "a5", "a5b"}
    assert listed(wang, community="江南社区") == set()
    assert listed(wang, grid_id=["G-A", "G-B"], gate_id="south") == {"a5b"}
    detail = client.get(f"/api/alerts/{alerts['li'].alert_id}", headers=ops).json()
    assert (detail["alert"]["building"], detail["alert"]["community"]) == (XINTANG_3, "新塘社区")


def test_the_rollup_counts_active_alerts_by_severity_per_level(
    scoped: tuple[TestClient, dict[str, AlertRow]],
) -> None:
    client, _ = scoped
    ops, wang = bearer(client, "ops"), bearer(client, "wang")

    def rollup(headers: dict[str, str], **params: Any) -> list[tuple[Any, ...]]:
        response = client.get("/api/alerts/rollup", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [
            (r["key"], r["critical"], r["major"], r["minor"], r["warning"], r["total"])
            for r in response.json()
        ]

    assert rollup(ops, level="building") == [  # most first; the resolved one is not counted
        (XINTANG_5, 0, 1, 1, 0, 2),
        (XINTANG_3, 1, 0, 0, 0, 1),
        (JIANGNAN, 0, 1, 0, 0, 1),
    ]
    assert rollup(ops, level="community") == [
        ("新塘社区", 1, 1, 1, 0, 3),
        ("江南社区", 0, 1, 0, 0, 1),
    ]
    assert rollup(ops, level="gate") == [("north", 1, 1, 0, 0, 2), ("south", 0, 1, 1, 0, 2)]
    assert rollup(ops, level="grid", community="江南社区") == [("G-B", 0, 1, 0, 0, 1)]
    assert rollup(wang, level="community") == [("新塘社区", 1, 1, 1, 0, 3)]
    assert rollup(wang, level="grid", grid_id="G-B") == []


def test_bad_scope_queries_are_refused(scoped: tuple[TestClient, dict[str, AlertRow]]) -> None:
    client, _ = scoped
    ops = bearer(client, "ops")
    refused = [
        ("/api/alerts/rollup", {}),  # no level
        ("/api/alerts/rollup", {"level": "street"}),
        ("/api/alerts", {"building": "栋" * 161}),
        ("/api/alerts", {"gate_id": ""}),
        ("/api/alerts", {"community": [f"c{i}" for i in range(51)]}),
        ("/api/alerts/rollup", {"level": "gate", "grid_id": "G" * 65}),
    ]
    for path, params in refused:
        response = client.get(path, params=params, headers=ops)
        assert response.status_code == 422, (path, params, response.text)
    assert client.get("/api/alerts/rollup", params={"level": "grid"}).status_code == 401


@pytest.fixture
def streaming(store: Store, tmp_path: Path) -> Iterator[tuple[str, SseBroadcaster]]:
    """The API served on a real port (SSE needs a streaming server) with its broadcaster."""
    _seed(store)
    add_login(store, "ops")
    add_login(store, "wang", Role.GRID_WORKER, worker_id="W-A")
    broadcaster = SseBroadcaster()
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    app = create_app(settings, store, alerts_stream=broadcaster)
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="error"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    wait_for(lambda: server.started, 15, "the API to listen")
    yield f"http://127.0.0.1:{port}", broadcaster
    server.should_exit = True
    thread.join(10)


def _wire(gate: str, grid: str, building: str | None, community: str | None) -> Alert:
    now = utc_now()
    return Alert(
        alert_id=new_id(),
        rule=AlertRule.UNREGISTERED_PERSON,
        severity=Severity.MAJOR,
        grid_id=grid,
        site_id="site-a",
        gate_id=gate,
        building=building,
        community=community,
        subject_ref=f"face:{gate}:{grid}",
        summary="unregistered face",
        raised_at=now,
        updated_at=now,
    )


def test_the_stream_takes_the_same_filters(
    streaming: tuple[str, SseBroadcaster], store: Store
) -> None:
    base, broadcaster = streaming
    api = httpx.Client(base_url=base, timeout=30)
    ops, wang = bearer(api, "ops"), bearer(api, "wang")
    listeners = {  # name: (caller, filters)
        "building": (ops, {"building": XINTANG_5}),
        "community": (ops, {"community": "江南社区", "gate_id": "south"}),
        "wang_b": (wang, {"community": "江南社区"}),
    }
    received: dict[str, list[Alert]] = {name: [] for name in listeners}
    opened = {name: threading.Event() for name in listeners}

    def listen(name: str) -> None:
        headers, params = listeners[name]
        with api.stream("GET", "/api/alerts/stream", headers=headers, params=params) as response:
            assert response.status_code == 200
            opened[name].set()
            for line in response.iter_lines():
                if line.startswith("data:"):
                    received[name].append(Alert.model_validate(json.loads(line[5:])))
                    return

    threads = [threading.Thread(target=listen, args=(n,), daemon=True) for n in listeners]
    for thread in threads:
        thread.start()
    assert all(event.wait(10) for event in opened.values())
    wait_for(lambda: broadcaster.subscribers == 3, 10, "every stream subscribed")
    pool = store.engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedout() == 0  # open streams hold none
    in_b_north = _wire("north", "G-B", JIANGNAN, "江南社区")
    in_b_south = _wire("south", "G-B", JIANGNAN, "江南社区")
    in_a5 = _wire("south", "G-A", XINTANG_5, "新塘社区")
    for alert in (_wire("north", "G-A", None, "新塘社区"), in_b_north, in_b_south, in_a5):
        broadcaster.send(alert)
    for thread in threads[:2]:
        thread.join(15)
    assert [a.alert_id for a in received["building"]] == [in_a5.alert_id]
    assert [a.alert_id for a in received["community"]] == [in_b_south.alert_id]
    assert received["wang_b"] == []  # G-B is not wang's grid: nothing, whatever the filter


_OLD_TEXT = "active_key rule severity state grid_id site_id subject_ref resident_id summary"
OLD_SUBJECTS = [("r-li", "G-A", "r-li"), ("r-zhao", "G-B", "r-zhao"), ("face:9", "G-B", None)]
OLD_ALERTS = table(
    "alerts",
    *(column(name, String) for name in _OLD_TEXT.split()),
    column("alert_id", Uuid),
    column("repeat_count", Integer),
    column("raised_at", UTCDateTime),
    column("updated_at", UTCDateTime),
)


def test_the_migration_backfills_the_scope_of_earlier_alerts(db_url: str) -> None:
    """Alerts stored before 0017 get their grid's community, and the building of their
    resident's address where they have one."""
    upgrade(db_url, "0016")
    store = Store.open(db_url, migrate=False)
    try:
        _seed(store)
        now = datetime(2026, 11, 20, tzinfo=UTC)
        with store.engine.begin() as conn:  # the table as 0016 left it: no scope columns
            for subject, grid, resident in OLD_SUBJECTS:
                conn.execute(
                    insert(OLD_ALERTS).values(
                        alert_id=new_id(), active_key=f"red_code:{subject}", rule="red_code",
                        severity="critical", state="open", grid_id=grid, site_id="site-a",
                        subject_ref=subject, resident_id=resident, summary="old",
                        repeat_count=1, raised_at=now, updated_at=now,
                    )
                )  # fmt: skip
    finally:
        store.close()
    upgrade(db_url)
    store = Store.open(db_url)
    try:
        with store.transaction() as session:
            rows = session.scalars(select(AlertRow).order_by(AlertRow.subject_ref)).all()
            scope = [(r.subject_ref, r.building, r.community) for r in rows]
    finally:
        store.close()
    assert scope == [
        ("face:9", None, "江南社区"),
        ("r-li", XINTANG_3, "新塘社区"),
        ("r-zhao", JIANGNAN, "江南社区"),
    ]
    assert building_key("新塘里", "96", "3") == XINTANG_3  # what the migration wrote, in Python
