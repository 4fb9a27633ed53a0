"""Daily check tasks generated from the ledger, one per household or resident and kind."""

from __future__ import annotations

import uuid
from datetime import date, datetime

from sqlalchemy import CheckConstraint, Date, ForeignKey, Index, String, UniqueConstraint, Uuid
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import UTCDateTime


class TaskRow(Base):
    """A check a grid worker does on one day; ``result`` is recorded per household."""

    __tablename__ = "tasks"

    task_id: Mapped[uuid.UUID] = mapped_column(Uuid, primary_key=True)
    day: Mapped[date] = mapped_column(Date, index=True)
    kind: Mapped[str] = mapped_column(String(24))
    grid_id: Mapped[str] = mapped_column(String(64), index=True)
    address_code: Mapped[str | None] = mapped_column(ForeignKey("addresses.address_code"))
    resident_id: Mapped[str | None] = mapped_column(String(64))
    subject: Mapped[str] = mapped_column(String(200))
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("grid_workers.worker_id"), index=True)
    status: Mapped[str] = mapped_column(String(16))
    result: Mapped[str | None] = mapped_column(String(16))
    note: Mapped[str] = mapped_column(String(1000), default="")
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    done_by: Mapped[str | None] = mapped_column(String(64))

    __table_args__ = (
        UniqueConstraint("day", "kind", "subject"),
        Index("ix_tasks_worker_id_day", "worker_id", "day"),  # a worker's load on a day
        CheckConstraint("status IN ('pending', 'done')", "status"),
        CheckConstraint("result IN ('reached', 'away', 'unreachable')", "result"),
    )
