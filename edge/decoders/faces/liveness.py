"""Blink detection across frames from the eye aspect ratio: a liveness hint, not proof."""

from __future__ import annotations

from models.events import Liveness

OPEN_EAR = 0.25
CLOSED_EAR = 0.19
MIN_SAMPLES = 4


def blink_liveness(ear_history: list[float], enabled: bool) -> Liveness:
    """Checked when enabled with enough samples; passed when open → closed → open occurs."""
    if not enabled or len(ear_history) < MIN_SAMPLES:
        return Liveness(checked=False, passed=None)
    state = 0  # 0: waiting for open, 1: open seen, 2: closed after open
    for ear in ear_history:
        if state == 0 and ear >= OPEN_EAR:
            state = 1
        elif state == 1 and ear <= CLOSED_EAR:
            state = 2
        elif state == 2 and ear >= OPEN_EAR:
            return Liveness(checked=True, passed=True)
    return Liveness(checked=True, passed=False)
