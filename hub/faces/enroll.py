"""Enrol residents' faces from photos and build the match index from the enrolments."""

from __future__ import annotations

import logging
from pathlib import Path

import cv2
import numpy as np
import numpy.typing as npt
from sqlalchemy import select
from sqlalchemy.orm import Session

from hub.faces.vault import FaceVault, VaultError
from hub.match.faces import FaceIndex
from hub.store.face_tables import FaceEnrollmentRow
from models.base import utc_now

log = logging.getLogger(__name__)


class EnrollmentError(ValueError):
    """A photo that cannot be enrolled (unreadable, no face, several faces)."""


def encode_photo(path: Path) -> npt.NDArray[np.float64]:
    """The encoding of the one face in a photo, by the same dlib encoder the edges run."""
    from edge.decoders.faces.dlib import DlibFaceBackend

    image = cv2.imread(str(path))
    if image is None:
        raise EnrollmentError(f"{path}: not a readable image")
    rgb = cv2.cvtColor(image, cv2.COLOR_BGR2RGB)
    backend = DlibFaceBackend()
    boxes = backend.detect(rgb, upsample=1)
    if len(boxes) != 1:
        raise EnrollmentError(f"{path}: {len(boxes)} faces found, need exactly one")
    return backend.encode(rgb, boxes[0])


def enroll(
    session: Session, vault: FaceVault, resident_id: str, encoding: npt.ArrayLike, source: str
) -> None:
    """Store (or replace) a resident's sealed encoding."""
    sealed = vault.seal(resident_id, encoding)
    row = session.get(FaceEnrollmentRow, resident_id)
    if row is None:
        session.add(
            FaceEnrollmentRow(
                resident_id=resident_id, sealed=sealed, source=source, enrolled_at=utc_now()
            )
        )
    else:
        row.sealed, row.source, row.enrolled_at = sealed, source, utc_now()


def load_index(session: Session, vault: FaceVault) -> FaceIndex:
    """Every enrolment, opened, in one index; rows that do not open are skipped and logged."""
    refs: list[str] = []
    vectors: list[npt.NDArray[np.float32]] = []
    for row in session.scalars(select(FaceEnrollmentRow)):
        try:
            vectors.append(vault.open(row.resident_id, row.sealed))
        except VaultError as exc:
            log.warning("%s", exc)
            continue
        refs.append(row.resident_id)
    index = FaceIndex()
    index.replace(refs, np.array(vectors, dtype=np.float32).reshape(len(refs), 128))
    return index
