"""The installed gridgate version, as devices report it."""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version


def agent_version() -> str:
    """The installed package's version, or ``0+unknown`` when running from a bare tree."""
    try:
        return version("gridgate")
    except PackageNotFoundError:
        return "0+unknown"
