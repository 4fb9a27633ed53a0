"""The face stage on real photos through dlib, and its tracking logic through the fake backend."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

from edge.decoders.faces.base import Box, Landmarks, face_backends
from edge.decoders.faces.config import FaceConfig
from edge.decoders.faces.fake import FakeFaceBackend, fake_encoding, mark_face
from edge.decoders.faces.liveness import blink_liveness
from edge.decoders.faces.quality import eye_aspect_ratio, frontal_score, pose_factor
from edge.decoders.faces.stage import FaceStage
from edge.gallery import Gallery
from edge.registry import BackendUnavailableError, Registry
from models.base import utc_now
from models.events import FaceDecision, FaceObservation, Liveness
from models.face_match import FaceThresholds


def _frame(path: Path, width: int = 640) -> np.ndarray:
    image = cv2.imread(str(path))
    assert image is not None
    scale = width / image.shape[1]
    return cv2.resize(image, None, fx=scale, fy=scale)


def _observe(stage: FaceStage, frame: np.ndarray, now: float) -> list[FaceObservation]:
    tracks = stage.process(frame, now)
    observations = [stage.observation(t, utc_now()) for t in tracks]
    return [o for o in observations if o is not None]


@pytest.fixture(scope="module")
def obama_gallery(photos: dict[str, Path]) -> Gallery:
    stage = FaceStage(FaceConfig(detect_scale=1.0, detect_every=1), Gallery())
    (observation,) = _observe(stage, _frame(photos["obama.jpg"]), 0.0)
    assert observation.encoding is not None
    gallery = Gallery()
    gallery.replace(["resident-obama"], [observation.encoding], version="test-1")
    return gallery


def test_same_person_matches_and_another_does_not(
    photos: dict[str, Path], obama_gallery: Gallery
) -> None:
    stage = FaceStage(FaceConfig(detect_scale=1.0, detect_every=1), obama_gallery)
    (same,) = _observe(stage, _frame(photos["obama2.jpg"]), 10.0)
    assert same.local_match.decision is FaceDecision.KNOWN
    assert same.local_match.resident_ref == "resident-obama"
    assert (same.local_match.distance or 1.0) < 0.45
    (other,) = _observe(stage, _frame(photos["biden.jpg"]), 20.0)
    assert other.local_match.decision is FaceDecision.UNKNOWN
    assert other.local_match.resident_ref is None
    assert (other.local_match.distance or 0.0) > 0.55
    assert other.crop_jpeg_base64 is None  # crops stay on the device unless configured


def test_strict_thresholds_never_name_the_nearest(
    photos: dict[str, Path], obama_gallery: Gallery
) -> None:
    strict = FaceThresholds(known_below=0.05, unknown_above=0.1)
    stage = FaceStage(
        FaceConfig(detect_scale=1.0, detect_every=1, thresholds=strict), obama_gallery
    )
    (same,) = _observe(stage, _frame(photos["obama2.jpg"]), 0.0)
    assert same.local_match.decision is FaceDecision.UNKNOWN
    assert same.local_match.resident_ref is None


def test_quality_prefers_sharp_frontal_faces(photos: dict[str, Path]) -> None:
    stage = FaceStage(FaceConfig(detect_scale=1.0, detect_every=1), Gallery())
    frame = _frame(photos["obama.jpg"])
    (sharp,) = _observe(stage, frame, 0.0)
    blurred = FaceStage(FaceConfig(detect_scale=1.0, detect_every=1), Gallery())
    (soft,) = _observe(blurred, cv2.GaussianBlur(frame, (0, 0), 4), 0.0)
    assert 0 < soft.quality < sharp.quality <= 1


def _scene(
    people: dict[int, Box], size: tuple[int, int] = (480, 640), *, eyes_closed: bool = False
) -> np.ndarray:
    base = np.full((*size, 3), 90, np.uint8)
    noise = np.random.default_rng(len(people)).integers(0, 40, base.shape, dtype=np.uint8)
    frame: np.ndarray = cv2.add(base, noise)
    for person, box in people.items():
        mark_face(frame, box, person, eyes_closed=eyes_closed)
    return frame


def _fake_stage(**overrides: Any) -> FaceStage:
    settings: dict[str, Any] = {"detect_every": 1, "min_face_area": 400} | overrides
    return FaceStage(FaceConfig(backend="fake", **settings), Gallery(), backend=FakeFaceBackend())


def test_each_track_is_encoded_once_while_the_view_does_not_improve() -> None:
    stage = _fake_stage()
    for step in range(10):
        box = Box(100, 300 + step * 4, 260, 140 + step * 4)
        stage.process(_scene({7: box}), now=step * 0.1)
    assert len(stage.tracker.tracks) == 1
    assert stage.stats.encodings == 1


def test_a_clearly_better_view_is_encoded_again() -> None:
    stage = _fake_stage()
    stage.process(_scene({7: Box(200, 330, 260, 270)}), now=0.0)  # 60 px: small
    stage.process(_scene({7: Box(190, 345, 300, 235)}), now=0.1)  # 110 px: much better
    assert stage.stats.encodings == 2


def test_two_people_get_two_tracks_and_their_own_encodings() -> None:
    stage = _fake_stage()
    tracks = stage.process(_scene({3: Box(50, 200, 200, 50), 9: Box(50, 600, 200, 450)}), 0.0)
    assert len({t.track_id for t in tracks}) == 2
    encodings = {t.track_id: t.best_encoding() for t in tracks}
    vectors = [e[0] for e in encodings.values() if e is not None]
    expected = [fake_encoding(3), fake_encoding(9)]
    assert any(np.allclose(vectors[0], e) for e in expected)
    assert not np.allclose(vectors[0], vectors[1])


def test_still_frames_skip_detection() -> None:
    stage = _fake_stage()
    frame = _scene({4: Box(100, 300, 260, 140)})
    stage.process(frame, 0.0)
    for i in range(5):
        assert stage.process(frame.copy(), 0.1 * (i + 1)) == []
    assert stage.stats.still_frames == 5
    assert stage.stats.detections == 1


def test_someone_stepping_in_on_a_skipped_frame_is_detected_on_the_next_due_one() -> None:
    stage = _fake_stage(detect_every=3)
    stage.process(_scene({}), 0.0)  # the detector runs on the first frame: nobody
    person = _scene({4: Box(100, 300, 260, 140)})
    found = [stage.process(person.copy(), 0.1 * i) for i in range(1, 6)]
    assert [len(tracks) for tracks in found] == [0, 0, 1, 0, 0]  # too soon, too soon, due
    assert stage.stats.detector_runs == 2
    assert stage.stats.encodings == 1


def test_a_still_scene_keeps_its_tracks_beyond_their_time_to_live() -> None:
    stage = _fake_stage(track_ttl_s=0.5)
    frame = _scene({4: Box(100, 300, 260, 140)})
    (first,) = stage.process(frame, 0.0)
    for i in range(1, 30):  # 2.9 s without any change
        assert stage.process(frame.copy(), 0.1 * i) == []
    (again,) = stage.process(_scene({4: Box(100, 340, 260, 180)}), 3.0)  # moves: detected
    assert again.track_id == first.track_id
    assert stage.stats.encodings == 1


def test_someone_stepping_into_a_place_just_left_gets_a_track_of_their_own() -> None:
    gallery = Gallery()
    gallery.replace(["r-3"], [fake_encoding(3).tolist()], version="v1")
    config = FaceConfig(backend="fake", detect_every=1, min_face_area=400, track_ttl_s=2.0)
    stage = FaceStage(config, gallery, backend=FakeFaceBackend())
    box = Box(100, 300, 260, 140)
    (resident,) = stage.process(_scene({3: box}), 0.0)
    assert stage.process(_scene({}), 0.3) == []  # gone, well within the track's ttl
    (stranger,) = stage.process(_scene({8: box}), 0.6)  # same place, someone else
    assert stranger.track_id != resident.track_id
    observation = stage.observation(stranger, utc_now())
    assert observation is not None and observation.encoding is not None
    assert np.allclose(observation.encoding, fake_encoding(8), atol=1e-6)
    assert observation.local_match.decision is FaceDecision.UNKNOWN
    assert observation.encoding == [round(v, 6) for v in observation.encoding]  # 6 decimals
    assert float(np.linalg.norm(np.subtract(observation.encoding, fake_encoding(8)))) < 1e-5


@pytest.mark.parametrize("liveness", [False, True])
def test_landmarks_are_located_only_while_a_face_may_be_encoded(liveness: bool) -> None:
    stage = _fake_stage(liveness=liveness)
    for step in range(6):
        box = Box(100, 300 + 30 * step, 260, 140 + 30 * step)
        (track,) = stage.process(_scene({7: box}), 0.1 * step)
    assert stage.stats.detector_runs == 6
    assert stage.stats.encodings == 1
    assert stage.stats.landmarks == (6 if liveness else 1)  # the blink hint needs every view
    assert len(track.ear_history) == (6 if liveness else 1)


@pytest.mark.parametrize("blinks", [True, False], ids=["blink", "no-blink"])
def test_a_blink_while_standing_still_is_seen_on_frames_the_motion_gate_skips(
    blinks: bool,
) -> None:
    stage = _fake_stage(liveness=True, detect_every=1)  # default detect_scale: 0.6
    box = Box(100, 300, 260, 140)
    eyes_open, eyes_shut = _scene({7: box}), _scene({7: box}, eyes_closed=True)
    frames = [eyes_open] * 3 + [eyes_shut if blinks else eyes_open] * 2 + [eyes_open] * 3
    for i, frame in enumerate(frames):
        stage.process(frame.copy(), 0.1 * i)
    assert stage.stats.detector_runs == 1  # closing the eyes does not count as motion
    assert stage.stats.eye_samples == 7
    (track,) = stage.tracker.tracks.values()
    observation = stage.observation(track, utc_now())
    assert observation is not None
    assert observation.liveness == Liveness(checked=True, passed=blinks)


def test_eyes_are_not_read_on_still_frames_without_liveness() -> None:
    stage = _fake_stage(liveness=False, detect_every=1)
    frame = _scene({7: Box(100, 300, 260, 140)})
    for i in range(5):
        stage.process(frame.copy(), 0.1 * i)
    assert stage.stats.eye_samples == 0
    (track,) = stage.tracker.tracks.values()
    observation = stage.observation(track, utc_now())
    assert observation is not None
    assert observation.liveness == Liveness(checked=False, passed=None)


def test_fake_backend_reads_closed_eyes_at_full_and_reduced_scale() -> None:
    box = Box(100, 300, 260, 140)
    backend = FakeFaceBackend()
    for scale in (1.0, 0.6, 0.4):
        for closed in (False, True):
            frame = _scene({7: box}, eyes_closed=closed)
            small = cv2.resize(frame, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
            rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
            (landmarks,) = backend.landmarks(rgb, [box.scaled(scale)])
            ears = {eye_aspect_ratio(landmarks.left_eye), eye_aspect_ratio(landmarks.right_eye)}
            assert ears == ({0.0} if closed else {0.5})


def test_faces_below_the_minimum_area_are_not_encoded() -> None:
    stage = _fake_stage()
    stage.process(_scene({5: Box(100, 115, 115, 100)}), 0.0)
    assert stage.stats.faces_too_small == 1
    assert stage.stats.encodings == 0


def test_gallery_match_through_the_fake_backend_and_disk_cache(tmp_path: Path) -> None:
    gallery = Gallery()
    gallery.replace(["r-3"], [fake_encoding(3).tolist()], version="v7")
    gallery.save(tmp_path / "gallery.json")
    assert (tmp_path / "gallery.json").stat().st_mode & 0o777 == 0o600
    loaded = Gallery.load(tmp_path / "gallery.json")
    stage = FaceStage(
        FaceConfig(backend="fake", detect_every=1, min_face_area=400),
        loaded,
        backend=FakeFaceBackend(),
    )
    (known,) = _observe(stage, _scene({3: Box(50, 200, 200, 50)}), 0.0)
    (stranger,) = _observe(stage, _scene({8: Box(250, 600, 400, 450)}), 1.0)
    assert (known.local_match.decision, known.local_match.resident_ref) == (
        FaceDecision.KNOWN,
        "r-3",
    )
    assert stranger.local_match.decision is FaceDecision.UNKNOWN


def _face_landmarks(nose_x: int, eye_open: int = 3) -> Landmarks:
    """Eyes centred at x=100 and x=160 (y=100); the nose tip at ``nose_x``."""
    eye = [(-12, 0), (-6, -eye_open), (6, -eye_open), (12, 0), (6, eye_open), (-6, eye_open)]
    left = [(100 + dx, 100 + dy) for dx, dy in eye]
    right = [(160 + dx, 100 + dy) for dx, dy in eye]
    return Landmarks(left, right, [(nose_x - 2, 140), (nose_x, 142), (nose_x + 2, 140)])


def test_frontal_pose_scores_highest_and_a_profile_lowest() -> None:
    frontal, turned, profile = (_face_landmarks(x) for x in (130, 145, 160))
    assert frontal_score(frontal) == pytest.approx(1.0)
    assert frontal_score(turned) == pytest.approx(0.5)
    assert frontal_score(profile) == pytest.approx(0.0)  # nose in line with an eye
    assert frontal_score(_face_landmarks(100)) == frontal_score(profile)  # either side
    assert frontal_score(_face_landmarks(200)) == 0.0  # beyond an eye: clamped, not negative
    assert pose_factor(frontal) == pytest.approx(1.0)
    assert pose_factor(frontal) > pose_factor(turned) > pose_factor(profile) > 0.0


def test_pose_of_incomplete_or_degenerate_landmarks_scores_zero() -> None:
    full = _face_landmarks(130)
    assert frontal_score(Landmarks([], full.right_eye, full.nose_tip)) == 0.0
    assert frontal_score(Landmarks(full.left_eye, full.right_eye, [])) == 0.0
    assert frontal_score(Landmarks(full.left_eye, full.left_eye, full.nose_tip)) == 0.0
    assert pose_factor(Landmarks([], [], [])) == pytest.approx(0.01**0.3)  # floor, not 0


def test_eye_aspect_ratio_falls_as_the_eye_closes() -> None:
    ears = [eye_aspect_ratio(_face_landmarks(130, eye_open=h).left_eye) for h in (4, 3, 1, 0)]
    assert ears == pytest.approx([4 / 12, 3 / 12, 1 / 12, 0.0])  # (2h + 2h) / (2 * 24)
    assert eye_aspect_ratio([(0, 0)] * 5) is None  # not a 6-point eye
    assert eye_aspect_ratio([(5, 0), (5, -2), (5, -2), (5, 0), (5, 2), (5, 2)]) is None  # no width


def test_blink_liveness() -> None:
    assert blink_liveness([0.3, 0.31, 0.15, 0.3], enabled=True).passed is True
    assert blink_liveness([0.3, 0.31, 0.3, 0.3], enabled=True).passed is False
    assert blink_liveness([0.3, 0.15, 0.3], enabled=True).checked is False
    assert blink_liveness([0.3, 0.31, 0.15, 0.3], enabled=False).checked is False


def test_registry_skips_backends_whose_import_fails() -> None:
    registry: Registry[object] = Registry("test")
    registry.load(["edge.decoders.faces.fake", "edge.decoders.faces.does_not_exist"])
    assert "edge.decoders.faces.does_not_exist" in registry.failed
    with pytest.raises(BackendUnavailableError, match="available"):
        registry.create("nope")
    face_backends.load(["edge.decoders.faces.fake"])
    assert "fake" in face_backends.available()
