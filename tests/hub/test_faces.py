"""Face enrolment: encodings sealed at rest, opened into the match index; real photos."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import numpy.typing as npt
import pytest
from sqlalchemy import select

from hub.faces.enroll import EnrollmentError, encode_photo, enroll, load_index
from hub.faces.vault import FaceVault, VaultError
from hub.match.faces import FaceIndex
from hub.store.db import Store
from hub.store.face_tables import FaceEnrollmentRow
from models.events import FaceDecision
from models.face_match import Candidate, FaceThresholds, match_one

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


def _people(rng: np.random.Generator, n: int) -> npt.NDArray[np.float32]:
    """Encodings shaped like dlib's: a shared component plus a person's own (norm near 1)."""
    mean = np.full(128, 0.7 / np.sqrt(128))
    own = rng.normal(0, 0.7 / np.sqrt(128), (n, 128)) * np.linspace(1.6, 0.4, 128)
    return (mean + own).astype(np.float32)


def _seen_again(
    rng: np.random.Generator, gallery: npt.NDArray[np.float32], n: int, far: float
) -> tuple[npt.NDArray[np.float32], npt.NDArray[np.int64]]:
    rows = rng.integers(0, len(gallery), n)
    noise = rng.normal(0, 1, (n, 128))
    noise *= (rng.uniform(0.1, far, n) / np.linalg.norm(noise, axis=1))[:, None]
    return (gallery[rows] + noise).astype(np.float32), rows


def test_partitioned_index_finds_residents_seen_again_like_the_full_scan() -> None:
    rng = np.random.default_rng(11)
    gallery = _people(rng, 6000)
    refs = [f"r{i}" for i in range(len(gallery))]
    partitioned, full = FaceIndex(partition_above=1000), FaceIndex(partition_above=10**9)
    partitioned.replace(refs, gallery)
    full.replace(refs, gallery)
    assert partitioned.partitioned and not full.partitioned
    assert len(partitioned) == len(full) == 6000
    probes, rows = _seen_again(rng, gallery, 200, far=0.55)
    thresholds = FaceThresholds()
    same = 0
    for probe, row in zip(probes, rows, strict=True):
        exact = np.linalg.norm(gallery.astype(np.float64) - probe.astype(np.float64), axis=1)
        found, expected = partitioned.nearest(probe), full.nearest(probe)
        assert expected.ref == f"r{int(np.argmin(exact))}" == f"r{row}"
        assert expected.distance == pytest.approx(float(exact.min()), abs=1e-9)
        if found == expected:
            same += 1
        else:  # a miss: someone farther, never a nearer or a wrongly named one
            assert found.distance is not None and expected.distance is not None
            assert found.distance > expected.distance
            assert match_one(found, thresholds).decision is not FaceDecision.KNOWN
    assert same >= 0.98 * len(probes)  # the bench measures recall at district scale


def test_partitioned_index_reports_the_exact_distance_of_whoever_it_names() -> None:
    rng = np.random.default_rng(12)
    gallery = _people(rng, 3000)
    index = FaceIndex(partition_above=500)
    index.replace([f"r{i}" for i in range(len(gallery))], gallery)
    thresholds = FaceThresholds()
    strangers = _people(rng, 100)
    for probe in strangers:
        found = index.nearest(probe)
        assert found.ref is not None and found.distance is not None
        named = gallery[int(found.ref[1:])].astype(np.float64)
        assert found.distance == pytest.approx(float(np.linalg.norm(named - probe)), abs=1e-9)
        exact = np.linalg.norm(gallery.astype(np.float64) - probe, axis=1).min()
        assert found.distance >= exact  # partitions may miss the nearest, never undercut it
        assert match_one(found, thresholds).resident_ref is None  # a stranger is never named


def test_added_faces_are_found_and_merged_into_the_partitions() -> None:
    rng = np.random.default_rng(13)
    gallery = _people(rng, 2000)
    index = FaceIndex(partition_above=1000)
    index.replace([f"r{i}" for i in range(len(gallery))], gallery)
    newcomers = _people(rng, 1100)
    for i, encoding in enumerate(newcomers[:10]):
        index.add(f"new{i}", encoding)
    assert index.nearest(newcomers[3] + 0.001).ref == "new3"
    assert index.nearest(gallery[7] + 0.001).ref == "r7"
    for i, encoding in enumerate(newcomers[10:], start=10):
        index.add(f"new{i}", encoding)
    assert len(index) == 3100 and index.partitioned
    probes, rows = _seen_again(rng, np.vstack([gallery, newcomers]), 100, far=0.45)
    names = [f"r{i}" for i in range(2000)] + [f"new{i}" for i in range(1100)]
    assert [index.nearest(p).ref for p in probes] == [names[r] for r in rows]


def test_face_index_refuses_encodings_of_the_wrong_shape() -> None:
    index = FaceIndex(partition_above=0)
    assert index.nearest(np.zeros(128)) == Candidate(None, None)
    with pytest.raises(ValueError):
        index.replace(["a", "b"], np.zeros((3, 128)))
    with pytest.raises(ValueError):
        index.add("a", np.zeros(127))
    index.replace(["a"], np.zeros((1, 128)))
    with pytest.raises(ValueError):
        index.nearest(np.zeros(129))
    assert len(index) == 1 and index.nearest(np.zeros(128)) == Candidate("a", 0.0)


def test_strangers_of_a_batch_get_the_references_one_by_one_would_give() -> None:
    from hub.match.strangers import StrangerIndex

    rng = np.random.default_rng(14)
    people = _people(rng, 12)
    sightings = [people[i] + rng.normal(0, 0.002, 128) for i in rng.integers(0, 12, 60)]
    sites = [f"site-{i % 3}" for i in range(len(sightings))]
    thresholds = FaceThresholds()
    one_by_one, batched = (StrangerIndex(thresholds, 8, worker="w1") for _ in range(2))
    expected = [one_by_one.reference(v, s) for v, s in zip(sightings, sites, strict=True)]
    got = batched.references(sightings[:25], sites[:25]) + batched.references(
        sightings[25:], sites[25:]
    )
    assert got == expected  # the ring of 8 wraps around inside both batches
    assert len(set(expected)) > 12  # strangers pushed out of the ring got new references
    assert batched.references([], []) == []
    with pytest.raises(ValueError):
        batched.references([np.zeros(127)], ["site-0"])
