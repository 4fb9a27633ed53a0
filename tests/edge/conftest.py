"""Fixtures for edge tests: real face photos (fetched from PyPI once, cached)."""

from __future__ import annotations

from pathlib import Path

import pytest

from edge.sample_photos import PhotosUnavailableError, face_photos


@pytest.fixture(scope="session")
def photos() -> dict[str, Path]:
    """The face-recognition sdist's test photos (obama*, biden)."""
    try:
        return face_photos()
    except PhotosUnavailableError as exc:
        pytest.skip(f"face photos unavailable (needs the PyPI index once): {exc}")
