"""Ledger import on SQLite and PostgreSQL: encodings, XLSX, row errors, idempotency, privacy."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest
import yaml
from openpyxl import Workbook, load_workbook  # type: ignore[import-untyped]
from sqlalchemy import JSON, String, Text, func, select
from stdnum.cn import ric

from hub.ledger import front
from hub.ledger.exporter import export_file
from hub.ledger.importer import ImportReport, import_file
from hub.ledger.kinds import LedgerKind
from hub.ledger.loaders import Batch
from hub.ledger.mapping import ImportOptions, MappingError
from hub.ledger.repository import LedgerRepository, upsert_resident_values
from hub.ledger.sample import RESIDENT_HEADERS, Sample, generate, load, write_csv
from hub.ledger.writer import BatchWriter
from hub.store.db import Store
from hub.store.ledger_tables import AddressRow, HouseholdRow, ResidentRow, VehiclePlateRow
from hub.store.tables import Base
from models.identity import holder_ref, mask_id_number, resident_id_for

KEY = b"test-identity-key-0123456789abcdef"
SAMPLE = generate(60, seed=7)


def reference_only(sample: Sample = SAMPLE) -> Sample:
    """The sample's grids, workers, sites and gates, without residents."""
    return Sample(
        grids=sample.grids, workers=sample.workers, sites=sample.sites, gates=sample.gates
    )


def seeded(store: Store) -> Store:
    """``store`` with the sample's grids, workers and sites loaded."""
    load(store, reference_only(), KEY)
    return store


def import_residents(store: Store, path: Path, **kwargs: Any) -> ImportReport:
    """Import a residents file with the test key."""
    return import_file(store, LedgerKind.RESIDENTS, path, identity_key=KEY, **kwargs)


def count(store: Store, row_class: Any) -> int:
    """Rows in a table."""
    with store.sessions() as session:
        return session.scalar(select(func.count()).select_from(row_class)) or 0


def read_errors(path: Path) -> list[dict[str, str]]:
    """The error report's rows."""
    with path.open(encoding="utf-8-sig", newline="") as handle:
        return list(csv.DictReader(handle))


def valid_id(body: str) -> str:
    """An ID number with the right check digit for a 17-digit body."""
    return body + ric.calc_check_digit(body + "0")


@pytest.fixture
def ledger(store: Store) -> Store:
    """A migrated store holding the sample's grids, workers and sites."""
    return seeded(store)


@pytest.mark.parametrize(
    ("encoding", "detected"),
    [("utf-8", "utf-8"), ("utf-8-sig", "utf-8-sig"), ("gbk", "gb18030")],
)
def test_csv_in_every_encoding_lands(
    ledger: Store, tmp_path: Path, encoding: str, detected: str
) -> None:
    path = write_csv(tmp_path / "residents.csv", SAMPLE.residents, encoding=encoding)
    report = import_residents(ledger, path)
    assert report.encoding == detected
    assert report.errors == []
    assert report.counts.inserted == report.rows == len(SAMPLE.residents)
    first = SAMPLE.residents[0]
    with ledger.sessions() as session:
        stored = LedgerRepository(session).resident_by_holder(holder_ref(first["id_number"], KEY))
        assert stored is not None
        assert stored.name == first["name"]
        assert stored.id_masked == first["id_number"][:3] + "*" * 11 + first["id_number"][-4:]
        address = session.get(AddressRow, first["address_code"])
        assert address is not None and address.street == first["street"]


def test_xlsx_with_typed_cells_lands(ledger: Store, tmp_path: Path) -> None:
    book = Workbook()
    sheet = book.active
    sheet.append(["姓名", "身份证号", "电话", "地址编码", "网格", "最近核酸", "隔离截止", "车牌"])
    rows = SAMPLE.residents[:5]
    for i, row in enumerate(rows):
        sheet.append(
            [
                row["name"],
                row["id_number"],
                int(row["phone"]),
                row["address_code"],
                row["grid_id"],
                datetime(2022, 11, 19, 8, 30),
                date(2022, 11, 25) if i == 0 else None,
                "沪A·12345" if i == 0 else None,
            ]
        )
    path = tmp_path / "residents.xlsx"
    book.save(path)
    load(ledger, SAMPLE, KEY)  # the addresses exist already
    report = import_residents(ledger, path)
    assert report.errors == []
    assert report.counts.updated == 5  # the XLSX gives a different test time and more
    with ledger.sessions() as session:
        first = LedgerRepository(session).resident_by_holder(holder_ref(rows[0]["id_number"], KEY))
        assert first is not None
        assert first.last_test_at == datetime(2022, 11, 19, 0, 30, tzinfo=UTC)  # 08:30 CST
        assert first.quarantine_until == date(2022, 11, 25)
        assert first.phone == rows[0]["phone"]
        plate = session.get(VehiclePlateRow, "沪A12345")
        assert plate is not None and plate.resident_id == first.resident_id


def _broken_file(path: Path) -> list[list[str]]:
    fields = list(RESIDENT_HEADERS)
    good = SAMPLE.residents[:3]
    original = good[0]["id_number"]
    wrong = original[:-1] + ("0" if original[-1] != "0" else "1")
    rows: list[list[str]] = [
        list(RESIDENT_HEADERS.values()),  # row 1
        [good[0][f] for f in fields],  # row 2
        [dict(good[0], id_number=wrong)[f] for f in fields],  # row 3: bad check digit
        [dict(SAMPLE.residents[10], name="")[f] for f in fields],  # row 4: no name
        [dict(SAMPLE.residents[11], last_test_at="2022-13-45")[f] for f in fields],  # row 5
        [dict(SAMPLE.residents[12], grid_id="G9999")[f] for f in fields],  # row 6
        [good[1][f] for f in fields],  # row 7
        [dict(SAMPLE.residents[13], key_area_returnee="maybe")[f] for f in fields],  # row 8
        [SAMPLE.residents[14]["id_number"], "张三", "only three"],  # row 9: short
        [dict(SAMPLE.residents[15], address_code="NOPE-0001", street="")[f] for f in fields],
        [good[2][f] for f in fields],  # row 11
    ]
    with path.open("w", encoding="utf-8", newline="") as out:
        csv.writer(out).writerows(rows)
    return rows


def test_broken_rows_are_reported_and_good_rows_land(ledger: Store, tmp_path: Path) -> None:
    path = tmp_path / "residents.csv"
    broken = _broken_file(path)
    errors = tmp_path / "errors.csv"
    report = import_residents(ledger, path, errors_path=errors)
    assert report.counts.inserted == 3
    assert report.failed_rows == 7
    found = {(int(e["row"]), e["column"]): e for e in read_errors(errors)}
    wrong = broken[2][0]
    assert found[(3, "身份证号")]["reason"] == "wrong check digit"
    assert found[(3, "身份证号")]["value"] == wrong[:3] + "*" * 11 + wrong[-4:]
    assert (4, "姓名") in found
    assert (5, "最近核酸") in found
    assert found[(6, "网格")]["reason"] == "unknown grid 'G9999'"
    assert (8, "重点地区返回") in found
    assert found[(9, "")]["reason"] == "expected 16 columns, got 3"
    assert found[(10, "地址编码")]["reason"] == "unknown address"
    assert len(found) == 7
    assert [e.row for e in report.errors] == sorted(e.row for e in report.errors)
    assert count(ledger, ResidentRow) == 3


def test_rerun_changes_nothing_and_a_changed_row_updates(ledger: Store, tmp_path: Path) -> None:
    path = write_csv(tmp_path / "residents.csv", SAMPLE.residents)
    first = import_residents(ledger, path)
    with ledger.sessions() as session:
        before = {r.resident_id: r.updated_at for r in session.scalars(select(ResidentRow))}
    again = import_residents(ledger, path)
    assert (again.counts.inserted, again.counts.updated) == (0, 0)
    assert again.counts.unchanged == first.counts.inserted == len(SAMPLE.residents)
    assert {name: c.inserted + c.updated for name, c in again.related.items()} == {
        name: 0 for name in again.related
    }
    with ledger.sessions() as session:
        after = {r.resident_id: r.updated_at for r in session.scalars(select(ResidentRow))}
    assert after == before
    changed = [dict(row) for row in SAMPLE.residents]
    changed[5]["phone"] = "13900000000"
    third = import_residents(ledger, write_csv(tmp_path / "changed.csv", changed))
    assert (third.counts.inserted, third.counts.updated) == (0, 1)
    assert count(ledger, ResidentRow) == len(SAMPLE.residents)


def test_duplicate_id_in_one_file_is_reported_first_wins(ledger: Store, tmp_path: Path) -> None:
    rows = [dict(row) for row in SAMPLE.residents[:3]]
    twin = dict(rows[0], name="冒名", id_number=" " + rows[0]["id_number"].lower() + " ")
    path = write_csv(tmp_path / "residents.csv", [*rows, twin])
    report = import_residents(ledger, path)
    assert report.counts.inserted == 3
    assert [(e.row, e.column, e.reason) for e in report.errors] == [
        (5, "身份证号", "duplicate of row 2")
    ]
    assert "*" in report.errors[0].value
    with ledger.sessions() as session:
        kept = LedgerRepository(session).resident_by_holder(holder_ref(rows[0]["id_number"], KEY))
        assert kept is not None and kept.name == rows[0]["name"]


def _text_values(store: Store) -> list[str]:
    values: list[str] = []
    with store.sessions() as session:
        for table in Base.metadata.sorted_tables:
            columns = [c for c in table.c if isinstance(c.type, String | Text | JSON)]
            if not columns:
                continue
            for row in session.execute(select(*columns)):
                values.extend(str(value) for value in row if value is not None)
    return values


def test_id_numbers_never_reach_the_database_exports_or_error_report(
    ledger: Store, tmp_path: Path
) -> None:
    residents = [dict(row) for row in SAMPLE.residents]
    residents[3]["id_number"] = residents[3]["id_number"][:-1] + (
        "0" if residents[3]["id_number"][-1] != "0" else "1"
    )
    errors = tmp_path / "errors.csv"
    import_residents(ledger, write_csv(tmp_path / "r.csv", residents), errors_path=errors)
    secrets = {row["id_number"] for row in residents} | {row["id_number"][:17] for row in residents}
    stored = "\n".join(_text_values(ledger))
    assert SAMPLE.residents[0]["name"] in stored  # the scan does see the data
    assert not [s for s in secrets if s in stored]
    csv_out, xlsx_out = tmp_path / "out.csv", tmp_path / "out.xlsx"
    assert export_file(ledger, "residents", csv_out) == len(residents) - 1
    assert export_file(ledger, "residents", xlsx_out) == len(residents) - 1
    sheet = load_workbook(xlsx_out, read_only=True).worksheets[0]
    cells = "\n".join(str(v) for row in sheet.iter_rows(values_only=True) for v in row)
    for text in (csv_out.read_text(encoding="utf-8-sig"), cells, errors.read_text("utf-8-sig")):
        assert not [s for s in secrets if s in text]
    assert "身份证号(脱敏)" in cells


def test_mapping_file_renames_and_drops_columns(ledger: Store, tmp_path: Path) -> None:
    load(ledger, SAMPLE, KEY)
    path = tmp_path / "custom.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["户主姓名", "证件号码（必填）", "门牌码", "备注"])
        for row in SAMPLE.residents[:4]:
            writer.writerow([row["name"], row["id_number"], row["address_code"], "x"])
    mapping = tmp_path / "mapping.yaml"
    mapping.write_text(
        yaml.safe_dump({"mapping": {"户主姓名": "name", "备注": "-"}}, allow_unicode=True),
        encoding="utf-8",
    )
    report = import_residents(ledger, path, options=ImportOptions.from_yaml(mapping))
    assert report.errors == []
    assert report.ignored_columns == []  # 备注 is dropped on purpose
    assert report.counts.unchanged == 4  # same names and addresses; other fields untouched
    with pytest.raises(MappingError, match="id_number"):
        import_residents(ledger, path, options=ImportOptions(mapping={"证件号码": "-"}))
    with pytest.raises(MappingError, match="no such residents field"):
        import_residents(ledger, path, options=ImportOptions(mapping={"备注": "remark"}))


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_reference_kinds_round_trip_through_export(
    ledger: Store, tmp_path: Path, suffix: str
) -> None:
    load(ledger, SAMPLE, KEY)
    for kind in ("grids", "workers", "sites", "addresses"):
        path = tmp_path / f"{kind}{suffix}"
        written = export_file(ledger, kind, path)
        assert written > 0
        report = import_file(ledger, kind, path)
        assert report.errors == [], kind
        assert (report.counts.unchanged, report.counts.inserted) == (written, 0), kind


def test_worker_rows_check_their_grids(ledger: Store, tmp_path: Path) -> None:
    path = tmp_path / "workers.csv"
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["工号", "姓名", "手机", "负责网格", "在岗", "通知渠道"])
        writer.writerow(["W-new", "钱多多", "13800000001", "G0001", "是", "sms:13800000001"])
        writer.writerow(["W-bad", "孙小美", "13800000002", "G0001、G0404", "否", ""])
    report = import_file(ledger, "workers", path)
    assert report.counts.inserted == 1
    assert [(e.row, e.column, e.value) for e in report.errors] == [(3, "负责网格", "G0404")]


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_processes_parse_the_same(ledger: Store, tmp_path: Path, workers: int) -> None:
    """One worker reads and checks the file by itself; more parse what this process reads."""
    rows = [dict(row) for row in SAMPLE.residents]
    rows[7]["name"] = ""
    rows.append(dict(rows[0]))
    path = write_csv(tmp_path / "residents.csv", rows)
    progress: list[tuple[int, int | None]] = []
    options = ImportOptions(workers=workers, batch_size=16)
    report = import_residents(
        ledger, path, options=options, progress=lambda done, total: progress.append((done, total))
    )
    assert report.counts.inserted == len(rows) - 2
    assert report.rows == len(rows)
    assert [(e.row, e.column) for e in report.errors] == [(9, "姓名"), (len(rows) + 1, "身份证号")]
    size = path.stat().st_size
    assert len(progress) > 2 and progress[-1] == (size, size)
    assert [done for done, _ in progress] == sorted(done for done, _ in progress)


def test_residents_occupy_unknown_households_and_leave_vacant_ones(
    ledger: Store, tmp_path: Path
) -> None:
    residents = SAMPLE.residents[:12]
    codes = sorted({row["address_code"] for row in residents})
    addresses = tmp_path / "addresses.csv"
    with addresses.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["地址编码", "街路巷", "门牌号", "网格", "房屋状态"])
        for i, code in enumerate(codes):
            row = next(r for r in residents if r["address_code"] == code)
            state = ("未知", "空置", "")[i % 3]
            writer.writerow([code, row["street"], row["number"], row["grid_id"], state])
    assert import_file(ledger, "addresses", addresses).errors == []
    report = import_residents(ledger, write_csv(tmp_path / "residents.csv", residents))
    assert report.errors == [] and report.counts.inserted == len(residents)
    with ledger.sessions() as session:
        states = {h.address_code: h.state for h in session.scalars(select(HouseholdRow))}
    assert states == {code: ("occupied", "vacant")[i % 3 == 1] for i, code in enumerate(codes)}


def _resident_values(number: str, name: str) -> dict[str, Any]:
    """Prepared resident values of an ID number without an address."""
    ref = holder_ref(number, KEY)
    return {
        "holder_ref": ref,
        "resident_id": resident_id_for(ref),
        "id_masked": mask_id_number(number),
        "name": name,
        "phone": "",
        "address_code": None,
        "role": "resident",
        "quarantine_until": None,
        "key_area_returnee": False,
        "code_colour": None,
        "last_test_at": None,
    }


def test_new_keys_fall_back_to_the_upsert_when_one_is_stored(ledger: Store) -> None:
    """A first import inserts without lookups (PostgreSQL); a resident stored meanwhile
    (say by a kiosk approval) turns that batch into the usual upsert, same counts."""
    first = _resident_values(valid_id("11010519491231002"), "甲")
    second = _resident_values(valid_id("11010519500101001"), "乙")
    assert count(ledger, ResidentRow) == 0
    with ledger.transaction() as session:
        assert upsert_resident_values(session, [first], new_keys=True).inserted == 1
    assert count(ledger, ResidentRow) == 1
    with ledger.transaction() as session:
        counts = upsert_resident_values(session, [dict(first, name="丙"), second], new_keys=True)
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 0)
    with ledger.sessions() as session:
        names = {r.holder_ref: r.name for r in session.scalars(select(ResidentRow))}
    assert names == {first["holder_ref"]: "丙", second["holder_ref"]: "乙"}


def test_first_batches_are_small_so_writing_starts_early(
    ledger: Store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Batches grow from one read step to ``batch_size``: the writer starts after the first
    step instead of idling until a whole batch is read."""
    sizes: list[int] = []
    submit = BatchWriter.submit

    def recording(writer: BatchWriter, batch: Batch) -> None:
        sizes.append(len(batch))
        submit(writer, batch)

    monkeypatch.setattr(front, "READ_ROWS", 4)
    monkeypatch.setattr(BatchWriter, "submit", recording)
    path = write_csv(tmp_path / "residents.csv", SAMPLE.residents)
    report = import_residents(ledger, path, options=ImportOptions(workers=0, batch_size=20))
    assert report.counts.inserted == len(SAMPLE.residents) == 60
    assert sizes == [4, 8, 16, 20, 12]
