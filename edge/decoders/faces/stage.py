"""The face stage: motion gate → detect at reduced scale → track → encode once → match."""

from __future__ import annotations

import base64
import logging
from dataclasses import dataclass
from datetime import datetime

import cv2
import numpy as np

from edge.decoders.faces.base import (
    BACKEND_MODULES,
    FaceBackend,
    Image,
    Landmarks,
    face_backends,
)
from edge.decoders.faces.config import FaceConfig
from edge.decoders.faces.liveness import blink_liveness
from edge.decoders.faces.motion import MotionGate
from edge.decoders.faces.quality import eye_aspect_ratio, pose_factor, view_quality
from edge.decoders.faces.tracker import FaceTracker, Track
from edge.gallery import Gallery
from models.events import FaceObservation
from models.face_match import Candidate, vote
from models.observations import ENCODING_DECIMALS

log = logging.getLogger(__name__)


@dataclass
class FaceStats:
    """Counters of the face stage.

    ``still_frames``: frames the detector did not run on (nothing changed since it last
    ran, or it ran fewer than ``detect_every`` frames ago); ``detector_runs``: frames it ran
    on; ``detections``: faces it found; ``landmarks``: faces whose landmarks were located
    on those frames; ``eye_samples``: eye readings taken on unchanged frames for liveness.
    """

    frames: int = 0
    still_frames: int = 0
    detector_runs: int = 0
    detections: int = 0
    landmarks: int = 0
    eye_samples: int = 0
    encodings: int = 0
    faces_too_small: int = 0


class FaceStage:
    """Turns frames into face tracks, each encoded once or for a clearly better view.

    The detector runs on a frame only when it differs from the last frame the detector
    looked at (:class:`MotionGate`), and at most every ``detect_every`` frames; a change
    seen on a skipped frame is caught on the next one. While nothing changes, the faces the
    detector last found are taken to be still there (their tracks stay alive). A track the
    detector does not find when it runs ends: a stranger stepping into the place a resident
    just left must not inherit the resident's track and encoding. Landmarks are located only
    for faces that may still be encoded (or when liveness needs them).

    A blink barely changes the frame, so a person standing still blinks on frames the motion
    gate skips: with liveness on, the eyes of the faces present are read on every unchanged
    frame too (landmarks only, at ``detect_scale``; the boxes still hold, as the view is the
    one the detector saw).
    """

    def __init__(self, config: FaceConfig, gallery: Gallery, backend: FaceBackend | None = None):
        self.config = config
        self.gallery = gallery
        if backend is None:
            face_backends.load(BACKEND_MODULES)
            backend = face_backends.create(config.backend)
        self.backend = backend
        self.motion = MotionGate(threshold=config.motion_threshold)
        self.tracker = FaceTracker(ttl_s=config.track_ttl_s)
        self.stats = FaceStats()
        self._crops: dict[int, bytes] = {}
        self._last_run: int | None = None  # frame number of the detector's last run
        self._present: list[Track] = []  # what it found then

    def process(self, frame_bgr: Image, now: float, grey: Image | None = None) -> list[Track]:
        """Tracks seen in this frame (empty when the detector did not run or found nobody).

        ``grey``: the frame in grey if the caller has it already (the motion gate uses it).
        """
        self.stats.frames += 1
        changed = self.motion.changed(frame_bgr if grey is None else grey)
        since = None if self._last_run is None else self.stats.frames - self._last_run
        if not changed or (since is not None and since < self.config.detect_every):
            self.stats.still_frames += 1
            if not changed:  # the same view as the detector's last: the same faces
                for track in self._present:
                    track.last_seen = now
                if self.config.liveness:
                    self._sample_eyes(frame_bgr)
            self.tracker.expire(now)
            return []
        self.motion.settle()
        self._last_run = self.stats.frames
        self.stats.detector_runs += 1
        rgb = cv2.cvtColor(frame_bgr, cv2.COLOR_BGR2RGB)
        scale = self.config.detect_scale
        small = rgb if scale == 1.0 else cv2.resize(rgb, None, fx=scale, fy=scale)
        boxes = [b.scaled(1 / scale) for b in self.backend.detect(small, self.config.upsample)]
        self.stats.detections += len(boxes)
        tracks = self._present = self.tracker.update(boxes, now)
        self.tracker.retain(tracks)  # not found now: gone (someone else may step in there)
        views = [view_quality(frame_bgr, t.box, self.config.min_face_area) for t in tracks]
        wanted = [i for i, (t, v) in enumerate(zip(tracks, views, strict=True)) if self._look(t, v)]
        located = self.backend.landmarks(rgb, [tracks[i].box for i in wanted])
        self.stats.landmarks += len(located)
        for i, landmarks in zip(wanted, located, strict=True):
            track = tracks[i]
            quality = views[i] * pose_factor(landmarks)
            _record_eyes(track, landmarks)
            track.best_quality = max(track.best_quality, quality)
            if quality > 0.0 and self._wants_encoding(track, quality):
                track.encodings.append((self.backend.encode(rgb, track.box), quality))
                self.stats.encodings += 1
                if self.config.send_crops:
                    self._keep_crop(track, frame_bgr)
        self.stats.faces_too_small += sum(1 for v in views if v == 0.0)
        return tracks

    def _sample_eyes(self, frame_bgr: Image) -> None:
        """Read the eyes of the faces present (liveness), at the detection scale."""
        if not self._present:
            return
        scale = self.config.detect_scale
        small = frame_bgr
        if scale != 1.0:
            small = cv2.resize(frame_bgr, None, fx=scale, fy=scale, interpolation=cv2.INTER_AREA)
        rgb = cv2.cvtColor(small, cv2.COLOR_BGR2RGB)
        located = self.backend.landmarks(rgb, [t.box.scaled(scale) for t in self._present])
        self.stats.eye_samples += len(located)
        for track, landmarks in zip(self._present, located, strict=True):
            _record_eyes(track, landmarks)

    def _look(self, track: Track, view: float) -> bool:
        """Whether this face's landmarks are worth locating: for liveness, or because it
        may be encoded (its quality, at best ``view``, could beat what it has)."""
        if self.config.liveness:
            return True
        return view > 0.0 and self._wants_encoding(track, view)

    def _wants_encoding(self, track: Track, quality: float) -> bool:
        if len(track.encodings) >= self.config.max_encodings_per_track:
            return False
        best = track.encoded_quality
        return best == 0.0 or quality > best * (1.0 + self.config.better_view_margin)

    def _keep_crop(self, track: Track, frame_bgr: Image) -> None:
        b = track.box
        crop = frame_bgr[max(0, b.top) : b.bottom, max(0, b.left) : b.right]
        ok, jpeg = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 80])
        if ok:
            self._crops[track.track_id] = jpeg.tobytes()

    def observation(self, track: Track, seen_at: datetime) -> FaceObservation | None:
        """The passage's record of one track: best encoding, voted local match, liveness."""
        best = track.best_encoding()
        if best is None:
            return None
        encoding, quality = best
        samples = [(self.gallery.nearest(e), q) for e, q in track.encodings]
        match = vote(samples, self.config.thresholds) if len(self.gallery) else None
        crop = self._crops.pop(track.track_id, None)
        return FaceObservation(
            track_id=track.track_id,
            encoding=np.round(np.asarray(encoding, dtype=np.float64), ENCODING_DECIMALS).tolist(),
            quality=round(quality, 4),
            seen_at=seen_at,
            liveness=blink_liveness(track.ear_history, self.config.liveness),
            **({"local_match": match} if match is not None else {}),
            crop_jpeg_base64=base64.b64encode(crop).decode() if crop else None,
        )


def _record_eyes(track: Track, landmarks: Landmarks) -> None:
    """Append the lower eye aspect ratio of ``landmarks`` (if any eye was found)."""
    ears = [eye_aspect_ratio(landmarks.left_eye), eye_aspect_ratio(landmarks.right_eye)]
    known = [e for e in ears if e is not None]
    if known:
        track.ear_history.append(min(known))


__all__ = ["Candidate", "FaceStage", "FaceStats"]
