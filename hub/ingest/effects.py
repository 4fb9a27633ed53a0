"""The seam where matching and alerting plug into ingest."""

from __future__ import annotations

from typing import Protocol

from sqlalchemy.orm import Session

from models import PassageEvent


class EventEffects(Protocol):
    """Work done for each event the hub has not seen before, inside the batch's transaction.

    ``apply`` runs once per new event id, in the same transaction that stores the event: if
    it raises, nothing of the batch is committed and the batch is retried event by event (an
    event whose effects keep failing is dead-lettered). Already-known event ids never reach it.
    """

    def apply(self, session: Session, event: PassageEvent) -> None:
        """Derive whatever follows from ``event`` (matches, alerts) using ``session``."""
        ...


class NoEffects:
    """The default: store only."""

    def apply(self, session: Session, event: PassageEvent) -> None:
        """Do nothing."""
        return None
