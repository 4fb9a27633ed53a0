"""SqlLedgerLookup and the ledger repository on SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import UTC, date, datetime

from hub.ledger.lookup import SqlLedgerLookup
from hub.ledger.repository import LedgerRepository
from hub.match.ledger import LedgerLookup, ResidentView
from hub.store.db import Store
from models.events import CodeColour
from models.identity import holder_ref, mask_id_number
from models.ledger import Address, Grid, GridWorker, Group, HouseholdState, Resident
from tests.hub.test_ledger_import import KEY

ALICE_ID = "11010519491231002X"
TESTED = datetime(2022, 11, 19, 1, 30, tzinfo=UTC)


def _fill(store: Store) -> None:
    with store.transaction() as session:
        repo = LedgerRepository(session)
        repo.upsert_grids([Grid(grid_id="grid-1", name="新塘里第1网格", community="新塘社区")])
        repo.upsert_workers(
            [GridWorker(worker_id="w-1", name="李网格", phone="13800000000", grid_ids=["grid-1"])],
            channels={"w-1": {"sms": "13800000000"}},
        )
        repo.upsert_addresses(
            [Address(address_code="XTL-001", street="新塘里", number="1", grid_id="grid-1")]
        )
        repo.set_households({"XTL-001": HouseholdState.OCCUPIED})
        repo.upsert_sites(
            [
                {
                    "site_id": "site-a",
                    "name": "新塘里1号小区",
                    "kind": "compound",
                    "grid_id": "grid-1",
                }
            ]
        )
        repo.upsert_gates(
            [{"gate_id": "gate-1", "site_id": "site-a", "name": "东门", "direction": "entry"}]
        )
        repo.upsert_residents(
            [
                Resident(
                    resident_id="r-alice",
                    holder_ref=holder_ref(ALICE_ID, KEY),
                    id_masked=mask_id_number(ALICE_ID),
                    name="王丽",
                    address_code="XTL-001",
                    quarantine_until=date(2022, 11, 25),
                    key_area_returnee=True,
                    code_colour=CodeColour.YELLOW,
                    last_test_at=TESTED,
                ),
                Resident(
                    resident_id="r-bob",
                    holder_ref=holder_ref("110105194912310021", KEY),
                    id_masked=mask_id_number("110105194912310021"),
                    name="赵强",
                ),
            ]
        )
        repo.upsert_group(
            Group(
                group_id="market",
                name="菜场",
                admin_resident_id="r-alice",
                member_ids=["r-alice", "r-bob"],
            )
        )


def test_lookup_returns_resident_views(store: Store) -> None:
    _fill(store)
    alice = ResidentView(
        resident_id="r-alice",
        name="王丽",
        address_code="XTL-001",
        grid_id="grid-1",
        quarantine_until=date(2022, 11, 25),
        key_area_returnee=True,
        code_colour=CodeColour.YELLOW,
        last_test_at=TESTED,
    )
    with store.sessions() as session:
        lookup: LedgerLookup = SqlLedgerLookup(session)
        assert lookup.resident("r-alice") == alice
        assert lookup.resident_by_holder(holder_ref(ALICE_ID, KEY)) == alice
        assert lookup.resident_by_holder(holder_ref(ALICE_ID, b"another-key-0123456789")) is None
        bob = lookup.resident("r-bob")
        assert bob == ResidentView("r-bob", "赵强", None, None)
        assert lookup.resident("r-nobody") is None
        assert lookup.address_grid("XTL-001") == "grid-1"
        assert lookup.address_grid("XTL-404") is None
        assert lookup.site_grid("site-a") == "grid-1"
        assert lookup.site_grid("site-z") is None


def test_repository_upserts_are_idempotent(store: Store) -> None:
    _fill(store)
    with store.sessions() as session:
        before = LedgerRepository(session).counts()
    _fill(store)
    with store.transaction() as session:
        repo = LedgerRepository(session)
        assert repo.counts() == before
        assert before["residents"] == 2 and before["groups"] == 1
        again = repo.upsert_grids(
            [Grid(grid_id="grid-1", name="新塘里第1网格", community="新塘社区")]
        )
        assert (again.inserted, again.updated, again.unchanged) == (0, 0, 1)
        renamed = repo.upsert_grids(
            [Grid(grid_id="grid-1", name="新塘里一网格", community="新塘社区")]
        )
        assert renamed.updated == 1
        alice = repo.resident_by_holder(holder_ref(ALICE_ID, KEY))
        assert alice is not None and alice.resident_id == "r-alice"
