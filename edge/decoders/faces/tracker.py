"""Face tracks across frames, so each person is encoded once (again only for a better view)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from edge.decoders.faces.base import Box


@dataclass
class Track:
    """One face followed across frames."""

    track_id: int
    box: Box
    first_seen: float
    last_seen: float
    hits: int = 1
    best_quality: float = 0.0
    encodings: list[tuple[npt.NDArray[np.float64], float]] = field(default_factory=list)
    ear_history: list[float] = field(default_factory=list)

    @property
    def encoded_quality(self) -> float:
        """Quality of the best view encoded so far (0 when never encoded)."""
        return max((q for _, q in self.encodings), default=0.0)

    def best_encoding(self) -> tuple[npt.NDArray[np.float64], float] | None:
        """The encoding of the best view, with its quality."""
        return max(self.encodings, key=lambda item: item[1], default=None)


class FaceTracker:
    """Greedy IoU association of detections to tracks; tracks expire after ``ttl_s``."""

    def __init__(self, iou_threshold: float = 0.3, ttl_s: float = 2.0) -> None:
        self.iou_threshold = iou_threshold
        self.ttl_s = ttl_s
        self.tracks: dict[int, Track] = {}
        self._ids = itertools.count(1)

    def update(self, boxes: list[Box], now: float) -> list[Track]:
        """Associate this frame's boxes; returns the track of each box, in order."""
        self.expire(now)
        pairs = sorted(
            (
                (box.iou(track.box), i, track.track_id)
                for i, box in enumerate(boxes)
                for track in self.tracks.values()
            ),
            reverse=True,
        )
        assigned: dict[int, Track] = {}
        used: set[int] = set()
        for iou, index, track_id in pairs:
            if iou < self.iou_threshold:
                break
            if index in assigned or track_id in used:
                continue
            track = self.tracks[track_id]
            track.box, track.last_seen, track.hits = boxes[index], now, track.hits + 1
            assigned[index] = track
            used.add(track_id)
        for index, box in enumerate(boxes):
            if index not in assigned:
                track = Track(next(self._ids), box, first_seen=now, last_seen=now)
                self.tracks[track.track_id] = track
                assigned[index] = track
        return [assigned[i] for i in range(len(boxes))]

    def retain(self, tracks: list[Track]) -> list[Track]:
        """End every track but ``tracks``; returns the ended ones."""
        keep = {track.track_id for track in tracks}
        gone = [t for t in self.tracks.values() if t.track_id not in keep]
        for track in gone:
            del self.tracks[track.track_id]
        return gone

    def expire(self, now: float) -> list[Track]:
        """Drop and return tracks not seen for ``ttl_s``."""
        gone = [t for t in self.tracks.values() if now - t.last_seen > self.ttl_s]
        for track in gone:
            del self.tracks[track.track_id]
        return gone
