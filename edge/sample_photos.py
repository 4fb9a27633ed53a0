"""Real face photos for tests, benchmarks and the demo, never committed to the repository.

They come from the face-recognition 1.3.0 source distribution on PyPI (its
``tests/test_images``), downloaded once through the package index, checked against a
pinned SHA-256 and cached under ``$XDG_CACHE_HOME/gridgate/face-photos``.
"""

from __future__ import annotations

import hashlib
import io
import os
import tarfile
from pathlib import Path

import httpx

SDIST_NAME = "face_recognition-1.3.0.tar.gz"
SDIST_SHA256 = "5e5efdd1686aa566af0d3cc1313b131e4b197657a8ffd03669e6d3fad92705ec"
INDEX_URL = "https://pypi.org/simple/face-recognition/"
PHOTOS = ("obama.jpg", "obama2.jpg", "obama3.jpg", "biden.jpg", "obama_partial_face.jpg")


class PhotosUnavailableError(RuntimeError):
    """The photos are not cached and the package index cannot be reached."""


def cache_dir() -> Path:
    """Where the photos are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "gridgate" / "face-photos"


def _sdist_url(client: httpx.Client) -> str:
    response = client.get(INDEX_URL, headers={"Accept": "application/vnd.pypi.simple.v1+json"})
    response.raise_for_status()
    for entry in response.json()["files"]:
        if entry["filename"] == SDIST_NAME:
            url: str = entry["url"]
            return url
    raise PhotosUnavailableError(f"{SDIST_NAME} is not listed on the package index")


def _download(timeout: float) -> bytes:
    try:
        with httpx.Client(timeout=timeout, follow_redirects=True) as client:
            response = client.get(_sdist_url(client))
            response.raise_for_status()
            data = response.content
    except httpx.HTTPError as exc:
        raise PhotosUnavailableError(f"cannot download {SDIST_NAME}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if digest != SDIST_SHA256:
        raise PhotosUnavailableError(f"{SDIST_NAME} has sha256 {digest}, expected {SDIST_SHA256}")
    return data


def face_photos(timeout: float = 60.0) -> dict[str, Path]:
    """Paths of the sample photos by file name, downloading them on first use."""
    target = cache_dir()
    if not all((target / name).is_file() for name in PHOTOS):
        data = _download(timeout)
        target.mkdir(parents=True, exist_ok=True)
        with tarfile.open(fileobj=io.BytesIO(data), mode="r:gz") as archive:
            for name in PHOTOS:
                member = archive.getmember(f"face_recognition-1.3.0/tests/test_images/{name}")
                extracted = archive.extractfile(member)
                if extracted is None:
                    raise PhotosUnavailableError(f"{name} missing from {SDIST_NAME}")
                tmp = target / f".{name}.part"
                tmp.write_bytes(extracted.read())
                tmp.replace(target / name)
    return {name: target / name for name in PHOTOS}
