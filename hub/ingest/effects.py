"""The seam where matching and alerting plug into ingest."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

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


@runtime_checkable
class BatchEffects(EventEffects, Protocol):
    """Effects that can take a whole batch's new events at once (fewer database round trips).

    ``apply_many`` must do what ``apply`` does for each event, in order, in the same
    transaction; ingest calls it instead of ``apply`` when the effects provide it.
    """

    def apply_many(self, session: Session, events: Sequence[PassageEvent]) -> None:
        """Derive whatever follows from ``events``, in order, using ``session``."""
        ...


class NoEffects:
    """The default: store only."""

    def apply(self, session: Session, event: PassageEvent) -> None:
        """Do nothing."""
        return None
