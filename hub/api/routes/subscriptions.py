"""A grid worker's choice of which alerts reach them on which channel."""

from __future__ import annotations

from fastapi import APIRouter, HTTPException, Request, status
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import delete, select

from hub.api.deps import StaffDep, StoreDep
from hub.auth.roles import Principal
from hub.push.recipients import RecipientDirectory
from hub.store.alert_tables import SubscriptionRow
from hub.store.ledger_tables import GridWorkerRow
from models.alerts import AlertRule, Severity

router = APIRouter(prefix="/api/me/subscriptions", tags=["subscriptions"])


class ChannelSubscription(BaseModel):
    """Which alerts reach me on one channel of my ledger entry."""

    model_config = ConfigDict(extra="forbid")

    channel: str = Field(max_length=32, title="Channel", description="e.g. sms, email")
    target: str = Field("", title="Address", description="From the ledger (read-only).")
    enabled: bool = Field(True, title="Enabled")
    min_severity: Severity = Field(Severity.WARNING, title="Lowest severity")
    rules: list[AlertRule] | None = Field(None, title="Only these rules (null: all)")


def _worker(caller: Principal) -> str:
    if caller.worker_id is None:
        raise HTTPException(status.HTTP_409_CONFLICT, "this login is not a grid worker")
    return caller.worker_id


@router.get("", response_model=list[ChannelSubscription])
def get_subscriptions(caller: StaffDep, store: StoreDep) -> list[ChannelSubscription]:
    """One entry per channel in my ledger record (defaults where I chose nothing)."""
    worker_id = _worker(caller)
    with store.sessions() as session:
        worker = session.get(GridWorkerRow, worker_id)
        chosen = {
            row.channel: row
            for row in session.scalars(
                select(SubscriptionRow).where(SubscriptionRow.worker_id == worker_id)
            )
        }
        channels = sorted((worker.channels or {}).items()) if worker else []
        return [
            ChannelSubscription(
                channel=name,
                target=str(target),
                enabled=chosen[name].enabled if name in chosen else True,
                min_severity=Severity(chosen[name].min_severity)
                if name in chosen
                else Severity.WARNING,
                rules=[AlertRule(r) for r in chosen[name].rules or []]
                if name in chosen and chosen[name].rules is not None
                else None,
            )
            for name, target in channels
        ]


@router.put("", response_model=list[ChannelSubscription])
def put_subscriptions(
    body: list[ChannelSubscription], caller: StaffDep, store: StoreDep, request: Request
) -> list[ChannelSubscription]:
    """Replace my choices; channels not in my ledger record are refused."""
    worker_id = _worker(caller)
    with store.transaction() as session:
        worker = session.get(GridWorkerRow, worker_id)
        known = set((worker.channels or {}) if worker else {})
        unknown = sorted({s.channel for s in body} - known)
        if unknown:
            raise HTTPException(
                status.HTTP_422_UNPROCESSABLE_ENTITY,
                f"channels not in your ledger record: {', '.join(unknown)}",
            )
        session.execute(delete(SubscriptionRow).where(SubscriptionRow.worker_id == worker_id))
        for choice in body:
            session.add(
                SubscriptionRow(
                    worker_id=worker_id,
                    channel=choice.channel,
                    enabled=choice.enabled,
                    min_severity=str(choice.min_severity),
                    rules=[str(r) for r in choice.rules] if choice.rules is not None else None,
                )
            )
    directory: RecipientDirectory | None = request.app.state.recipients
    if directory is not None:
        directory.forget()
    return get_subscriptions(caller, store)
