"""The default actuator: writes the decision to the log and drives nothing."""

from __future__ import annotations

import logging

from models.events import GateDecision

log = logging.getLogger("edge.gate")


class LogActuator:
    """Records decisions; the right choice for observe-only gates and tests."""

    def __init__(self) -> None:
        self.decisions: list[GateDecision] = []

    def apply(self, decision: GateDecision) -> bool:
        """Log the decision."""
        self.decisions.append(decision)
        log.info("gate %s (%s)", decision.action, ", ".join(decision.reasons))
        return True

    def close(self) -> None:
        """Nothing to release."""
