"""Face quality: size, sharpness and frontal pose, combined into one score in 0..1."""

from __future__ import annotations

import math

import cv2
import numpy as np

from edge.decoders.faces.base import Box, Image, Landmarks, Point


def _centre(points: list[Point]) -> tuple[float, float]:
    xs, ys = zip(*points, strict=True)
    return sum(xs) / len(xs), sum(ys) / len(ys)


def frontal_score(landmarks: Landmarks) -> float:
    """1.0 when the nose tip sits midway between the eyes, falling to 0 in profile."""
    if not (landmarks.left_eye and landmarks.right_eye and landmarks.nose_tip):
        return 0.0
    left_x, _ = _centre(landmarks.left_eye)
    right_x, _ = _centre(landmarks.right_eye)
    nose_x, _ = _centre(landmarks.nose_tip)
    span = right_x - left_x
    if abs(span) < 1e-6:
        return 0.0
    ratio = (nose_x - left_x) / span
    return max(0.0, 1.0 - abs(ratio - 0.5) * 2.0)


def sharpness_score(grey_crop: Image, full_at: float = 150.0) -> float:
    """Variance of the Laplacian on a 96 px crop, scaled so ``full_at`` scores 1."""
    if grey_crop.size == 0:
        return 0.0
    crop = cv2.resize(grey_crop, (96, 96), interpolation=cv2.INTER_AREA)
    variance = float(cv2.Laplacian(crop, cv2.CV_64F).var())
    return min(1.0, variance / full_at)


def size_score(box: Box, min_area: int, full_side: int = 160) -> float:
    """0 under the minimum area, rising to 1 at ``full_side`` pixels square."""
    if box.area < min_area:
        return 0.0
    return min(1.0, math.sqrt(box.area) / full_side)


def view_quality(frame_bgr: Image, box: Box, min_area: int) -> float:
    """Size and sharpness blended: the quality a perfectly frontal face would have here.

    A face's quality is ``view_quality * pose_factor`` (0 when too small, at most 1); this
    part needs no landmarks, so it bounds the quality from above cheaply.
    """
    size = size_score(box, min_area)
    if size == 0.0:
        return 0.0
    height, width = frame_bgr.shape[:2]
    top, bottom = max(0, box.top), min(height, box.bottom)
    crop = frame_bgr[top:bottom, max(0, box.left) : min(width, box.right)]
    grey = cv2.cvtColor(crop, cv2.COLOR_BGR2GRAY) if crop.size else np.zeros((0, 0), np.uint8)
    sharp = sharpness_score(grey)
    return float(size**0.4 * max(sharp, 0.01) ** 0.3)


def pose_factor(landmarks: Landmarks) -> float:
    """The pose part of the quality, in 0..1 (1: frontal)."""
    return float(max(frontal_score(landmarks), 0.01) ** 0.3)


def eye_aspect_ratio(eye: list[Point]) -> float | None:
    """Eye aspect ratio of a 6-point eye (Soukupová & Čech); low when the eye is closed."""
    if len(eye) != 6:
        return None
    p = [np.asarray(point, dtype=np.float64) for point in eye]
    horizontal = float(np.linalg.norm(p[0] - p[3]))
    if horizontal < 1e-6:
        return None
    vertical = float(np.linalg.norm(p[1] - p[5]) + np.linalg.norm(p[2] - p[4]))
    return vertical / (2.0 * horizontal)
