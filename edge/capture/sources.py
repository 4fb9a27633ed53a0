"""Frame sources: USB camera, RTSP/HTTP stream, video file, image folder (all via OpenCV).

A source is opened, read frame by frame (BGR ``uint8``) and closed; it can be opened
again after a failure, which is how :class:`edge.capture.latest.LatestFrameReader`
reconnects. ``read`` returns None when no frame came (camera gone, stream broken) and
raises :class:`EndOfSource` when a finite source (not looping) is exhausted.
"""

from __future__ import annotations

import logging
import re
import sys
import time
from pathlib import Path
from typing import Literal, Protocol, runtime_checkable
from urllib.parse import urlsplit

import cv2
import numpy as np
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

logger = logging.getLogger(__name__)

SourceKind = Literal["camera", "stream", "folder", "video"]
STREAM_SCHEMES = ("rtsp://", "rtsps://", "http://", "https://")
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".webp", ".tif", ".tiff")


class SourceError(Exception):
    """The source could not be opened."""


class EndOfSource(Exception):  # noqa: N818 - a signal, like StopIteration
    """A finite, non-looping source has no more frames."""


@runtime_checkable
class FrameSource(Protocol):
    """Where frames come from. Not thread-safe: one reader thread uses it."""

    description: str

    def open(self) -> None:
        """(Re)open the source; raise :class:`SourceError` when it cannot be."""
        ...

    def read(self) -> np.ndarray | None:
        """The next BGR frame; None when none came; :class:`EndOfSource` when done."""
        ...

    def close(self) -> None:
        """Release the source (idempotent)."""
        ...


class CaptureConfig(BaseModel):
    """The capture section of an edge agent's configuration."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    source: int | str = Field(
        ...,
        title="Source",
        description=(
            "Camera index (0) or device (/dev/video0), rtsp:// or http(s):// stream URL, "
            "video file, or image folder."
        ),
    )
    loop: bool = Field(
        False, title="Loop", description="Start a video file or image folder over at its end."
    )
    fps: float | None = Field(
        None,
        gt=0,
        le=240,
        title="Playback rate",
        description="Frames per second for video files and image folders; null: unthrottled.",
    )
    width: int | None = Field(
        None, ge=1, le=8192, title="Width", description="Camera resolution to request."
    )
    height: int | None = Field(
        None, ge=1, le=8192, title="Height", description="Camera resolution to request."
    )
    fourcc: str | None = Field(
        None,
        pattern=r"^[A-Za-z0-9 ]{4}$",
        title="Camera pixel format",
        description="FOURCC to request from a USB camera, e.g. MJPG for 720p at full rate.",
    )
    open_timeout_s: float = Field(
        10.0, gt=0, le=300, title="Open timeout", description="Streams: connection timeout."
    )
    read_timeout_s: float = Field(
        10.0, gt=0, le=300, title="Read timeout", description="Streams: longest wait per frame."
    )
    retry_initial_s: float = Field(
        0.5, gt=0, le=60, title="First retry delay", description="Backoff start after a failure."
    )
    retry_max_s: float = Field(
        10.0, gt=0, le=600, title="Longest retry delay", description="Backoff cap (doubling)."
    )
    lost_after_s: float = Field(
        30.0,
        gt=0,
        le=86400,
        title="Lost after",
        description="Without a frame for this long the camera is reported lost.",
    )

    @field_validator("source")
    @classmethod
    def _valid_source(cls, value: int | str) -> int | str:
        if isinstance(value, bool) or (isinstance(value, int) and value < 0):
            raise ValueError("a camera index is a non-negative integer")
        if isinstance(value, str) and not value.strip():
            raise ValueError("source must not be empty")
        return value

    @model_validator(mode="after")
    def _backoff_order(self) -> CaptureConfig:
        if self.retry_max_s < self.retry_initial_s:
            raise ValueError("retry_max_s must be at least retry_initial_s")
        return self


def source_kind(spec: int | str) -> SourceKind:
    """Which kind of source ``spec`` names (a missing path without suffix: a folder)."""
    if isinstance(spec, int):
        return "camera"
    text = spec.strip()
    if text.isdigit() or re.fullmatch(r"/dev/video[0-9]+", text):
        return "camera"
    if text.lower().startswith(STREAM_SCHEMES):
        return "stream"
    path = Path(text).expanduser()
    if path.is_dir() or (not path.exists() and not path.suffix):
        return "folder"
    return "video"


def open_source(config: CaptureConfig) -> FrameSource:
    """The source for ``config.source``, not yet opened: call ``open()`` or hand it to
    :class:`~edge.capture.latest.LatestFrameReader`, which opens and reopens it."""
    spec = config.source
    kind = source_kind(spec)
    if kind == "camera":
        device = int(spec) if isinstance(spec, int) or spec.strip().isdigit() else spec.strip()
        return CameraSource(device, width=config.width, height=config.height, fourcc=config.fourcc)
    assert isinstance(spec, str)
    if kind == "stream":
        return StreamSource(
            spec.strip(),
            open_timeout_s=config.open_timeout_s,
            read_timeout_s=config.read_timeout_s,
        )
    path = Path(spec.strip()).expanduser()
    if kind == "folder":
        return ImageFolderSource(path, loop=config.loop, fps=config.fps)
    return VideoFileSource(path, loop=config.loop, fps=config.fps)


class _Pacer:
    """Spaces reads at ``fps`` (no-op when None)."""

    def __init__(self, fps: float | None) -> None:
        self._period = 1.0 / fps if fps else 0.0
        self._next = 0.0

    def wait(self) -> None:
        if not self._period:
            return
        now = time.monotonic()
        if self._next > now:
            time.sleep(self._next - now)
        self._next = max(self._next, now) + self._period


class _CaptureSource:
    """Shared ``cv2.VideoCapture`` handling."""

    description = "capture"

    def __init__(self) -> None:
        self._cap: cv2.VideoCapture | None = None

    def _create(self) -> cv2.VideoCapture:
        raise NotImplementedError

    def open(self) -> None:
        self.close()
        cap = self._create()
        if not cap.isOpened():
            cap.release()
            raise SourceError(f"cannot open {self.description}")
        self._cap = cap

    def _grab(self) -> np.ndarray | None:
        if self._cap is None:
            return None
        ok, image = self._cap.read()
        return image if ok and image is not None and image.size else None

    def read(self) -> np.ndarray | None:
        return self._grab()

    def close(self) -> None:
        if self._cap is not None:
            self._cap.release()
            self._cap = None


class CameraSource(_CaptureSource):
    """A local camera by index or device path (V4L2 on Linux)."""

    def __init__(
        self,
        device: int | str,
        *,
        width: int | None = None,
        height: int | None = None,
        fourcc: str | None = None,
    ) -> None:
        super().__init__()
        self.device = device
        self.description = f"camera {device}"
        self._width, self._height, self._fourcc = width, height, fourcc

    def _create(self) -> cv2.VideoCapture:
        api = cv2.CAP_V4L2 if sys.platform.startswith("linux") else cv2.CAP_ANY
        cap = cv2.VideoCapture(self.device, api)
        if self._fourcc:
            cap.set(cv2.CAP_PROP_FOURCC, cv2.VideoWriter.fourcc(*self._fourcc))
        if self._width:
            cap.set(cv2.CAP_PROP_FRAME_WIDTH, self._width)
        if self._height:
            cap.set(cv2.CAP_PROP_FRAME_HEIGHT, self._height)
        cap.set(cv2.CAP_PROP_BUFFERSIZE, 1)  # the driver's queue is stale frames
        return cap


def redact_url(url: str) -> str:
    """``url`` without its password (for logs and status)."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return parts._replace(netloc=f"{parts.username}:***@{host}{port}").geturl()


class StreamSource(_CaptureSource):
    """An RTSP or HTTP(S) stream through FFmpeg, with open and read timeouts.

    For RTSP over TCP (advisable on lossy links) set the environment variable
    ``OPENCV_FFMPEG_CAPTURE_OPTIONS=rtsp_transport;tcp`` before starting the agent.
    """

    def __init__(self, url: str, *, open_timeout_s: float = 10.0, read_timeout_s: float = 10.0):
        super().__init__()
        self.url = url
        self.description = f"stream {redact_url(url)}"
        self._params = [
            cv2.CAP_PROP_OPEN_TIMEOUT_MSEC,
            int(open_timeout_s * 1000),
            cv2.CAP_PROP_READ_TIMEOUT_MSEC,
            int(read_timeout_s * 1000),
        ]

    def _create(self) -> cv2.VideoCapture:
        return cv2.VideoCapture(self.url, cv2.CAP_FFMPEG, self._params)


class VideoFileSource(_CaptureSource):
    """A video file; ``loop`` reopens it at the end (so a replaced file is picked up)."""

    def __init__(self, path: Path, *, loop: bool = False, fps: float | None = None) -> None:
        super().__init__()
        self.path = Path(path)
        self.loop = loop
        self.description = f"video {self.path}"
        self._pacer = _Pacer(fps)

    def _create(self) -> cv2.VideoCapture:
        if not self.path.is_file():
            raise SourceError(f"no such video file: {self.path}")
        return cv2.VideoCapture(str(self.path), cv2.CAP_FFMPEG)

    def read(self) -> np.ndarray | None:
        self._pacer.wait()
        image = self._grab()
        if image is not None or self._cap is None:
            return image
        if not self.loop:
            raise EndOfSource(self.description)
        try:
            self.open()
        except SourceError:
            return None
        return self._grab()


class ImageFolderSource:
    """Image files of a folder in name order; ``loop`` re-lists the folder at the end.

    Unreadable files are skipped; a missing or empty folder reads as no frame.
    """

    def __init__(
        self,
        path: Path,
        *,
        loop: bool = False,
        fps: float | None = None,
        extensions: tuple[str, ...] = IMAGE_EXTENSIONS,
    ) -> None:
        self.path = Path(path)
        self.loop = loop
        self.description = f"folder {self.path}"
        self._extensions = tuple(e.lower() for e in extensions)
        self._pacer = _Pacer(fps)
        self._files: list[Path] = []
        self._index = 0
        self._open = False

    def _list(self) -> list[Path]:
        try:
            entries = list(self.path.iterdir())
        except OSError:
            return []
        return sorted(p for p in entries if p.suffix.lower() in self._extensions)

    def open(self) -> None:
        files = self._list()
        if not files:
            raise SourceError(f"no images in {self.path}")
        self._files, self._index, self._open = files, 0, True

    def read(self) -> np.ndarray | None:
        if not self._open:
            return None
        self._pacer.wait()
        for _ in range(len(self._files) + 1):
            if self._index >= len(self._files):
                if not self.loop:
                    raise EndOfSource(self.description)
                self._files, self._index = self._list(), 0
                if not self._files:
                    return None
            path = self._files[self._index]
            self._index += 1
            image = cv2.imread(str(path), cv2.IMREAD_COLOR) if path.is_file() else None
            if image is not None:
                return image
        return None

    def close(self) -> None:
        self._open = False
        self._files = []
