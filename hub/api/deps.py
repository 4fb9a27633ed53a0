"""FastAPI dependencies: settings, store, sessions, the caller, ingest state and metrics."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Protocol

from fastapi import Depends, HTTPException, Request, status
from fastapi.security import OAuth2PasswordBearer
from prometheus_client import CollectorRegistry
from sqlalchemy.orm import Session

from hub.auth.roles import Principal, Role
from hub.auth.tokens import TokenError, read_token
from hub.auth.users import principal
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


oauth2_scheme = OAuth2PasswordBearer(tokenUrl="/api/auth/token")


def get_principal(
    token: Annotated[str, Depends(oauth2_scheme)], settings: SettingsDep, session: SessionDep
) -> Principal:
    """The enabled login a valid bearer token names (401 otherwise)."""
    unauthorised = HTTPException(
        status.HTTP_401_UNAUTHORIZED,
        "not logged in, or the login expired",
        headers={"WWW-Authenticate": "Bearer"},
    )
    try:
        claims = read_token(token, settings.secret_key.get_secret_value())
    except TokenError:
        raise unauthorised from None
    caller = principal(session, claims.username, claims.role)
    if caller is None:
        raise unauthorised
    return caller


def require_role(*roles: Role) -> Callable[[Principal], Principal]:
    """A dependency admitting only ``roles`` (403 for other logins)."""

    def check(caller: Annotated[Principal, Depends(get_principal)]) -> Principal:
        if caller.role not in roles:
            raise HTTPException(status.HTTP_403_FORBIDDEN, f"{caller.role} may not do this")
        return caller

    return check


PrincipalDep = Annotated[Principal, Depends(get_principal)]
StaffDep = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.OPERATOR, Role.GRID_WORKER))]
"""People: admins, operators and grid workers (grid workers scoped to their grids)."""
OperatorDep = Annotated[Principal, Depends(require_role(Role.ADMIN, Role.OPERATOR))]
"""Those who see every grid and device."""
