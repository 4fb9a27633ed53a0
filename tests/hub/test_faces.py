"""Face enrolment: encodings sealed at rest, opened into the match index; real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from sqlalchemy import select

from hub.faces.enroll import EnrollmentError, encode_photo, enroll, load_index
from hub.faces.vault import FaceVault, VaultError
from hub.store.db import Store
from hub.store.face_tables import FaceEnrollmentRow

VAULT = FaceVault(b"face-vault-secret-for-tests-0123")


def test_sealed_encodings_open_only_for_their_resident_and_key() -> None:
    vector = np.random.default_rng(3).normal(0, 0.1, 128)
    sealed = VAULT.seal("r-1", vector)
    assert np.allclose(VAULT.open("r-1", sealed), vector, atol=1e-6)
    assert vector.astype("<f4").tobytes()[:16] not in sealed
    with pytest.raises(VaultError):
        VAULT.open("r-2", sealed)
    with pytest.raises(VaultError):
        FaceVault(b"another-secret-of-32-bytes-000000").open("r-1", sealed)
    tampered = bytearray(sealed)
    tampered[-1] ^= 1
    with pytest.raises(VaultError):
        VAULT.open("r-1", bytes(tampered))


def test_enrol_real_photos_and_match(store: Store, photos: dict[str, Path]) -> None:
    with store.transaction() as session:
        enroll(session, VAULT, "r-obama", encode_photo(photos["obama.jpg"]), "obama.jpg")
        enroll(session, VAULT, "r-biden", encode_photo(photos["biden.jpg"]), "biden.jpg")
    with store.transaction() as session:
        index = load_index(session, VAULT)
        stored = session.scalars(select(FaceEnrollmentRow)).all()
    assert len(index) == 2
    assert all(len(row.sealed) == 12 + 128 * 4 + 16 for row in stored)
    probe = encode_photo(photos["obama2.jpg"])
    found = index.nearest(probe)
    assert found.ref == "r-obama"
    assert found.distance is not None and found.distance < 0.45


def test_enrolment_refuses_photos_without_exactly_one_face(tmp_path: Path) -> None:
    blank = tmp_path / "wall.png"
    import cv2

    cv2.imwrite(str(blank), np.full((200, 200, 3), 128, np.uint8))
    with pytest.raises(EnrollmentError, match="0 faces"):
        encode_photo(blank)
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"not a jpeg")
    with pytest.raises(EnrollmentError, match="not a readable image"):
        encode_photo(broken)


def test_rows_that_do_not_open_are_skipped(store: Store) -> None:
    with store.transaction() as session:
        enroll(session, VAULT, "r-1", np.zeros(128), "test")
        row = session.get(FaceEnrollmentRow, "r-1")
        assert row is not None
        session.add(
            FaceEnrollmentRow(resident_id="r-2", sealed=row.sealed, enrolled_at=row.enrolled_at)
        )
    with store.transaction() as session:
        index = load_index(session, VAULT)
    assert len(index) == 1


def test_enroll_cli_seals_a_residents_face(
    tmp_path: Path, photos: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    from typer.testing import CliRunner

    from hub.cli import app
    from hub.ledger import sample
    from hub.ledger.idnumber import HolderHasher, resident_id_for
    from hub.store.ledger_tables import ResidentRow

    identity = b"identity-key-for-the-enrol-test-000"
    url = f"sqlite:///{tmp_path / 'hub.db'}"
    monkeypatch.setenv("GRIDGATE_HUB_DATABASE_URL", url)
    monkeypatch.setenv("GRIDGATE_HUB_SECRET_KEY", "s" * 40)
    store = Store.open(url)
    generated = sample.generate(3, seed=1)
    sample.load(store, generated, identity)
    resident_id = resident_id_for(HolderHasher(identity)(generated.residents[0]["id_number"]))
    runner = CliRunner()
    result = runner.invoke(
        app,
        ["residents", "enroll", resident_id, str(photos["obama.jpg"]), str(photos["obama2.jpg"])],
    )
    assert result.exit_code == 0, result.output
    with store.transaction() as session:
        row = session.get(ResidentRow, resident_id)
        assert row is not None and row.face_enrolled
        index = load_index(session, FaceVault(b"s" * 40))
    assert index.nearest(encode_photo(photos["obama3.jpg"])).ref == resident_id
    missing = runner.invoke(app, ["residents", "enroll", "nobody", str(photos["obama.jpg"])])
    assert missing.exit_code == 2
    assert "no resident nobody" in missing.output
    store.close()
