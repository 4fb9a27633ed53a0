"""A scripted camera: people step up to the gate one after another, with empty frames between.

It implements the capture ``FrameSource`` protocol, so the real agent runs on it unchanged.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

from edge.capture import EndOfSource
from edge.simulate.scenes import Frame, Scene, background, render


class ScriptedGateSource:
    """Plays ``scenes`` at ``fps``: each for ``frames_per_scene`` frames, then an empty gate."""

    def __init__(
        self,
        scenes: Sequence[Scene],
        *,
        fps: float = 10.0,
        frames_per_scene: int = 12,
        empty_frames: int = 40,
        loop: bool = True,
    ) -> None:
        self.description = f"simulated gate ({len(scenes)} scenes)"
        self.fps = fps
        self.loop = loop
        self._frames: list[Frame] = []
        for index, scene in enumerate(scenes):
            self._frames += [render(scene, jitter=i) for i in range(frames_per_scene)]
            empty = background(seed=1000 + index)
            self._frames += [empty] * empty_frames
        self._position = 0
        self._next_at = 0.0

    def open(self) -> None:
        """Start from the first frame."""
        self._position = 0
        self._next_at = time.monotonic()

    def read(self) -> Frame | None:
        """The next frame, paced at ``fps``."""
        if self._position >= len(self._frames):
            if not self.loop:
                raise EndOfSource(self.description)
            self._position = 0
        delay = self._next_at - time.monotonic()
        if delay > 0:
            time.sleep(delay)
        self._next_at = max(self._next_at + 1.0 / self.fps, time.monotonic() - 1.0)
        frame = self._frames[self._position]
        self._position += 1
        return frame.copy()

    def close(self) -> None:
        """Nothing to release."""
