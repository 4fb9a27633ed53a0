"""Code text typed or pasted at the desk (a keyboard-wedge scanner types the raw QR text),
routed and verified exactly as the camera pipeline does."""

from __future__ import annotations

from datetime import datetime

from edge.decoders.payloads import HealthCode, Unknown
from edge.pipeline import FramePipeline
from models.events import HealthCodeObservation


class CodeTextError(ValueError):
    """Text that is not a health code; ``reason`` is the routing reason key."""

    def __init__(self, reason: str, message: str) -> None:
        self.reason = reason
        super().__init__(message)


def read_code(pipeline: FramePipeline, text: str, seen_at: datetime) -> HealthCodeObservation:
    """Route ``text`` with the pipeline's classifier and verify it with its verifiers."""
    classified = pipeline.classifier.classify(text.lstrip())
    if isinstance(classified, HealthCode):
        return pipeline.verify_code(classified, seen_at)
    if isinstance(classified, Unknown):
        reason = str(classified.reason)
        raise CodeTextError(reason, f"not a health code ({reason})")
    raise CodeTextError("door_plate", "this is a door plate, not a health code")
