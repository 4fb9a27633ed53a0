"""A network relay driven over HTTP (common on gate controllers)."""

from __future__ import annotations

import logging

import httpx

from edge.actuators.base import ActuatorConfig
from models.events import GateAction, GateDecision

log = logging.getLogger(__name__)


class HttpRelayActuator:
    """POSTs ``{"action": "open", "seconds": 5}`` to the relay for open and deny decisions."""

    def __init__(self, config: ActuatorConfig) -> None:
        if not config.url:
            raise ValueError("actuator kind 'http' needs a url")
        self.config = config
        self._client = httpx.Client(timeout=config.timeout_s)

    def apply(self, decision: GateDecision) -> bool:
        """Drive the relay; a relay that does not answer is logged and reported as False."""
        if decision.action not in (GateAction.OPEN, GateAction.DENY):
            return True
        body = {"action": str(decision.action), "seconds": self.config.open_seconds}
        try:
            response = self._client.post(str(self.config.url), json=body)
            response.raise_for_status()
        except httpx.HTTPError as exc:
            log.warning("gate relay %s failed: %s", self.config.url, exc)
            return False
        return True

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._client.close()
