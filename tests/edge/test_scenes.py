"""Simulated gate scenes: sizes, sensor noise, fake-face markers, codes a decoder reads."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from edge.decoders.faces.fake import FakeFaceBackend
from edge.decoders.qr import create
from edge.decoders.qr.base import as_gray
from edge.simulate.scenes import HD, VGA, Scene, Size, render

PLATE = "GGDP1:310101001001"


@pytest.mark.parametrize("size", [VGA, HD, (800, 600)], ids=["vga", "hd", "svga"])
def test_scenes_render_at_any_size_with_readable_codes_and_findable_markers(size: Size) -> None:
    scene = Scene(marker=12, codes=[PLATE, "x" * 120])
    frame = render(scene, jitter=3, size=size)
    assert frame.shape == (size[1], size[0], 3) and frame.dtype == np.uint8
    texts = {s.text for s in create("zxing", bounded=False).decode(as_gray(frame))}
    assert texts == {PLATE, "x" * 120}
    (box,) = FakeFaceBackend().detect(cv2.cvtColor(frame, cv2.COLOR_BGR2RGB), upsample=0)
    assert box.height > 0.2 * size[1]  # the layout scales with the frame height


def test_the_default_frame_is_unchanged_by_the_new_options() -> None:
    scene = Scene(codes=[PLATE], seed=4)
    assert np.array_equal(render(scene, 2), render(scene, 2, size=VGA, noise=0.0))
    assert render(scene).shape == (480, 640, 3)


def test_sensor_noise_differs_per_frame_and_repeats_per_seed() -> None:
    scene = Scene(codes=[PLATE])
    clean = render(scene).astype(np.int16)
    first, again = render(scene, noise=3.0, noise_seed=1), render(scene, noise=3.0, noise_seed=1)
    other = render(scene, noise=3.0, noise_seed=2)
    assert np.array_equal(first, again)
    assert not np.array_equal(first, other)
    assert 2.0 < float(np.std(first.astype(np.int16) - clean)) < 4.0
    marked = render(Scene(marker=5), noise=3.0)  # the marker stays exact under noise
    assert len(FakeFaceBackend().detect(cv2.cvtColor(marked, cv2.COLOR_BGR2RGB), 0)) == 1
