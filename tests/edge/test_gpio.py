"""The GPIO relay actuator: held open for open_seconds, extended by a new open, released on
close; a line that fails is reported, never raised; a missing chip is a clear error."""

from __future__ import annotations

import threading
import time

import pytest

from edge.actuators.base import ActuatorConfig
from edge.actuators.gpio import GpioRelayActuator
from edge.app import build_actuator
from models.events import GateAction, GateDecision
from tests.edge.helpers import wait_for


class RecordingLine:
    """Stands in for the hardware line; records every level it is driven to."""

    def __init__(self, fail: bool = False) -> None:
        self.levels: list[bool] = []
        self.released = False
        self.fail = fail
        self._lock = threading.Lock()

    def set(self, active: bool) -> None:
        if self.fail:
            raise OSError("line busy")
        with self._lock:
            self.levels.append(active)

    def release(self) -> None:
        self.released = True


def _config(seconds: float = 0.2) -> ActuatorConfig:
    return ActuatorConfig(kind="gpio", gpio_line=17, open_seconds=seconds)


def test_open_holds_the_line_then_releases_it() -> None:
    line = RecordingLine()
    relay = GpioRelayActuator(_config(), line)
    assert relay.apply(GateDecision(action=GateAction.DENY))
    assert line.levels == []  # deny: the gate stays shut
    assert relay.apply(GateDecision(action=GateAction.OPEN))
    assert line.levels == [True]
    wait_for(lambda: line.levels == [True, False], 5, "the timed release")
    relay.close()
    assert line.released and line.levels[-1] is False


def test_a_second_open_extends_the_opening() -> None:
    line = RecordingLine()
    relay = GpioRelayActuator(_config(0.5), line)
    relay.apply(GateDecision(action=GateAction.OPEN))
    time.sleep(0.3)
    relay.apply(GateDecision(action=GateAction.OPEN))  # restarts the 0.5 s
    time.sleep(0.35)
    assert line.levels == [True, True]  # still open 0.65 s after the first
    wait_for(lambda: line.levels[-1] is False, 5, "the release")
    relay.close()


def test_a_failing_line_is_reported_not_raised() -> None:
    relay = GpioRelayActuator(_config(), RecordingLine(fail=True))
    assert relay.apply(GateDecision(action=GateAction.OPEN)) is False


def test_a_missing_chip_or_line_is_a_clear_error() -> None:
    with pytest.raises(ValueError, match="needs gpio_line"):
        build_actuator(ActuatorConfig(kind="gpio"))
    with pytest.raises(ValueError, match="cannot drive GPIO line 17 on /dev/gpiochip-missing"):
        build_actuator(ActuatorConfig(kind="gpio", gpio_chip="/dev/gpiochip-missing", gpio_line=17))
