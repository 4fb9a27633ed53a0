"""HTTP camera streams: real MJPEG served from a local thread, read through OpenCV's FFmpeg.

The server speaks what IP cameras do (``multipart/x-mixed-replace`` of JPEG parts); the
test drops it and brings it back on the same port, as a camera reboot or a cut cable does.
"""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator

import cv2
import numpy as np
import pytest

from edge.capture import CaptureConfig, LatestFrameReader, SourceError, StreamSource
from edge.decoders.qr import create
from models import CameraState
from tests.edge.test_capture import wait_until
from tests.support.frames import qr_frame

BOUNDARY = "gridgate-frame"


class MjpegCamera:
    """An MJPEG-over-HTTP camera on 127.0.0.1 that can be stopped and started again.

    It serves ``/video.mjpg`` (every other path is a 404), repeating one JPEG ``picture``
    about 25 times a second to every client until stopped.
    """

    def __init__(self, picture: np.ndarray) -> None:
        self.port = 0
        self.clients = 0
        self._stopping = threading.Event()
        self._lock = threading.Lock()
        self._server: http.server.ThreadingHTTPServer | None = None
        self.show(picture)

    def show(self, picture: np.ndarray) -> None:
        """Serve ``picture`` from now on."""
        ok, jpeg = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, 90])
        assert ok
        self._part = (
            f"--{BOUNDARY}\r\nContent-Type: image/jpeg\r\n"
            f"Content-Length: {jpeg.size}\r\n\r\n".encode()
            + jpeg.tobytes()
            + b"\r\n"
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/video.mjpg"

    def start(self) -> None:
        """Listen (on the same port as before, after a stop)."""
        camera = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                if self.path != "/video.mjpg":
                    self.send_error(404)
                    return
                self.send_response(200)
                self.send_header("Content-Type", f"multipart/x-mixed-replace; boundary={BOUNDARY}")
                self.end_headers()
                with camera._lock:
                    camera.clients += 1
                try:
                    while not camera._stopping.wait(0.04):
                        self.wfile.write(camera._part)
                        self.wfile.flush()
                except OSError:  # the reader hung up
                    pass
                finally:
                    with camera._lock:
                        camera.clients -= 1

            def log_message(self, format: str, *args: object) -> None:
                pass

        self._stopping.clear()
        server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.port = server.server_address[1]
        self._server = server
        threading.Thread(target=server.serve_forever, name="mjpeg-camera", daemon=True).start()

    def stop(self) -> None:
        """Stop listening and drop every open stream."""
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        wait_until(lambda: self.clients == 0)


@pytest.fixture
def camera() -> Iterator[MjpegCamera]:
    camera = MjpegCamera(qr_frame("GGDP1:310101001001", module=5, seed=1))
    camera.start()
    yield camera
    camera.stop()


def _texts(reader: LatestFrameReader) -> list[str | None]:
    frame = reader.get(timeout=15.0)
    assert frame is not None, "no frame from the stream"
    assert frame.image.shape == (480, 640, 3)
    return [symbol.text for symbol in create("zxing", bounded=False).decode(frame.image)]


def test_mjpeg_stream_is_read_and_survives_the_camera_dropping_out(camera: MjpegCamera) -> None:
    config = CaptureConfig(
        source=camera.url,
        open_timeout_s=5.0,
        read_timeout_s=5.0,
        retry_initial_s=0.05,
        retry_max_s=0.2,
        lost_after_s=300.0,
    )
    with LatestFrameReader.from_config(config) as reader:
        assert isinstance(reader.source, StreamSource)
        wait_until(lambda: reader.state is CameraState.OK)
        assert _texts(reader) == ["GGDP1:310101001001"]
        assert camera.clients == 1

        camera.stop()  # the camera reboots: the stream breaks, reconnecting is refused
        wait_until(lambda: reader.state is CameraState.RECONNECTING)
        stats = reader.stats()
        assert stats.last_error is not None
        wait_until(lambda: reader.stats().reconnects >= 2)  # it keeps trying

        camera.show(qr_frame("GGDP1:310101001002", module=5, seed=2))
        camera.start()
        wait_until(lambda: reader.state is CameraState.OK)
        wait_until(lambda: _texts(reader) == ["GGDP1:310101001002"])  # the new stream's frames
        assert camera.clients == 1  # one connection, not a pile of them


def test_a_camera_gone_too_long_is_reported_lost_then_found(camera: MjpegCamera) -> None:
    source = StreamSource(camera.url, open_timeout_s=5.0, read_timeout_s=5.0)
    with LatestFrameReader(
        source, retry_initial_s=0.05, retry_max_s=0.2, lost_after_s=1.0
    ) as reader:
        wait_until(lambda: reader.state is CameraState.OK)
        camera.stop()
        wait_until(lambda: reader.state is CameraState.LOST)
        assert reader.stats().frames > 0
        camera.start()
        wait_until(lambda: reader.state is CameraState.OK)
        assert reader.get(timeout=15.0) is not None


def test_a_wrong_stream_path_does_not_open(camera: MjpegCamera) -> None:
    source = StreamSource(camera.url.replace("video.mjpg", "nope"), open_timeout_s=5.0)
    with pytest.raises(SourceError, match="cannot open stream"):
        source.open()
    source.close()
