"""The reviewing side: approve or reject a request in one transaction, then update the index."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Collection

from hub.faces.vault import FaceVault
from hub.match.faces import FaceIndex
from hub.registrations.repository import approve, reject
from hub.store.db import Store
from hub.store.registration_tables import RegistrationRow
from models.base import utc_now


def visible(row: RegistrationRow, grids: Collection[str] | None) -> bool:
    """Whether a caller limited to ``grids`` (None: every grid) may see ``row``; a request
    whose address is not in the ledger has no grid and is seen by operators only."""
    return grids is None or (row.grid_id is not None and row.grid_id in grids)


class RegistrationDesk:
    """Decisions on registrations; an approved face joins the hub's face index after commit."""

    def __init__(
        self,
        store: Store,
        vault: FaceVault,
        faces: FaceIndex,
        on_enrolled: Callable[[], None] | None = None,
    ) -> None:
        self.store = store
        self.vault = vault
        self.faces = faces
        self.on_enrolled = on_enrolled
        """Called after an approval commits (the hub re-announces the site galleries)."""

    def approve(
        self, row_id: uuid.UUID, by: str, note: str = "", grids: Collection[str] | None = None
    ) -> RegistrationRow | None:
        """Approve a pending request; None when there is no such request in ``grids``."""
        with self.store.transaction() as session:
            row = session.get(RegistrationRow, row_id)
            if row is None or not visible(row, grids):
                return None
            enrolled = approve(session, self.vault, row, by, utc_now(), note)
        self.faces.add(enrolled.resident_id, enrolled.encoding)
        if self.on_enrolled is not None:
            self.on_enrolled()
        return row

    def reject(
        self, row_id: uuid.UUID, by: str, note: str = "", grids: Collection[str] | None = None
    ) -> RegistrationRow | None:
        """Reject a pending request (its encoding is deleted); None when there is none."""
        with self.store.transaction() as session:
            row = session.get(RegistrationRow, row_id)
            if row is None or not visible(row, grids):
                return None
            reject(session, row, by, utc_now(), note)
        return row
