"""Liveness of the database and the broker link; Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter, Response, status
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from sqlalchemy.exc import SQLAlchemyError

from hub.api.deps import IngestDep, RegistryDep, StoreDep
from hub.api.schemas import DatabaseHealth, Health, MqttHealth

router = APIRouter(tags=["health"])


@router.get(
    "/healthz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Database or broker link down."}},
)
def healthz(store: StoreDep, ingest: IngestDep, response: Response) -> Health:
    """200 when the database answers and ingest is subscribed, else 503 with the details."""
    try:
        store.ping()
        database = DatabaseHealth(ok=True, dialect=store.dialect)
    except (SQLAlchemyError, OSError) as exc:
        database = DatabaseHealth(ok=False, dialect=store.dialect, detail=type(exc).__name__)
    if ingest is None:
        mqtt = MqttHealth(enabled=False)
    else:
        stats = ingest.stats()
        mqtt = MqttHealth(
            enabled=True,
            connected=stats.connected,
            subscribed=stats.subscribed,
            queue_depth=stats.queue_depth,
        )
    ok = database.ok and (not mqtt.enabled or mqtt.subscribed)
    if not ok:
        response.status_code = status.HTTP_503_SERVICE_UNAVAILABLE
    return Health(status="ok" if ok else "degraded", database=database, mqtt=mqtt)


@router.get("/metrics", response_class=Response)
def metrics(registry: RegistryDep) -> Response:
    """Prometheus exposition of this process's metrics."""
    return Response(generate_latest(registry), media_type=CONTENT_TYPE_LATEST)
