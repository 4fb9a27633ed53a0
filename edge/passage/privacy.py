"""What of a passage leaves the device when the site keeps face data on it."""

from __future__ import annotations

from models.events import FaceObservation, PassageEvent


def without_face_data(event: PassageEvent) -> PassageEvent:
    """``event`` with every face's encoding and crop left out; the local match stays."""
    if not any(f.encoding is not None or f.crop_jpeg_base64 for f in event.faces()):
        return event
    observations = [
        o.model_copy(update={"encoding": None, "crop_jpeg_base64": None})
        if isinstance(o, FaceObservation)
        else o
        for o in event.observations
    ]
    return event.model_copy(update={"observations": observations})
