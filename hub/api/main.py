"""The hub's FastAPI application."""

from __future__ import annotations

from fastapi import FastAPI
from prometheus_client import CollectorRegistry

from hub.api.deps import IngestState
from hub.api.routes import (
    alerts,
    auth,
    coverage,
    events,
    gallery,
    groups,
    health,
    households,
    ledger,
    registrations,
    reports,
    subscriptions,
    tasks,
    users,
    vehicles,
)
from hub.config import HubSettings
from hub.push.recipients import RecipientDirectory
from hub.push.sse import SseBroadcaster
from hub.store.db import Store
from hub.web import mount_dashboard


def create_app(
    settings: HubSettings,
    store: Store,
    *,
    ingest: IngestState | None = None,
    registry: CollectorRegistry | None = None,
    alerts_stream: SseBroadcaster | None = None,
    recipients: RecipientDirectory | None = None,
) -> FastAPI:
    """The API over ``store``; ``ingest`` (if this process runs one) feeds ``/healthz``,
    ``alerts_stream`` the live feed, and ``recipients`` is told when subscriptions change."""
    app = FastAPI(title="gridgate hub", version="0.1.0")
    app.state.settings = settings
    app.state.store = store
    app.state.ingest = ingest
    app.state.registry = registry if registry is not None else CollectorRegistry()
    app.include_router(health.router)
    app.include_router(auth.router)
    app.state.alerts_stream = alerts_stream
    app.state.recipients = recipients
    app.include_router(events.router)
    app.include_router(alerts.router)
    app.include_router(coverage.router)
    app.include_router(ledger.router)
    app.include_router(tasks.router)
    app.include_router(subscriptions.router)
    app.include_router(registrations.router)
    app.include_router(gallery.router)
    app.include_router(groups.router)
    app.include_router(reports.router)
    app.include_router(households.router)
    app.include_router(vehicles.router)
    app.include_router(users.router)
    mount_dashboard(app)
    return app
