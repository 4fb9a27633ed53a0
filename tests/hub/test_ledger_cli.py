"""``gridgate-hub ledger`` import, export and stats, on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from hub.cli import app
from hub.ledger.sample import write_csv
from hub.store.db import Store
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
