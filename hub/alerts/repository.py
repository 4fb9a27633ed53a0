"""Raise or repeat alerts inside the ingest transaction; read them back as wire models."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping, Set
from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum
from itertools import zip_longest
from typing import Any, TypeVar

from sqlalchemy import (
    CompoundSelect,
    Select,
    func,
    literal_column,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from hub.ledger.lookup import IN_CHUNK
from hub.rules.engine import AlertDraft
from hub.store.alert_tables import BUILDING_CHARS, AlertAuditRow, AlertRow
from hub.store.keyed import keys_in
from hub.store.ledger_tables import AddressRow, GridRow, ResidentRow
from hub.store.many import insert_rows
from models.alerts import Alert, AlertRule, AlertState, Resolution, Severity

_SEVERITY_RANK = {Severity.WARNING: 0, Severity.MINOR: 1, Severity.MAJOR: 2, Severity.CRITICAL: 3}

_UNSCOPED = "gridgate_unscoped_alerts"
"""session.info key: alerts opened in this transaction whose scope is not filled yet."""


def building_key(street: str, number: str, building: str) -> str:
    """The building an address belongs to, as written: 新塘里96号 3栋 (or 新塘里96号)."""
    key = f"{street}{number}号" + (f" {building}栋" if building else "")
    return key[:BUILDING_CHARS]


def active_key(rule: AlertRule, subject_ref: str) -> str:
    """The key that allows one unresolved alert per subject and rule."""
    return f"{rule}:{subject_ref}"


def raise_or_repeat(
    session: Session,
    draft: AlertDraft,
    *,
    site_id: str,
    gate_id: str | None,
    event_id: uuid.UUID | None,
    now: datetime,
    active: Mapping[str, AlertRow | None] | None = None,
    address_code: str | None = None,
) -> AlertRow:
    """Open a new alert, or count a repeat on the active one (severity never drops).

    ``active``: the active alerts already read in this transaction by key (None: there is
    none); a key missing from it is read here. ``address_code``: the door plate the passage
    showed, the alert's building when it has no resident with an address. A new alert's
    building and community are filled by :func:`flush_audit`, for the whole batch at once.
    """
    key = active_key(draft.rule, draft.subject_ref)
    pending: dict[str, AlertRow] = session.info.setdefault("gridgate_active_alerts", {})
    row = pending.get(key)
    if row is None and active is not None and key in active:
        row = active[key]
    elif row is None:
        with session.no_autoflush:  # alerts of this transaction are in ``pending``
            row = session.scalars(select(AlertRow).where(AlertRow.active_key == key)).one_or_none()
    if row is None:
        row = AlertRow(
            alert_id=uuid.uuid4(),
            active_key=key,
            rule=str(draft.rule),
            severity=str(draft.severity),
            state=str(AlertState.OPEN),
            grid_id=draft.grid_id,
            site_id=site_id,
            gate_id=gate_id,
            subject_ref=draft.subject_ref,
            resident_id=draft.resident_id,
            summary=draft.summary,
            repeat_count=1,
            first_event_id=event_id,
            last_event_id=event_id,
            raised_at=now,
            updated_at=now,
        )
        session.add(row)
        pending[key] = row
        session.info.setdefault(_UNSCOPED, []).append((row, address_code))
        _audit(session, row, now, "raised", draft.summary)
        return row
    pending[key] = row
    row.repeat_count += 1
    row.last_event_id = event_id
    row.updated_at = now
    row.summary = draft.summary
    if _SEVERITY_RANK[draft.severity] > _SEVERITY_RANK[Severity(row.severity)]:
        row.severity = str(draft.severity)
    _audit(session, row, now, "repeated", f"repeat {row.repeat_count}: {draft.summary}")
    return row


def _audit(session: Session, row: AlertRow, now: datetime, action: str, detail: str) -> None:
    """Queue an audit entry; :func:`flush_audit` writes it once its alert row exists."""
    entry: dict[str, object] = {
        "alert_id": row.alert_id,
        "at": now,
        "actor": "hub",
        "action": action,
        "detail": detail[:1000],
    }
    session.info.setdefault("gridgate_audit", []).append(entry)


def flush_audit(session: Session) -> None:
    """Fill the new alerts' scope, write them, then their queued audit entries (the foreign
    key needs both). Call it once per batch, before reading the alerts back."""
    fill_scope(session)
    entries: list[dict[str, object]] = session.info.pop("gridgate_audit", [])
    if entries:
        session.flush()
        insert_rows(session.connection(), AlertAuditRow, entries)  # one statement


_SCOPE: CompoundSelect[Any] = union_all(
    select(
        literal_column("'r'"), ResidentRow.resident_id, AddressRow.street, AddressRow.number,
        AddressRow.building,
    )
    .join(AddressRow, AddressRow.address_code == ResidentRow.address_code)
    .where(keys_in(ResidentRow.resident_id, "residents")),
    select(
        literal_column("'a'"), AddressRow.address_code, AddressRow.street, AddressRow.number,
        AddressRow.building,
    ).where(keys_in(AddressRow.address_code, "plates")),
    select(
        literal_column("'g'"), GridRow.grid_id, GridRow.community, literal_column("''"),
        literal_column("''"),
    ).where(keys_in(GridRow.grid_id, "grids")),
)  # fmt: skip
"""Residents' and door plates' buildings, grids' communities: one round trip per batch."""
_SCOPE_PARAMS = ("residents", "plates", "grids")


def fill_scope(session: Session) -> None:
    """Set building and community on the alerts opened in this transaction since the last
    call: the building of the resident's address, else of the door plate; the grid's
    community. One query for all of them (a few for thousands of new alerts)."""
    opened: list[tuple[AlertRow, str | None]] = session.info.pop(_UNSCOPED, [])
    if not opened:
        return
    residents = {row.resident_id for row, _ in opened if row.resident_id}
    plates = {code for _, code in opened if code}
    grids = {row.grid_id for row, _ in opened}
    found: dict[tuple[str, str], str] = {}
    with session.no_autoflush:
        for round_keys in zip_longest(_chunks(residents), _chunks(plates), _chunks(grids)):
            params = {
                name: keys or [] for name, keys in zip(_SCOPE_PARAMS, round_keys, strict=True)
            }
            for tag, key, first, number, building in session.execute(_SCOPE, params):
                found[tag, key] = _scope_value(tag, first, number, building)
    for row, plate in opened:
        building = found.get(("r", row.resident_id or "")) or found.get(("a", plate or ""))
        row.building = building or None
        row.community = found.get(("g", row.grid_id)) or None


def _scope_value(tag: Any, first: str, number: str, building: str) -> str:
    """A community as stored, or the building key of an address's parts."""
    return first if tag == "g" else building_key(first, number, building)


def _chunks(keys: Set[str]) -> Iterator[list[str]]:
    ordered = sorted(keys)
    for start in range(0, len(ordered), IN_CHUNK):
        yield ordered[start : start + IN_CHUNK]


def with_scope(alert: Alert, row: AlertRow) -> Alert:
    """``alert`` (read before :func:`fill_scope`) with its row's building and community."""
    if (alert.building, alert.community) == (row.building, row.community):
        return alert
    return alert.model_copy(update={"building": row.building, "community": row.community})


def to_alert(row: AlertRow) -> Alert:
    """The wire form of a stored alert."""
    return Alert(
        alert_id=row.alert_id,
        rule=AlertRule(row.rule),
        severity=Severity(row.severity),
        state=AlertState(row.state),
        grid_id=row.grid_id,
        site_id=row.site_id,
        gate_id=row.gate_id,
        building=row.building,
        community=row.community,
        event_id=row.last_event_id,
        subject_ref=row.subject_ref,
        summary=row.summary,
        repeat_count=row.repeat_count,
        raised_at=row.raised_at,
        updated_at=row.updated_at,
        resolution=Resolution(row.resolution) if row.resolution else None,
        escalated=row.escalated_at is not None,
    )


_Query = TypeVar("_Query", bound=Select[*tuple[Any, ...]])


class ScopeLevel(StrEnum):
    """How far an alert propagates: gate → building → grid → community."""

    GATE = "gate"
    BUILDING = "building"
    GRID = "grid"
    COMMUNITY = "community"


_LEVEL_COLUMNS = {
    ScopeLevel.GATE: AlertRow.gate_id,
    ScopeLevel.BUILDING: AlertRow.building,
    ScopeLevel.GRID: AlertRow.grid_id,
    ScopeLevel.COMMUNITY: AlertRow.community,
}


@dataclass(frozen=True)
class AlertScope:
    """Which alerts to keep at each level (None: any; several values: any of them)."""

    gates: frozenset[str] | None = None
    buildings: frozenset[str] | None = None
    grids: frozenset[str] | None = None
    communities: frozenset[str] | None = None

    def within(self, grids: frozenset[str] | None) -> AlertScope:
        """This scope limited to ``grids`` (a grid worker's; None: no limit)."""
        if grids is None:
            return self
        return replace(self, grids=grids if self.grids is None else self.grids & grids)

    def where(self, stmt: _Query) -> _Query:
        """``stmt`` (over alerts) keeping only the alerts in scope."""
        for level, values in self._levels():
            if values is not None:
                stmt = stmt.where(_LEVEL_COLUMNS[level].in_(sorted(values)))
        return stmt

    def admits(self, alert: Alert) -> bool:
        """``alert`` is in scope (for live streams)."""
        have = {
            ScopeLevel.GATE: alert.gate_id,
            ScopeLevel.BUILDING: alert.building,
            ScopeLevel.GRID: alert.grid_id,
            ScopeLevel.COMMUNITY: alert.community,
        }
        return all(values is None or have[level] in values for level, values in self._levels())

    def _levels(self) -> list[tuple[ScopeLevel, frozenset[str] | None]]:
        return [
            (ScopeLevel.GATE, self.gates),
            (ScopeLevel.BUILDING, self.buildings),
            (ScopeLevel.GRID, self.grids),
            (ScopeLevel.COMMUNITY, self.communities),
        ]


def rollup(
    session: Session, scope: AlertScope, level: ScopeLevel
) -> dict[str | None, dict[Severity, int]]:
    """Unresolved alerts in ``scope`` counted by severity per key of ``level`` (None: alerts
    with no value there, e.g. no building known)."""
    column = _LEVEL_COLUMNS[level]
    stmt = scope.where(
        select(column, AlertRow.severity, func.count())
        .where(AlertRow.state != str(AlertState.RESOLVED))
        .group_by(column, AlertRow.severity)
    )
    counts: dict[str | None, dict[Severity, int]] = {}
    for key, severity, count in session.execute(stmt):
        counts.setdefault(key, dict.fromkeys(Severity, 0))[Severity(severity)] = count
    return counts
