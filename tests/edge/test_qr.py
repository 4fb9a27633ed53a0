"""QR decoding: real generated frames through the real backends, the registry, time bounds."""

from __future__ import annotations

import importlib.abc
import logging
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from types import ModuleType

import numpy as np
import pytest
import segno

from edge.decoders.payloads import PayloadClassifier, Unknown, UnknownReason
from edge.decoders.qr import (
    BoundedDecoder,
    QrDecoder,
    QrSymbol,
    as_gray,
    available,
    create,
    default_backend,
    load_backends,
)
from edge.decoders.qr.base import qr_backends
from edge.decoders.qr.fake import FakeQrDecoder
from edge.registry import BackendUnavailableError
from tests.support.frames import VGA, FrameCase, empty_frame, frame_suite, qr_frame

REAL_BACKENDS = ("zxing", "pyzbar", "opencv")


@pytest.fixture(scope="module")
def suite() -> list[tuple[FrameCase, np.ndarray]]:
    """The standard 640x480 suite, with each frame's grayscale version."""
    return [(case, as_gray(case.image)) for case in frame_suite(size=VGA)]


def _reads(decoder: QrDecoder, case: FrameCase, gray: np.ndarray) -> bool:
    texts = [symbol.text for symbol in decoder.decode(gray)]
    return case.expected in texts if case.expected is not None else not texts


def _wait_until(condition: object, timeout: float = 10.0) -> None:
    assert callable(condition)
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.01)


@pytest.mark.parametrize("name", ["zxing", "pyzbar"])
def test_real_backends_read_clean_sized_and_rotated_codes(
    name: str, suite: list[tuple[FrameCase, np.ndarray]]
) -> None:
    decoder = create(name, bounded=False)
    cases = [(c, g) for c, g in suite if c.group in ("clean", "size", "rotation")]
    assert len(cases) >= 30
    missed = [c.label for c, g in cases if not _reads(decoder, c, g)]
    assert missed == []


@pytest.mark.parametrize("name", REAL_BACKENDS)
def test_symbols_carry_text_raw_bytes_and_corners(name: str) -> None:
    text = "GGDP1:310101001001"
    image = qr_frame(text, module=6, center=(320.0, 240.0), seed=3)
    symbols = create(name, bounded=False).decode(image)  # BGR is converted
    assert [s.text for s in symbols] == [text]
    symbol = symbols[0]
    assert symbol.raw == text.encode()
    assert symbol.payload == text
    assert symbol.backend == name
    assert len(symbol.corners) == 4
    xs, ys = zip(*symbol.corners, strict=True)
    assert 100 < min(xs) < 320 < max(xs) < 540
    assert 20 < min(ys) < 240 < max(ys) < 460


def test_default_backend_reads_at_least_as_many_as_pyzbar(
    suite: list[tuple[FrameCase, np.ndarray]],
) -> None:
    assert default_backend() == "zxing"
    default, zbar = create(bounded=False), create("pyzbar", bounded=False)
    assert default.name == "zxing"
    readable = [(c, g) for c, g in suite if c.expected is not None]
    default_reads = sum(_reads(default, c, g) for c, g in readable)
    zbar_reads = sum(_reads(zbar, c, g) for c, g in readable)
    assert default_reads >= zbar_reads
    assert default_reads >= 0.9 * len(readable)


@pytest.mark.parametrize("name", REAL_BACKENDS)
def test_unreadable_frames_and_odd_images_yield_nothing(
    name: str, suite: list[tuple[FrameCase, np.ndarray]]
) -> None:
    decoder = create(name, bounded=False)
    nothing = [g for c, g in suite if c.expected is None]
    assert len(nothing) >= 8
    odd = [
        np.zeros((480, 640), np.uint8),
        np.full((480, 640), 255, np.uint8),
        np.zeros((1, 1), np.uint8),
        np.zeros((3, 5), np.uint8),
        np.random.default_rng(0).integers(0, 256, (480, 640), dtype=np.uint8),
        np.zeros((240, 320, 1), np.uint8),
        empty_frame(seed=5),  # BGR
    ]
    for image in [*nothing, *odd]:
        assert decoder.decode(image) == []


def test_as_gray_converts_and_rejects() -> None:
    assert as_gray(np.zeros((4, 6, 3), np.uint8)).shape == (4, 6)
    assert as_gray(np.zeros((4, 6, 4), np.uint8)).shape == (4, 6)
    assert as_gray(np.full((4, 6), 300.0)).dtype == np.uint8
    with pytest.raises(ValueError):
        as_gray(np.zeros(5, np.uint8))


# --- time bounds ----------------------------------------------------------------------


def test_bounded_decoder_times_out_and_skips_while_stuck() -> None:
    gate = threading.Event()
    stuck = FakeQrDecoder([["first"], ["second"]], gate=gate)
    frame = np.zeros((48, 64), np.uint8)
    with BoundedDecoder(stuck, deadline_s=0.05) as bounded:
        assert bounded.decode(frame) == []  # the first decode hangs past its deadline
        stats = bounded.stats()
        assert (stats.timeouts, stats.busy) == (1, True)
        for _ in range(3):  # no new thread, no queue: frames are skipped
            assert bounded.decode(frame) == []
        assert bounded.stats().skipped == 3
        assert stuck.calls == 1
        gate.set()
        _wait_until(lambda: not bounded.stats().busy)
        assert [s.text for s in bounded.decode(frame)] == ["second"]
        stats = bounded.stats()
        assert (stats.calls, stats.completed, stats.timeouts, stats.skipped) == (5, 2, 1, 3)


def test_bounded_decoder_abandons_a_slow_real_call() -> None:
    slow = FakeQrDecoder([["late"]], delay_s=0.5)
    with BoundedDecoder(slow, deadline_s=0.01) as bounded:
        assert bounded.decode(np.zeros((8, 8), np.uint8)) == []
        assert bounded.stats().timeouts == 1


def test_bounded_decoder_turns_backend_errors_into_warnings(
    caplog: pytest.LogCaptureFixture,
) -> None:
    broken = FakeQrDecoder([RuntimeError("decoder blew up"), ["ok"]])
    with BoundedDecoder(broken, deadline_s=5.0) as bounded:
        assert bounded.decode(np.zeros((8, 8), np.uint8)) == []
        assert [s.text for s in bounded.decode(np.zeros((8, 8), np.uint8))] == ["ok"]
        assert bounded.stats().errors == 1
    warnings = [r for r in caplog.records if "decoder blew up" in r.getMessage()]
    assert warnings and all(r.levelno == logging.WARNING and not r.exc_info for r in warnings)


def test_bounded_decoder_with_real_backend_and_closed_use() -> None:
    bounded = create("zxing", deadline_s=5.0)
    assert isinstance(bounded, BoundedDecoder)
    text = "https://plates.example.org/a/310115-0042-0301"
    assert [s.text for s in bounded.decode(as_gray(qr_frame(text, seed=1)))] == [text]
    bounded.close()
    bounded.close()
    with pytest.raises(RuntimeError):
        bounded.decode(np.zeros((8, 8), np.uint8))


def test_fake_backend_follows_its_script() -> None:
    fake = create("fake", bounded=False, script=[["GGDP1:abcd", b"\xff\x00"], []], loop=True)
    first = fake.decode(np.zeros((8, 8), np.uint8))
    assert [s.payload for s in first] == ["GGDP1:abcd", b"\xff\x00"]
    assert first[1].text is None
    assert fake.decode(np.zeros((8, 8), np.uint8)) == []
    assert len(fake.decode(np.zeros((8, 8), np.uint8))) == 2  # looped
    symbol = QrSymbol("x", b"x")
    assert FakeQrDecoder([[symbol]]).decode(np.zeros((2, 2), np.uint8)) == [symbol]


# --- registry -------------------------------------------------------------------------


class _Unloadable(importlib.abc.MetaPathFinder):
    """Makes importing ``name`` fail the way a missing shared library does."""

    def __init__(self, name: str, error: Exception) -> None:
        self.name, self.error = name, error

    def find_spec(
        self, fullname: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> None:
        if fullname == self.name:
            raise self.error
        return None


@pytest.fixture
def without_pyzbar(
    request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> Iterator[None]:
    """pyzbar's import fails (ImportError or OSError) until the test ends."""
    error: Exception = request.param
    monkeypatch.delitem(sys.modules, "edge.decoders.qr.pyzbar", raising=False)
    monkeypatch.delitem(sys.modules, "pyzbar.pyzbar", raising=False)
    monkeypatch.setattr(sys, "meta_path", [_Unloadable("pyzbar.pyzbar", error), *sys.meta_path])
    yield


@pytest.mark.parametrize(
    "without_pyzbar",
    [
        ImportError("Unable to find zbar shared library"),
        OSError("libzbar.so.0: cannot open shared object file: No such file or directory"),
    ],
    indirect=True,
    ids=["ImportError", "OSError"],
)
def test_a_backend_that_cannot_import_is_skipped_with_a_warning(
    without_pyzbar: None, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="edge.registry"):
        backends = load_backends()
    assert "pyzbar" not in backends
    assert {"zxing", "opencv", "fake"} <= set(backends)
    assert isinstance(backends["zxing"](), QrDecoder)
    warnings = [r for r in caplog.records if "edge.decoders.qr.pyzbar" in r.getMessage()]
    assert len(warnings) == 1
    assert warnings[0].levelno == logging.WARNING and not warnings[0].exc_info


def test_registry_lists_and_creates() -> None:
    assert available()[:3] == ["zxing", "pyzbar", "opencv"]
    assert "fake" in available()
    assert isinstance(create(), BoundedDecoder)
    assert create("opencv", bounded=False).name == "opencv"
    with pytest.raises(ValueError, match="available"):
        create("zbar-ng")
    with pytest.raises(BackendUnavailableError):
        create("zbar-ng")


def test_qr_backends_live_in_the_shared_plugin_registry() -> None:
    assert {"zxing", "pyzbar", "opencv", "fake"} <= set(qr_backends.available())
    assert isinstance(qr_backends.create("fake"), QrDecoder)
    assert set(qr_backends.factories(["edge.decoders.qr.fake"])) == {"fake"}
    assert qr_backends.load(["edge.decoders.qr.fake", "edge.decoders.qr.nope"]) == [
        "edge.decoders.qr.fake"
    ]
    assert "ModuleNotFoundError" in qr_backends.failed["edge.decoders.qr.nope"]


def byte_mode_frame(raw: bytes) -> np.ndarray:
    """A camera-like frame with a byte-mode QR code holding exactly ``raw``."""
    modules = np.array(segno.make_qr(raw, mode="byte").matrix, dtype=bool)
    plate = np.kron(np.where(np.pad(modules, 4), 30, 225), np.ones((5, 5))).astype(np.uint8)
    frame = empty_frame(seed=11)
    y, x = (s // 2 - p // 2 for s, p in zip(frame.shape[:2], plate.shape, strict=False))
    frame[y : y + plate.shape[0], x : x + plate.shape[1]] = plate[..., None]
    return frame


@pytest.mark.parametrize("name", ["zxing", "pyzbar"])
@pytest.mark.parametrize(
    "raw",
    [b"HC1:\xff\xfe\x00abc", b"GGDP1:\xe9\xff1234", b"\xff\xfe\xfa not utf-8"],
    ids=["eu-dcc-prefix-with-nul", "plate-prefix-latin1", "binary"],
)
def test_non_utf8_codes_come_back_raw_and_route_to_unknown(name: str, raw: bytes) -> None:
    symbols = create(name, bounded=False).decode(byte_mode_frame(raw))
    assert [(s.text, s.raw) for s in symbols] == [(None, raw)]
    classifier = PayloadClassifier()
    assert classifier.classify(symbols[0].payload) == Unknown(UnknownReason.NOT_UTF8)
    assert classifier.counts() == {"unknown.not_utf8": 1}


@pytest.mark.parametrize("name", ["zxing", "pyzbar"])
def test_utf8_byte_mode_text_is_read_as_utf8(name: str) -> None:
    text = "门牌 GGDP1:é"  # ZBar's charset guess would read these bytes as Shift-JIS
    symbols = create(name, bounded=False).decode(byte_mode_frame(text.encode()))
    assert [s.text for s in symbols] == [text]
