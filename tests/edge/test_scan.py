"""``gridgate-edge scan VIDEO``: a generated video file through the real pipeline, offline."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
from typer.testing import CliRunner

from edge.cli import app as cli
from models import PassageEvent
from models.events import GateAction, HealthCodeFormat, VerificationStatus
from tests.edge.test_qr import byte_mode_frame
from tests.support.frames import empty_frame, qr_frame

PLATE = "GGDP1:310101001001"
NOT_UTF8 = b"HC1:\xff\xfe\x00abc"
"""Once read by zxing as 'HC1:ÿþ<NUL>abc', an EU DCC to verify (and deny)."""


def write_video(path: Path, frames: list[np.ndarray], fps: float = 10.0) -> Path:
    """An MJPEG .avi of ``frames`` (640x480 BGR)."""
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), fps, (640, 480))
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def _events(output: str) -> list[PassageEvent]:
    return [PassageEvent.model_validate(json.loads(line)) for line in output.splitlines()]


def test_scan_of_a_video_names_the_codes_in_it(tmp_path: Path) -> None:
    quiet = [empty_frame(seed=i) for i in range(3)]
    plate = [qr_frame(PLATE, module=5, seed=10 + i) for i in range(4)]
    code = [qr_frame("HC1:NOT-A-REAL-DCC", module=5, seed=20 + i) for i in range(4)]
    gap = [empty_frame(seed=30 + i) for i in range(40)]  # 4 s at 10 fps: the window closes
    video = write_video(tmp_path / "gate.avi", quiet + plate + gap + code + quiet)

    result = CliRunner().invoke(cli, ["scan", str(video), "--no-faces"])

    assert result.exit_code == 0, result.stderr
    first, second = _events(result.stdout)
    assert [p.address_code for p in first.door_plates()] == ["310101001001"]
    assert first.health_codes() == [] and first.faces() == []
    assert first.decision.action is not GateAction.DENY
    assert second.door_plates() == []
    (health,) = second.health_codes()
    assert health.format is HealthCodeFormat.EU_DCC
    assert health.status is VerificationStatus.INVALID
    assert first.event_id != second.event_id
    assert f"{len(quiet + plate + gap + code + quiet)} frames, 2 passages" in result.stderr


def test_scan_of_a_video_ignores_a_non_utf8_code_and_counts_it(tmp_path: Path) -> None:
    frames = [empty_frame(seed=1)] + [byte_mode_frame(NOT_UTF8)] * 4 + [empty_frame(seed=2)]
    video = write_video(tmp_path / "odd.avi", frames)

    result = CliRunner().invoke(cli, ["scan", str(video), "--no-faces"])

    assert result.exit_code == 0, result.stderr
    assert result.stdout == ""  # no passage: no EU DCC to deny
    assert "6 frames, 0 passages, codes: {'unknown:not_utf8': 4}" in result.stderr


def test_scan_of_a_file_that_is_not_a_video_fails_with_exit_code_2(tmp_path: Path) -> None:
    broken = tmp_path / "broken.avi"
    broken.write_bytes(b"RIFF\x00\x00\x00\x00AVI garbage" * 50)

    result = CliRunner().invoke(cli, ["scan", str(broken), "--no-faces"])

    assert result.exit_code == 2
    assert "broken.avi" in result.stderr
    assert result.stdout == ""
