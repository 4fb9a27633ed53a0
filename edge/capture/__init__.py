"""Frame sources (camera, stream, video file, image folder) and the latest-frame reader."""

from edge.capture.latest import Frame, LatestFrameReader, ReaderStats
from edge.capture.sources import (
    CameraSource,
    CaptureConfig,
    EndOfSource,
    FrameSource,
    ImageFolderSource,
    SourceError,
    StreamSource,
    VideoFileSource,
    open_source,
    source_kind,
)

__all__ = [
    "CameraSource",
    "CaptureConfig",
    "EndOfSource",
    "Frame",
    "FrameSource",
    "ImageFolderSource",
    "LatestFrameReader",
    "ReaderStats",
    "SourceError",
    "StreamSource",
    "VideoFileSource",
    "open_source",
    "source_kind",
]
