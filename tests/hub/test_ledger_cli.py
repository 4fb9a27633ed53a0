"""``gridgate-hub ledger`` import, export and stats, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select
from typer.testing import CliRunner

from hub.cli import app
from hub.ledger.repository import LedgerRepository
from hub.ledger.sample import RESIDENT_HEADERS, write_csv
from hub.store.db import Store
from hub.store.ledger_tables import ResidentRow
from tests.hub.test_ledger_import import KEY, SAMPLE, read_errors, seeded


def test_import_export_stats(db_url: str, tmp_path: Path) -> None:
    store = seeded(Store.open(db_url))
    store.close()
    key_file = tmp_path / "identity.key"
    key_file.write_bytes(KEY + b"\n")
    rows = [dict(row) for row in SAMPLE.residents[:10]]
    rows[4]["name"] = ""
    residents = write_csv(tmp_path / "residents.csv", rows, encoding="gbk")
    runner = CliRunner()
    common = ["--database-url", db_url]
    result = runner.invoke(
        app,
        ["ledger", "import", "residents", str(residents), "--identity-key", str(key_file), *common],
    )
    assert result.exit_code == 1, result.output
    errors = tmp_path / "residents.csv.errors.csv"
    assert [(e["row"], e["column"]) for e in read_errors(errors)] == [("6", "姓名")]

    out = tmp_path / "export.xlsx"
    result = runner.invoke(
        app, ["ledger", "export", "residents", str(out), "--mask-names", *common]
    )
    assert result.exit_code == 0, result.output
    assert out.stat().st_size > 0

    result = runner.invoke(app, ["ledger", "stats", *common])
    assert result.exit_code == 0, result.output
    assert "residents" in result.output and " 9 " in result.output


def test_import_without_identity_key_fails_cleanly(
    db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("GRIDGATE_HUB_IDENTITY_KEY", raising=False)
    monkeypatch.setenv("GRIDGATE_HUB_SECRET_KEY", "s" * 40)
    residents = write_csv(tmp_path / "residents.csv", SAMPLE.residents[:2])
    result = CliRunner().invoke(
        app, ["ledger", "import", "residents", str(residents), "--database-url", db_url]
    )
    assert result.exit_code == 2
    assert "GRIDGATE_HUB_IDENTITY_KEY or --identity-key" in result.output


def _messy_rows(first: int) -> list[list[str]]:
    """A residents file from ``SAMPLE.residents[first:]``: three good rows, a duplicate ID and
    five kinds of broken rows (the comments give the file's row numbers)."""
    fields = list(RESIDENT_HEADERS)
    people = SAMPLE.residents[first : first + 6]
    original = people[2]["id_number"]
    wrong = original[:-1] + ("0" if original[-1] != "0" else "1")
    return [
        list(RESIDENT_HEADERS.values()),  # row 1: the header
        [people[0][f] for f in fields],  # row 2
        [people[1][f] for f in fields],  # row 3
        [dict(people[2], id_number=wrong)[f] for f in fields],  # row 4: bad check digit
        [dict(people[3], name="")[f] for f in fields],  # row 5: no name
        [dict(people[1], name="冒名顶替")[f] for f in fields],  # row 6: row 3's ID again
        [dict(people[4], last_test_at="2022-13-45")[f] for f in fields],  # row 7
        [people[5]["id_number"], "张三", "只有三列"],  # row 8: short
        [people[2][f] for f in fields],  # row 9
        [dict(people[5], grid_id="G9999")[f] for f in fields],  # row 10
    ]


def test_cli_import_of_utf8_bom_and_gbk_files_reports_rows_and_reruns_unchanged(
    db_url: str, tmp_path: Path
) -> None:
    store = seeded(Store.open(db_url))
    store.close()
    key_file = tmp_path / "identity.key"
    key_file.write_bytes(KEY + b"\n")
    files = {"utf-8-sig": _messy_rows(20), "gbk": _messy_rows(30)}
    paths = []
    for encoding, rows in files.items():
        path = tmp_path / f"residents-{encoding}.csv"
        with path.open("w", encoding=encoding, newline="") as out:
            csv.writer(out).writerows(rows)
        assert path.read_bytes().startswith(b"\xef\xbb\xbf") is (encoding == "utf-8-sig")
        paths.append(path)
    runner = CliRunner()
    common = ["--identity-key", str(key_file), "--database-url", db_url]
    expected: list[tuple[str, str, str | None]] = [  # None: any reason
        ("4", "身份证号", "wrong check digit"),
        ("5", "姓名", None),
        ("6", "身份证号", "duplicate of row 3"),
        ("7", "最近核酸", None),
        ("8", "", f"expected {len(RESIDENT_HEADERS)} columns, got 3"),
        ("10", "网格", "unknown grid 'G9999'"),
    ]

    def run_all() -> dict[str, list[dict[str, str]]]:
        reports = {}
        for path in paths:
            result = runner.invoke(app, ["ledger", "import", "residents", str(path), *common])
            assert result.exit_code == 1, result.output  # rows were refused
            reports[path.name] = read_errors(path.with_name(path.name + ".errors.csv"))
        return reports

    def stored() -> tuple[dict[str, int], set[str]]:
        again = Store.open(db_url)
        try:
            with again.sessions() as session:
                names = set(session.scalars(select(ResidentRow.name)))
                return LedgerRepository(session).counts(), names
        finally:
            again.close()

    first = run_all()
    for name, errors in first.items():
        assert [(e["row"], e["column"]) for e in errors] == [x[:2] for x in expected], name
        for error, (_, _, reason) in zip(errors, expected, strict=True):
            assert error["reason"] == reason if reason else error["reason"], (name, error)
        wrong = files["gbk" if "gbk" in name else "utf-8-sig"][3][0]
        assert wrong not in {e["value"] for e in errors}, name  # ID numbers only masked
    counts, names = stored()
    assert counts["residents"] == 6  # three good rows per file
    at = list(RESIDENT_HEADERS).index("name")
    good = {rows[row][at] for rows in files.values() for row in (1, 2, 8)}
    assert names == good  # not the impostor of row 6, none of the broken rows
    assert run_all() == first
    assert stored() == (counts, names)
