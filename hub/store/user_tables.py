"""Logins of the hub's people: operators, admins and grid workers (devices use the broker)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from hub.store.tables import Base
from hub.store.types import UTCDateTime


class UserRow(Base):
    """One login; a grid worker's login names its ``worker_id`` (its grids come from the ledger)."""

    __tablename__ = "users"

    username: Mapped[str] = mapped_column(String(64), primary_key=True)
    password_hash: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(16))
    display_name: Mapped[str] = mapped_column(String(100), default="")
    worker_id: Mapped[str | None] = mapped_column(ForeignKey("grid_workers.worker_id"))
    group_id: Mapped[str | None] = mapped_column(ForeignKey("groups.group_id"))
    disabled: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint(
            "role IN ('admin', 'operator', 'grid_worker', 'device', 'group_admin')", "role"
        ),
    )
