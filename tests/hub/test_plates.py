"""Door plates: printed from the ledger, read back by the edge's own decoder, and the household
file they open, where visits and moves are recorded."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator
from pathlib import Path

import cv2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from edge.decoders.payloads import DoorPlate, PayloadClassifier, PayloadConfig
from edge.decoders.qr import create as create_qr
from hub.api.main import create_app
from hub.auth.roles import Role
from hub.cli import app as hub_cli
from hub.config import HubSettings
from hub.ledger import sample
from hub.store import Store
from hub.store.ledger_tables import AddressRow, GridRow, GridWorkerRow, ResidentRow
from tests.hub.conftest import TEST_SECRET
from tests.support.logins import add_login, bearer

IDENTITY = b"identity-key-for-plate-tests-0000000"
BASE = "https://hub.example.cn"


@pytest.fixture
def ledger(store: Store) -> tuple[Store, sample.Sample]:
    generated = sample.generate(12, seed=4)
    sample.load(store, generated, IDENTITY)
    return store, generated


def test_plates_print_per_grid_and_decode_to_their_address(
    ledger: tuple[Store, sample.Sample], tmp_path: Path
) -> None:
    store, generated = ledger
    grid = generated.grids[0]["grid_id"]
    url = str(store.engine.url)
    out = tmp_path / "plates"
    result = CliRunner().invoke(
        hub_cli,
        [
            "codes",
            "plates",
            "--grid",
            grid,
            "--base-url",
            BASE,
            "--out",
            str(out),
            "--database-url",
            url,
        ],
    )
    assert result.exit_code == 0, result.output
    with store.sessions() as session:
        codes = set(
            session.scalars(select(AddressRow.address_code).where(AddressRow.grid_id == grid))
        )
        printed = session.scalar(
            select(func.count()).where(AddressRow.plate_printed_at.is_not(None))
        )
    assert {p.stem for p in out.glob("*.png")} == codes and printed == len(codes)
    pdf = (out / "plates.pdf").read_bytes()
    pages = re.findall(rb"/Type\s*/Page\b(?!s)", pdf)
    assert pdf.startswith(b"%PDF") and len(pages) == math.ceil(len(codes) / 4)  # 4 per A4 sheet
    code = sorted(codes)[0]
    image = cv2.imread(str(out / f"{code}.png"))
    assert image is not None
    (symbol,) = create_qr("zxing").decode(cv2.cvtColor(image, cv2.COLOR_BGR2GRAY))
    assert symbol.text is not None
    classified = PayloadClassifier(PayloadConfig(plate_hosts=["hub.example.cn"])).classify(
        symbol.text
    )
    assert isinstance(classified, DoorPlate) and classified.address_code == code


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--base-url", BASE], "--grid and/or --street"),
        (["--grid", "G0001", "--base-url", "hub.example.cn"], "http(s) URL"),
        (["--grid", "G9999", "--base-url", BASE], "no address matches"),
    ],
)
def test_plates_refuse_bad_requests(
    ledger: tuple[Store, sample.Sample], tmp_path: Path, args: list[str], message: str
) -> None:
    store, _ = ledger
    result = CliRunner().invoke(
        hub_cli,
        [
            "codes",
            "plates",
            *args,
            "--out",
            str(tmp_path / "o"),
            "--database-url",
            str(store.engine.url),
        ],
    )
    assert result.exit_code == 2 and message in result.output


@pytest.fixture
def client(ledger: tuple[Store, sample.Sample], tmp_path: Path) -> Iterator[TestClient]:
    store, generated = ledger
    worker = generated.workers[0]["worker_id"]
    add_login(store, "wang", Role.GRID_WORKER, worker_id=worker)
    with store.transaction() as session:  # a worker of another grid
        session.add(GridWorkerRow(worker_id="W-OTHER", name="外网格", channels={}))
        session.add(GridRow(grid_id="G-OTHER", name="别的网格"))
    add_login(store, "other", Role.GRID_WORKER, worker_id="W-OTHER")
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(store.engine.url), secret_key=TEST_SECRET
    )
    with TestClient(create_app(settings, store)) as test_client:
        yield test_client


def test_the_household_file_records_visits_and_moves(
    client: TestClient, ledger: tuple[Store, sample.Sample]
) -> None:
    store, generated = ledger
    row = generated.residents[0]
    code = row["address_code"]
    headers = bearer(client, "wang")
    redirect = client.get(f"/a/{code}", follow_redirects=False)
    assert redirect.status_code == 303 and redirect.headers["location"] == f"/#household/{code}"
    file = client.get(f"/api/households/{code}", headers=headers).json()
    assert file["state"] == "occupied" and row["name"] in [r["name"] for r in file["residents"]]
    living = [r["resident_id"] for r in file["residents"]]
    visit = {"step": "door_visit", "result": "away", "note": "门上留言"}
    after = client.post(f"/api/households/{code}/visits", json=visit, headers=headers).json()
    (latest,) = after["last_visits"]
    assert latest["kind"] == "visit" and latest["result"] == "away" and "门上留言" in latest["note"]
    assert (
        client.post(
            f"/api/households/{code}/visits", json={**visit, "step": "knock"}, headers=headers
        ).status_code
        == 422
    )
    (coverage,) = [g for g in client.get("/api/coverage", headers=headers).json()]
    assert coverage["visited_today"] == 1 and coverage["never_visited"] == coverage["addresses"] - 1

    for resident_id in living:
        moved = client.post(
            f"/api/households/{code}/residents/{resident_id}/move-out", headers=headers
        )
        assert moved.status_code == 200
    empty = client.get(f"/api/households/{code}", headers=headers).json()
    assert empty["residents"] == [] and empty["state"] == "vacant"
    again = client.post(f"/api/households/{code}/residents/{living[0]}/move-out", headers=headers)
    assert again.status_code == 409
    back = client.post(f"/api/households/{code}/residents/{living[0]}/move-in", headers=headers)
    assert back.json()["state"] == "occupied"
    with store.sessions() as session:
        resident = session.get(ResidentRow, living[0])
        assert resident is not None and resident.address_code == code

    other = bearer(client, "other")
    assert client.get(f"/api/households/{code}", headers=other).status_code == 404
    assert client.get("/api/households/NOPE-1", headers=headers).status_code == 404
