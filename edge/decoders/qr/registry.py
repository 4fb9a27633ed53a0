"""QR backends on the shared plugin registry (:mod:`edge.registry`), best one first.

On ARM boxes a wheel or a system library may be missing (no ``libzbar0``, no zxing-cpp
wheel for the platform): such a backend is skipped with a warning and the rest still work.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterable
from typing import Any

from edge.decoders.qr.base import QrDecoder, qr_backends
from edge.decoders.qr.bounded import DEFAULT_DEADLINE_S, BoundedDecoder
from edge.registry import BackendUnavailableError

BACKEND_MODULES: tuple[str, ...] = (
    "edge.decoders.qr.zxing",
    "edge.decoders.qr.pyzbar",
    "edge.decoders.qr.opencv",
    "edge.decoders.qr.fake",
)
PREFERENCE: tuple[str, ...] = ("zxing", "pyzbar", "opencv")
"""Real backends, best first (bench/edge_frames.py: zxing-cpp is faster and reads more)."""

Factory = Callable[..., QrDecoder]


def load_backends(modules: Iterable[str] = BACKEND_MODULES) -> dict[str, Factory]:
    """Import ``modules``; the backends they register, by name. Failures are skipped."""
    return qr_backends.factories(qr_backends.load(modules))


@functools.cache
def _backends() -> dict[str, Factory]:
    return load_backends()


def available() -> list[str]:
    """Names of the backends that load on this machine (real ones first)."""
    names = _backends()
    return [n for n in PREFERENCE if n in names] + sorted(set(names) - set(PREFERENCE))


def default_backend() -> str:
    """The best real backend available here; ``LookupError`` when there is none."""
    for name in PREFERENCE:
        if name in _backends():
            return name
    raise BackendUnavailableError("no QR backend could be loaded (zxing-cpp, pyzbar, OpenCV)")


def create(
    name: str | None = None,
    *,
    bounded: bool = True,
    deadline_s: float = DEFAULT_DEADLINE_S,
    **options: Any,
) -> QrDecoder:
    """A decoder by ``name`` (default: :func:`default_backend`), time-bounded unless told.

    ``options`` go to the backend's constructor. Unknown or unavailable names raise
    :class:`~edge.registry.BackendUnavailableError` (a ``ValueError``) naming the
    available ones.
    """
    backends = _backends()
    chosen = name or default_backend()
    if chosen not in backends:
        raise BackendUnavailableError(
            f"QR backend {chosen!r} is not available; available: {available()}"
        )
    decoder = backends[chosen](**options)
    return BoundedDecoder(decoder, deadline_s=deadline_s) if bounded else decoder
