"""A relay on a GPIO line (Raspberry Pi, RK3588 …) through the kernel's character device.

Uses libgpiod's official Python binding (``gpiod`` 2.x, wheels for aarch64 and x86_64):
the line is requested once as an output, held active for ``open_seconds`` on an open
decision, then released to inactive by a timer. A relay that cannot be driven is logged
and reported as False, never raised into the pipeline.
"""

from __future__ import annotations

import logging
import threading
from typing import Protocol

from edge.actuators.base import ActuatorConfig
from models.events import GateAction, GateDecision

log = logging.getLogger(__name__)


class RelayLine(Protocol):
    """One output line."""

    def set(self, active: bool) -> None:
        """Drive the line; raises OSError when the hardware refuses."""
        ...

    def release(self) -> None:
        """Give the line back to the kernel."""
        ...


class GpiodLine:
    """A line requested through ``gpiod`` (``/dev/gpiochipN``, offset, active-low wiring)."""

    def __init__(self, chip: str, offset: int, *, active_low: bool = False) -> None:
        import gpiod
        from gpiod.line import Direction, Value

        self.offset, self._value = offset, Value
        settings = gpiod.LineSettings(
            direction=Direction.OUTPUT, output_value=Value.INACTIVE, active_low=active_low
        )
        try:
            self._request = gpiod.request_lines(
                chip, consumer="gridgate-gate", config={offset: settings}
            )
        except (OSError, ValueError) as exc:
            raise ValueError(f"cannot drive GPIO line {offset} on {chip}: {exc}") from None

    def set(self, active: bool) -> None:
        """Drive the line active or inactive."""
        self._request.set_value(self.offset, self._value.ACTIVE if active else self._value.INACTIVE)

    def release(self) -> None:
        """Release the request."""
        self._request.release()


class GpioRelayActuator:
    """Holds the relay line active for ``open_seconds`` on each open decision."""

    def __init__(self, config: ActuatorConfig, line: RelayLine | None = None) -> None:
        if line is None:
            if config.gpio_line is None:
                raise ValueError("actuator kind 'gpio' needs gpio_line")
            line = GpiodLine(config.gpio_chip, config.gpio_line, active_low=config.gpio_active_low)
        self.config, self.line = config, line
        self._lock = threading.Lock()
        self._timer: threading.Timer | None = None

    def apply(self, decision: GateDecision) -> bool:
        """Open: line active now, inactive after ``open_seconds`` (a new open extends it)."""
        if decision.action is not GateAction.OPEN:
            return True
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
            try:
                self.line.set(True)
            except OSError as exc:
                log.warning("gate relay (GPIO) failed: %s", exc)
                return False
            self._timer = threading.Timer(self.config.open_seconds, self._close_gate)
            self._timer.daemon = True
            self._timer.start()
        return True

    def _close_gate(self) -> None:
        with self._lock:
            try:
                self.line.set(False)
            except OSError as exc:
                log.warning("gate relay (GPIO) did not release: %s", exc)

    def close(self) -> None:
        """Release the gate (inactive) and the line."""
        with self._lock:
            if self._timer is not None:
                self._timer.cancel()
        self._close_gate()
        self.line.release()
