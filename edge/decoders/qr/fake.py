"""A scripted QR backend for pipeline tests: the fake beside the real ones.

Example::

    fake = FakeQrDecoder([["GGDP1:310101001001"], [], [b"HC1:..."]])
    fake.decode(frame)  # -> [QrSymbol(text="GGDP1:310101001001", ...)], then [], then ...
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterable, Sequence

import numpy as np

from edge.decoders.qr.base import QrSymbol, as_gray, qr_backends, text_of

Step = Sequence[str | bytes | QrSymbol] | BaseException
"""One scripted decode: the payloads it finds, or an exception it raises."""

_UNIT_SQUARE = ((0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0))


def _symbol(item: str | bytes | QrSymbol) -> QrSymbol:
    if isinstance(item, QrSymbol):
        return item
    if isinstance(item, str):
        return QrSymbol(item, item.encode("utf-8"), _UNIT_SQUARE, "fake")
    return QrSymbol(text_of(item), bytes(item), _UNIT_SQUARE, "fake")


@qr_backends.register("fake")
class FakeQrDecoder:
    """Returns scripted results in order, then [] (or starts over with ``loop``).

    ``delay_s`` makes every decode that slow; ``gate`` (an event) makes every decode
    wait until it is set (at most ``gate_timeout_s``): a stuck backend, without timing.
    ``calls`` counts decodes.
    """

    name = "fake"

    def __init__(
        self,
        script: Iterable[Step] = (),
        *,
        loop: bool = False,
        delay_s: float = 0.0,
        gate: threading.Event | None = None,
        gate_timeout_s: float = 30.0,
    ) -> None:
        self._script = list(script)
        self._loop = loop
        self._delay_s = delay_s
        self._gate = gate
        self._gate_timeout_s = gate_timeout_s
        self._lock = threading.Lock()
        self._next = 0
        self.calls = 0

    def decode(self, gray: np.ndarray) -> list[QrSymbol]:
        """The next scripted result (validating ``gray`` like a real backend)."""
        as_gray(gray)
        with self._lock:
            self.calls += 1
            step: Step = []
            if self._script and (self._loop or self._next < len(self._script)):
                step = self._script[self._next % len(self._script)]
                self._next += 1
        if self._gate is not None:
            self._gate.wait(self._gate_timeout_s)
        if self._delay_s > 0:
            time.sleep(self._delay_s)
        if isinstance(step, BaseException):
            raise step
        return [_symbol(item) for item in step]
