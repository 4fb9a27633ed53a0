"""Registrations in the store and through the API: pending, approve (ledger + sealed face +
index), reject (encoding deleted), unknown addresses flagged, grid workers see their grids."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from hub.api.main import create_app
from hub.auth.roles import Role
from hub.config import HubSettings
from hub.faces.vault import FaceVault
from hub.match.faces import FaceIndex
from hub.registrations.desk import RegistrationDesk
from hub.registrations.repository import DecisionError, record_request, sealing_ref
from hub.store.db import Store
from hub.store.face_tables import FaceEnrollmentRow
from hub.store.ledger_tables import AddressRow, HouseholdRow, ResidentRow
from hub.store.registration_tables import RegistrationRow
from models.base import utc_now
from models.registrations import RegistrationRequest
from tests.hub.conftest import TEST_SECRET
from tests.support.factories import encoding
from tests.support.grids import seed_grids
from tests.support.logins import add_login, bearer
from tests.test_registrations_contract import request

PLATE_A, PLATE_B, NOWHERE = "310101001001", "310101002002", "999999999999"


@pytest.fixture
def ledger(store: Store) -> Store:
    """Grids G-A and G-B (workers W-A, W-B), one address in each."""
    seed_grids(store)
    with store.transaction() as session:
        for code, grid in ((PLATE_A, "G-A"), (PLATE_B, "G-B")):
            session.add(AddressRow(address_code=code, street="长庚里", number="9", grid_id=grid))
    return store


@pytest.fixture
def vault() -> FaceVault:
    return FaceVault(TEST_SECRET.encode())


def _record(store: Store, vault: FaceVault, sent: RegistrationRequest) -> bool:
    with store.transaction() as session:
        return record_request(session, sent, vault, utc_now())


def _row(store: Store, sent: RegistrationRequest) -> RegistrationRow:
    with store.sessions() as session:
        row = session.get(RegistrationRow, sent.request_id)
        assert row is not None
        return row


def test_a_request_is_stored_once_as_pending_with_its_face_sealed(
    ledger: Store, vault: FaceVault
) -> None:
    sent = request(address_code=PLATE_A)
    assert _record(ledger, vault, sent)
    assert not _record(ledger, vault, sent)  # a resent request is not stored twice
    row = _row(ledger, sent)
    assert (row.state, row.grid_id, row.address_known) == ("pending", "G-A", True)
    assert (row.consent_version, row.name_masked) == ("kiosk-2026-11-v1", "张*")
    assert row.consent_at == sent.consent.accepted_at
    assert row.sealed_face is not None
    assert np.float32(sent.face_encoding[0]).tobytes() not in row.sealed_face
    opened = vault.open(sealing_ref(sent.request_id), row.sealed_face)
    assert np.allclose(opened, sent.face_encoding, atol=1e-6)


def test_approval_adds_the_resident_occupies_the_household_and_enrols_the_face(
    ledger: Store, vault: FaceVault
) -> None:
    faces = FaceIndex()
    announced: list[str] = []
    desk = RegistrationDesk(ledger, vault, faces, on_enrolled=lambda: announced.append("now"))
    sent = request(address_code=PLATE_A, face_encoding=encoding(7))
    _record(ledger, vault, sent)
    decided = desk.approve(sent.request_id, "wa", "seen the ID card", grids={"G-A"})
    assert decided is not None and decided.resident_id is not None
    with ledger.sessions() as session:
        resident = session.scalars(
            select(ResidentRow).where(ResidentRow.holder_ref == "h1:holder")
        ).one()
        assert (resident.address_code, resident.name, resident.face_enrolled) == (
            PLATE_A,
            "张*",
            True,
        )
        household = session.get(HouseholdRow, PLATE_A)
        assert household is not None and household.state == "occupied"
        enrolment = session.get(FaceEnrollmentRow, resident.resident_id)
        assert enrolment is not None
        assert np.allclose(vault.open(resident.resident_id, enrolment.sealed), encoding(7))
    row = _row(ledger, sent)
    assert (row.state, row.decided_by, row.note) == ("approved", "wa", "seen the ID card")
    assert row.sealed_face is None  # one copy only: the enrolment
    nearest = faces.nearest(encoding(7))
    assert nearest.ref == resident.resident_id
    assert announced == ["now"]  # the site galleries are re-announced to the edges
    with pytest.raises(DecisionError, match="already approved"):
        desk.approve(sent.request_id, "wa")


def test_a_second_registration_moves_the_same_resident(ledger: Store, vault: FaceVault) -> None:
    desk = RegistrationDesk(ledger, vault, FaceIndex())
    first, moved = request(address_code=PLATE_A), request(address_code=PLATE_B)
    for sent in (first, moved):
        _record(ledger, vault, sent)
        desk.approve(sent.request_id, "operator")
    with ledger.sessions() as session:
        (resident,) = session.scalars(select(ResidentRow)).all()
        assert resident.address_code == PLATE_B


def test_rejection_deletes_the_encoding_and_enrols_nothing(ledger: Store, vault: FaceVault) -> None:
    desk = RegistrationDesk(ledger, vault, FaceIndex())
    sent = request(address_code=PLATE_A)
    _record(ledger, vault, sent)
    desk.reject(sent.request_id, "wa", "not a resident")
    row = _row(ledger, sent)
    assert (row.state, row.note, row.sealed_face) == ("rejected", "not a resident", None)
    with ledger.sessions() as session:
        assert session.scalars(select(FaceEnrollmentRow)).all() == []
        assert session.scalars(select(ResidentRow)).all() == []
    with pytest.raises(DecisionError):
        desk.approve(sent.request_id, "wa")


def test_an_address_not_in_the_ledger_stays_pending_and_flagged(
    ledger: Store, vault: FaceVault
) -> None:
    desk = RegistrationDesk(ledger, vault, FaceIndex())
    sent = request(address_code=NOWHERE)
    _record(ledger, vault, sent)
    row = _row(ledger, sent)
    assert (row.state, row.address_known, row.grid_id) == ("pending", False, None)
    assert desk.approve(sent.request_id, "wa", grids={"G-A"}) is None  # not a grid's
    with pytest.raises(DecisionError, match="not in the ledger"):
        desk.approve(sent.request_id, "operator")
    assert _row(ledger, sent).state == "pending"


@pytest.fixture
def api(ledger: Store, vault: FaceVault, tmp_path: Path) -> Iterator[TestClient]:
    settings = HubSettings(
        data_dir=tmp_path, database_url=str(ledger.engine.url), secret_key=TEST_SECRET
    )
    app = create_app(settings, ledger)
    app.state.registrations = RegistrationDesk(ledger, vault, FaceIndex())
    add_login(ledger)
    add_login(ledger, "wa", Role.GRID_WORKER, worker_id="W-A")
    add_login(ledger, "wb", Role.GRID_WORKER, worker_id="W-B")
    with TestClient(app) as client:
        yield client


def test_grid_workers_see_and_decide_only_their_grids_requests(
    api: TestClient, ledger: Store, vault: FaceVault
) -> None:
    in_a, nowhere = request(address_code=PLATE_A), request(address_code=NOWHERE)
    for sent in (in_a, nowhere):
        _record(ledger, vault, sent)
    wa, wb, op = bearer(api, "wa"), bearer(api, "wb"), bearer(api, "operator")

    def listed(headers: dict[str, str]) -> list[str]:
        response = api.get("/api/registrations", headers=headers)
        assert response.status_code == 200, response.text
        return [r["request_id"] for r in response.json()]

    assert listed(wa) == [str(in_a.request_id)]
    assert listed(wb) == []
    assert sorted(listed(op)) == sorted([str(in_a.request_id), str(nowhere.request_id)])
    fields = set(api.get("/api/registrations", headers=op).json()[0])
    assert not {"face_encoding", "sealed_face", "holder_ref"} & fields

    url = f"/api/registrations/{in_a.request_id}"
    assert api.post(f"{url}/approve", headers=wb, json={}).status_code == 404
    assert api.post(f"{url}/reject", headers=wb, json={"note": "x"}).status_code == 404
    approved = api.post(f"{url}/approve", headers=wa, json={"note": "ok"})
    assert approved.status_code == 200, approved.text
    assert (approved.json()["state"], approved.json()["decided_by"]) == ("approved", "wa")
    assert api.post(f"{url}/reject", headers=wa, json={}).status_code == 409
    assert listed(wa) == []

    flagged = api.post(f"/api/registrations/{nowhere.request_id}/approve", headers=op, json={})
    assert flagged.status_code == 409 and "not in the ledger" in flagged.text
    rejected = api.post(
        f"/api/registrations/{nowhere.request_id}/reject", headers=op, json={"note": "unknown"}
    )
    assert rejected.json()["state"] == "rejected"
    history = api.get("/api/registrations?state=rejected", headers=op).json()
    assert [(r["request_id"], r["note"]) for r in history] == [(str(nowhere.request_id), "unknown")]
    assert api.post(f"{url}/approve", headers=op, json={"bogus": 1}).status_code == 422
