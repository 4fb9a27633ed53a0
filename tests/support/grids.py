"""Two grids with one worker each, and alerts raised on them through the real repository."""

from __future__ import annotations

import uuid

from sqlalchemy import insert

from hub.alerts.repository import flush_audit, raise_or_repeat
from hub.rules.engine import AlertDraft
from hub.store.alert_tables import AlertRow
from hub.store.db import Store
from hub.store.ledger_tables import GridRow, GridWorkerRow, worker_grids
from models.alerts import AlertRule, Severity
from models.base import new_id, utc_now


def seed_grids(store: Store) -> None:
    """Grids G-A (leader W-A) and G-B (leader W-B), each worker assigned to their own grid."""
    with store.transaction() as session:
        for grid, worker, name in (("G-A", "W-A", "王芳"), ("G-B", "W-B", "李强")):
            session.add(GridWorkerRow(worker_id=worker, name=name, phone="", channels={}))
            session.flush()
            session.add(GridRow(grid_id=grid, name=f"网格 {grid}", leader_worker_id=worker))
            session.flush()
            session.execute(insert(worker_grids).values(worker_id=worker, grid_id=grid))


def raise_alert(
    store: Store,
    grid: str,
    subject: str = "face:1",
    *,
    rule: AlertRule = AlertRule.UNREGISTERED_PERSON,
    event_id: uuid.UUID | None = None,
) -> AlertRow:
    """Open an alert (unregistered person unless ``rule``) on ``grid`` as ingest would."""
    with store.transaction() as session:
        row = raise_or_repeat(
            session,
            AlertDraft(
                rule=rule,
                severity=Severity.MAJOR,
                subject_ref=subject,
                grid_id=grid,
                summary=f"unregistered face at {grid}",
            ),
            site_id="site-a",
            gate_id="east",
            event_id=event_id or new_id(),
            now=utc_now(),
        )
        flush_audit(session)
        return row
