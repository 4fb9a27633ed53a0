"""A real headless Chromium driven by Playwright, and where the screenshots go.

Debian's ``chromium`` package is used (``make test-system`` installs it); Playwright's own
browser download is never needed. Without Chromium the tests skip locally and fail under CI.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, sync_playwright

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_FLAGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
]


def chromium_path() -> str | None:
    """Debian's Chromium, or one named by GRIDGATE_CHROMIUM."""
    named = os.environ.get("GRIDGATE_CHROMIUM")
    if named:
        return named
    for candidate in ("chromium", "chromium-browser", "google-chrome"):
        found = shutil.which(candidate)
        if found:
            return found
    return None


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    """A Chromium per test module: Playwright's sync API keeps an event loop running in the
    main thread while it is open, which later tests' own loops must not meet."""
    executable = chromium_path()
    if executable is None:
        message = "no Chromium: apt-get install chromium (make test-system does)"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    with sync_playwright() as playwright:
        launched = playwright.chromium.launch(executable_path=executable, args=CHROMIUM_FLAGS)
        yield launched
        launched.close()


@pytest.fixture(scope="session")
def screenshots() -> Path:
    """``test-artifacts/browser`` (or GRIDGATE_ARTIFACTS/browser): kept after the run."""
    base = Path(os.environ.get("GRIDGATE_ARTIFACTS", ROOT / "test-artifacts"))
    target = base / "browser"
    target.mkdir(parents=True, exist_ok=True)
    return target
