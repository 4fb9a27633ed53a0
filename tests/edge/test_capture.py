"""Capture: real OpenCV sources on disk, the latest-frame reader, loss and reconnection."""

from __future__ import annotations

import shutil
import time
from collections.abc import Callable
from pathlib import Path

import cv2
import numpy as np
import pytest
from pydantic import ValidationError

from edge.capture import (
    CameraSource,
    CaptureConfig,
    EndOfSource,
    ImageFolderSource,
    LatestFrameReader,
    SourceError,
    StreamSource,
    VideoFileSource,
    open_source,
    source_kind,
)
from edge.capture.sources import redact_url
from edge.decoders.qr import create
from models import CameraState
from tests.support.frames import qr_frame

FAST_RETRY = {"retry_initial_s": 0.02, "retry_max_s": 0.1}


def wait_until(condition: Callable[[], bool], timeout: float = 15.0) -> None:
    """Poll ``condition`` until true; fail after ``timeout`` (a hang guard, not a timing)."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


def marked(value: int, size: tuple[int, int] = (160, 120)) -> np.ndarray:
    """A small BGR frame whose pixels all equal ``value`` (readable back from PNG)."""
    return np.full((size[1], size[0], 3), value, np.uint8)


def write_folder(folder: Path, count: int) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for i in range(count):
        cv2.imwrite(str(folder / f"frame-{i:03d}.png"), marked(10 * (i + 1)))
    return folder


def write_video(path: Path, texts: list[str]) -> Path:
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter.fourcc(*"MJPG"), 25.0, (640, 480))
    assert writer.isOpened()
    for i, text in enumerate(texts):
        writer.write(qr_frame(text, module=5, seed=i))
    writer.release()
    return path


# --- sources --------------------------------------------------------------------------


def test_image_folder_reads_in_name_order_and_skips_unreadable_files(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "replay", 4)
    (folder / "frame-001b.png").write_bytes(b"not a png")
    (folder / "notes.txt").write_text("ignored")
    source = ImageFolderSource(folder)
    source.open()
    values = []
    with pytest.raises(EndOfSource):
        while True:
            image = source.read()
            assert image is not None
            values.append(int(image[0, 0, 0]))
    assert values == [10, 20, 30, 40]
    source.close()
    assert source.read() is None


def test_image_folder_loops_and_missing_folder_fails_to_open(tmp_path: Path) -> None:
    source = ImageFolderSource(write_folder(tmp_path / "a", 2), loop=True)
    source.open()
    values = [int(img[0, 0, 0]) for img in (source.read() for _ in range(5)) if img is not None]
    assert values == [10, 20, 10, 20, 10]
    with pytest.raises(SourceError):
        ImageFolderSource(tmp_path / "missing").open()


def test_video_file_frames_decode_and_end(tmp_path: Path) -> None:
    texts = [f"GGDP1:frame{i:04d}" for i in range(6)]
    source = VideoFileSource(write_video(tmp_path / "gate.avi", texts))
    source.open()
    decoder = create(bounded=False)
    decoded = []
    with pytest.raises(EndOfSource):
        while True:
            image = source.read()
            assert image is not None and image.shape == (480, 640, 3)
            decoded += [s.text for s in decoder.decode(image)]
    assert decoded == texts
    source.close()


def test_looping_video_starts_over(tmp_path: Path) -> None:
    source = VideoFileSource(write_video(tmp_path / "v.avi", ["A1", "B2"]), loop=True)
    source.open()
    assert all(source.read() is not None for _ in range(5))
    source.close()
    with pytest.raises(SourceError):
        VideoFileSource(tmp_path / "missing.avi").open()


def test_source_kind_and_open_source(tmp_path: Path) -> None:
    video = tmp_path / "clip.avi"
    video.write_bytes(b"")
    assert source_kind(0) == source_kind("2") == source_kind("/dev/video1") == "camera"
    assert source_kind("rtsp://cam.local/stream1") == "stream"
    assert source_kind("HTTPS://cam.local/mjpg") == "stream"
    assert source_kind(str(tmp_path)) == "folder"
    assert source_kind(str(tmp_path / "not-yet")) == "folder"
    assert source_kind(str(video)) == source_kind(str(tmp_path / "later.mp4")) == "video"
    assert isinstance(open_source(CaptureConfig(source=0)), CameraSource)
    assert isinstance(open_source(CaptureConfig(source="rtsp://u:p@h/s")), StreamSource)
    assert isinstance(open_source(CaptureConfig(source=str(tmp_path))), ImageFolderSource)
    looping = open_source(CaptureConfig(source=str(video), loop=True))
    assert isinstance(looping, VideoFileSource) and looping.loop


def test_capture_config_is_strict() -> None:
    with pytest.raises(ValidationError):
        CaptureConfig.model_validate({"source": 0, "surprise": 1})
    for bad in ({"source": -1}, {"source": " "}, {"source": 0, "fps": 0}):
        with pytest.raises(ValidationError):
            CaptureConfig.model_validate(bad)
    with pytest.raises(ValidationError):
        CaptureConfig(source=0, retry_initial_s=5, retry_max_s=1)
    for name, field in CaptureConfig.model_fields.items():
        assert field.title and field.description, name


def test_stream_description_hides_the_password() -> None:
    url = "rtsp://admin:hunter2@10.0.0.8:554/Streaming/Channels/101"
    assert "hunter2" not in StreamSource(url).description
    assert redact_url(url) == "rtsp://admin:***@10.0.0.8:554/Streaming/Channels/101"
    assert redact_url("rtsp://10.0.0.8/s") == "rtsp://10.0.0.8/s"


# --- latest-frame reader --------------------------------------------------------------


def test_reader_delivers_a_finite_folder_then_ends(tmp_path: Path) -> None:
    source = ImageFolderSource(write_folder(tmp_path / "f", 5), fps=100)
    with LatestFrameReader(source, **FAST_RETRY) as reader:
        seen = []
        while (frame := reader.get(timeout=5)) is not None:
            seen.append(frame.seq)
            assert frame.image.shape == (120, 160, 3)
        stats = reader.stats()
        assert stats.ended and stats.frames == 5
        assert seen and seen[-1] == 5 and seen == sorted(seen)
        assert stats.state == CameraState.DISABLED
        assert reader.get(timeout=0.01) is None


def test_only_the_newest_frame_is_kept_for_a_slow_consumer(tmp_path: Path) -> None:
    source = ImageFolderSource(write_folder(tmp_path / "f", 3), loop=True)
    with LatestFrameReader(source, **FAST_RETRY) as reader:
        first = reader.get(timeout=5)
        assert first is not None
        wait_until(lambda: reader.stats().frames >= first.seq + 10)  # the consumer is busy
        second = reader.get(timeout=5)
        assert second is not None and second.seq >= first.seq + 10
        assert second.captured_at >= first.captured_at
        assert second.monotonic > first.monotonic
        assert reader.stats().dropped >= second.seq - first.seq - 1
        assert reader.stats().state == CameraState.OK
    assert reader.state == CameraState.DISABLED


def test_removed_video_reconnects_and_recovers(tmp_path: Path) -> None:
    video = write_video(tmp_path / "gate.avi", ["GGDP1:abcd", "GGDP1:efgh", "GGDP1:ijkl"])
    parked = tmp_path / "parked.avi"
    source = VideoFileSource(video, loop=True, fps=200)
    with LatestFrameReader(source, **FAST_RETRY) as reader:
        assert reader.get(timeout=5) is not None
        assert reader.state == CameraState.OK
        video.rename(parked)  # the file goes away: noticed when the loop reopens it
        wait_until(lambda: reader.state == CameraState.RECONNECTING)
        assert reader.stats().last_error is not None
        reader.get(timeout=0)  # take whatever was left over
        frames_while_gone = reader.stats().frames
        parked.rename(video)
        wait_until(lambda: reader.state == CameraState.OK)
        frame = reader.get(timeout=5)
        assert frame is not None and frame.seq > frames_while_gone
        assert reader.stats().reconnects >= 1


def test_removed_folder_reconnects_and_recovers(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "replay", 3)
    source = ImageFolderSource(folder, loop=True, fps=200)
    with LatestFrameReader(source, **FAST_RETRY) as reader:
        assert reader.get(timeout=5) is not None
        shutil.rmtree(folder)
        wait_until(lambda: reader.state == CameraState.RECONNECTING)
        reader.get(timeout=0)
        before = reader.stats().frames
        write_folder(tmp_path / "staging", 3).rename(folder)
        wait_until(lambda: reader.state == CameraState.OK)
        frame = reader.get(timeout=5)
        assert frame is not None and frame.seq > before


def test_a_source_that_never_comes_is_lost_then_found(tmp_path: Path) -> None:
    folder = tmp_path / "later"
    source = ImageFolderSource(folder, loop=True)
    reader = LatestFrameReader(source, lost_after_s=0.2, **FAST_RETRY)
    assert reader.stats().state == CameraState.DISABLED  # not started
    with reader:
        wait_until(lambda: reader.state == CameraState.RECONNECTING)
        wait_until(lambda: reader.state == CameraState.LOST)
        assert reader.get(timeout=0.01) is None
        write_folder(tmp_path / "staging", 2).rename(folder)  # appears at once
        frame = reader.get(timeout=10)
        assert frame is not None and frame.seq >= 1
        assert reader.state == CameraState.OK
        assert reader.stats().reconnects >= 1


def test_missing_camera_reports_reconnecting() -> None:
    reader = LatestFrameReader(CameraSource("/dev/video63"), lost_after_s=60, **FAST_RETRY)
    with reader:
        wait_until(lambda: reader.stats().reconnects >= 2)
        stats = reader.stats()
        assert stats.state == CameraState.RECONNECTING
        assert stats.frames == 0 and stats.fps == 0.0


def test_reader_from_config(tmp_path: Path) -> None:
    folder = write_folder(tmp_path / "cfg", 2)
    config = CaptureConfig(source=str(folder), loop=True, fps=50, retry_initial_s=0.05)
    with LatestFrameReader.from_config(config) as reader:
        frame = reader.get(timeout=5)
        assert frame is not None
        wait_until(lambda: reader.stats().fps > 0)
    with pytest.raises(ValueError):
        LatestFrameReader(ImageFolderSource(folder), retry_initial_s=0)
