"""Foreign keys lifted for a first import and checked once after it (PostgreSQL).

The constraints must come back whatever happens: after the block, after an error in it,
and, when the importing process is killed, at the next ``Store.open``.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import event, insert, select, text
from sqlalchemy.exc import IntegrityError

from hub.ledger.importer import import_file
from hub.ledger.kinds import LedgerKind
from hub.ledger.repository import table
from hub.ledger.sample import generate, load, write_csv
from hub.store import foreign_keys
from hub.store.db import Store
from hub.store.foreign_keys import lifted_foreign_keys, restore_foreign_keys
from hub.store.ledger_tables import HouseholdRow, ResidentRow
from hub.store.tables import Base
from tests.hub.test_ledger_import import KEY, reference_only

REPO = Path(__file__).resolve().parents[2]
HOUSEHOLDS = table(HouseholdRow)
RESIDENTS = table(ResidentRow)
HOUSEHOLD_KEY = "fk_households_address_code_addresses"
RESIDENT_KEY = "fk_residents_address_code_addresses"


@pytest.fixture
def pg_store(pg_url: str) -> Iterator[Store]:
    """The migrated store on ``pg_url``."""
    store = Store.open(pg_url)
    yield store
    store.close()


def stored_keys(store: Store) -> dict[str, bool]:
    """Foreign key name → validated, as the database holds them in the store's schema."""
    with store.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT conname, convalidated FROM pg_constraint c "
                "JOIN pg_class t ON t.oid = c.conrelid "
                "WHERE contype = 'f' AND t.relnamespace = to_regnamespace(current_schema())"
            )
        )
        return {str(name): bool(valid) for name, valid in rows}


def defined_keys() -> set[str]:
    """Every foreign key the tables' definitions have."""
    return {str(fk.name) for t in Base.metadata.sorted_tables for fk in t.foreign_key_constraints}


def add_orphan_household(store: Store, code: str = "NO-SUCH-ADDRESS") -> None:
    with store.transaction() as session:
        session.execute(insert(HOUSEHOLDS).values(address_code=code, state="vacant"))


def test_a_migrated_database_has_every_key_validated(pg_store: Store) -> None:
    assert stored_keys(pg_store) == dict.fromkeys(defined_keys(), True)
    restored = restore_foreign_keys(pg_store.engine)
    assert (restored.names, restored.invalid) == ([], [])


def test_lifted_for_the_block_then_back_and_enforced(pg_store: Store) -> None:
    with lifted_foreign_keys(pg_store.engine, [RESIDENTS, HOUSEHOLDS]) as lifted:
        assert sorted(lifted.names) == [HOUSEHOLD_KEY, RESIDENT_KEY]
        assert not {HOUSEHOLD_KEY, RESIDENT_KEY} & set(stored_keys(pg_store))
    assert lifted.invalid == []
    assert stored_keys(pg_store) == dict.fromkeys(defined_keys(), True)
    with pytest.raises(IntegrityError):
        add_orphan_household(pg_store)


def test_rows_breaking_a_lifted_key_are_reported_and_new_ones_still_refused(
    pg_store: Store,
) -> None:
    with lifted_foreign_keys(pg_store.engine, [HOUSEHOLDS]) as lifted:
        add_orphan_household(pg_store)  # accepted: the key is lifted
    assert lifted.invalid == [HOUSEHOLD_KEY]
    assert stored_keys(pg_store)[HOUSEHOLD_KEY] is False  # back, but NOT VALID
    with pytest.raises(IntegrityError):
        add_orphan_household(pg_store, "ANOTHER-MISSING-ADDRESS")
    with pg_store.transaction() as session:  # mended: the next restore validates it
        session.execute(HOUSEHOLDS.delete())
    assert restore_foreign_keys(pg_store.engine).invalid == []
    assert stored_keys(pg_store)[HOUSEHOLD_KEY] is True


def test_restored_when_the_block_fails(pg_store: Store) -> None:
    with pytest.raises(RuntimeError), lifted_foreign_keys(pg_store.engine, [RESIDENTS]):
        assert RESIDENT_KEY not in stored_keys(pg_store)
        raise RuntimeError("the import broke")
    assert stored_keys(pg_store)[RESIDENT_KEY] is True


def test_busy_tables_are_not_lifted(pg_store: Store, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(foreign_keys, "LOCK_TIMEOUT", "200ms")
    with pg_store.engine.connect() as reader:
        reader.execute(select(RESIDENTS).limit(1))  # a reader's open transaction holds a lock
        with lifted_foreign_keys(pg_store.engine, [RESIDENTS]) as lifted:
            assert lifted.names == []
            assert RESIDENT_KEY in stored_keys(pg_store)
        reader.rollback()


def test_sqlite_keeps_its_keys(tmp_path: Path) -> None:
    store = Store.open(f"sqlite:///{tmp_path / 'hub.db'}")
    try:
        with lifted_foreign_keys(store.engine, [HOUSEHOLDS]) as lifted:
            assert lifted.names == []
            with pytest.raises(IntegrityError):
                add_orphan_household(store)
    finally:
        store.close()


def test_a_first_import_lifts_the_keys_and_a_rerun_does_not(
    pg_store: Store, tmp_path: Path
) -> None:
    sample = generate(200, seed=11)
    load(pg_store, reference_only(sample), KEY)
    path = write_csv(tmp_path / "residents.csv", sample.residents)
    statements: list[str] = []
    event.listen(pg_store.engine, "before_cursor_execute", lambda *a: statements.append(a[2]))

    def drops() -> list[str]:
        return [s for s in statements if "DROP CONSTRAINT" in s]

    first = import_file(pg_store, LedgerKind.RESIDENTS, path, identity_key=KEY)
    assert first.counts.inserted == 200
    assert (first.errors, first.warnings) == ([], [])
    assert len(drops()) == 4  # residents, households, addresses and vehicle plates
    assert stored_keys(pg_store) == dict.fromkeys(defined_keys(), True)
    statements.clear()
    again = import_file(pg_store, LedgerKind.RESIDENTS, path, identity_key=KEY)
    assert again.counts.unchanged == 200
    assert drops() == []


KILLED_IMPORT = """
import sys
from pathlib import Path
from hub.ledger.importer import import_file
from hub.store.db import Store

store = Store.open(sys.argv[1])
print("importing", flush=True)
import_file(store, "residents", Path(sys.argv[2]), identity_key=sys.argv[3].encode())
"""


def test_an_import_killed_mid_way_gets_its_keys_back_at_the_next_open(
    pg_url: str, tmp_path: Path
) -> None:
    store = Store.open(pg_url)
    sample = generate(30_000, seed=3)
    path = write_csv(tmp_path / "residents.csv", sample.residents)
    try:
        load(store, reference_only(sample), KEY)
        proc = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(KILLED_IMPORT), pg_url, str(path), KEY.decode()],
            cwd=REPO,
            env={**os.environ, "PYTHONPATH": str(REPO)},
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 60
            while RESIDENT_KEY in stored_keys(store):
                assert proc.poll() is None, "the import ended before its keys were lifted"
                assert time.monotonic() < deadline, "the import never lifted its keys"
                time.sleep(0.02)
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            proc.wait(30)
        assert RESIDENT_KEY not in stored_keys(store)  # left lifted by the dead process
    finally:
        store.close()
    reopened = Store.open(pg_url)
    try:
        assert stored_keys(reopened) == dict.fromkeys(defined_keys(), True)
        report = import_file(reopened, LedgerKind.RESIDENTS, path, identity_key=KEY)
        assert report.errors == []
        assert report.counts.inserted + report.counts.unchanged == 30_000
        with reopened.sessions() as session:
            assert len(session.execute(select(RESIDENTS.c.resident_id)).all()) == 30_000
    finally:
        reopened.close()


def test_db_upgrade_puts_back_a_lifted_key(pg_store: Store, pg_url: str) -> None:
    with pg_store.transaction() as session:
        session.execute(text(f"ALTER TABLE residents DROP CONSTRAINT {RESIDENT_KEY}"))
    result = subprocess.run(
        [sys.executable, "-m", "hub.cli", "db", "upgrade", "--database-url", pg_url],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert f"restored foreign key {RESIDENT_KEY}\n" in result.stdout + result.stderr
    assert stored_keys(pg_store)[RESIDENT_KEY] is True
