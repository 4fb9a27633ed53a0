"""Roles and the principal a request acts as."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a login may do: admins manage logins, operators watch every grid, grid workers
    handle the alerts of their grids, devices fetch what their site needs, a group admin
    watches the codes of one group's members."""

    ADMIN = "admin"
    OPERATOR = "operator"
    GRID_WORKER = "grid_worker"
    DEVICE = "device"
    GROUP_ADMIN = "group_admin"


@dataclass(frozen=True)
class Principal:
    """The authenticated caller; ``grids`` is None for roles that see every grid."""

    username: str
    role: Role
    display_name: str
    worker_id: str | None
    grids: frozenset[str] | None
    site_id: str | None = None
    """A device's site (devices only)."""
    group_id: str | None = None
    """The group a group admin watches (group admins only)."""

    def sees_grid(self, grid_id: str) -> bool:
        """This caller may see alerts and tasks of ``grid_id``."""
        return self.grids is None or grid_id in self.grids
