"""FastAPI dependencies: settings, store, sessions, ingest state and metrics registry."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated, Protocol

from fastapi import Depends, Request
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from hub.config import HubSettings
from hub.ingest.consumer import IngestStats
from hub.store.db import Store


class IngestState(Protocol):
    """What the API reads from the ingest consumer running in this process."""

    def stats(self) -> IngestStats:
        """The consumer's counters and link state."""
        ...


def get_settings(request: Request) -> HubSettings:
    """The hub's settings."""
    settings: HubSettings = request.app.state.settings
    return settings


def get_store(request: Request) -> Store:
    """The hub's store."""
    store: Store = request.app.state.store
    return store


def get_session(store: Annotated[Store, Depends(get_store)]) -> Iterator[Session]:
    """A session for one request, closed afterwards (read-only routes need no commit)."""
    with store.sessions() as session:
        yield session


def get_ingest(request: Request) -> IngestState | None:
    """The ingest consumer of this process, if it runs one."""
    ingest: IngestState | None = request.app.state.ingest
    return ingest


def get_registry(request: Request) -> CollectorRegistry:
    """The Prometheus registry this process exposes."""
    registry: CollectorRegistry = request.app.state.registry
    return registry


SettingsDep = Annotated[HubSettings, Depends(get_settings)]
StoreDep = Annotated[Store, Depends(get_store)]
SessionDep = Annotated[Session, Depends(get_session)]
IngestDep = Annotated[IngestState | None, Depends(get_ingest)]
RegistryDep = Annotated[CollectorRegistry, Depends(get_registry)]
