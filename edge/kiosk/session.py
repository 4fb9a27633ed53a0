"""One person's registration at the kiosk: what was scanned so far, until agree or timeout.

The session listens to the passage events the pipeline already produces: a door plate, a
verified pass and exactly one tracked face. Nothing new for ``timeout_s`` (or agree, or
cancel) forgets everything, the face encoding included.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from models.base import new_id
from models.events import FaceObservation, HealthCodeObservation, PassageEvent, VerificationStatus
from models.registrations import Consent, RegistrationRequest

Clock = Callable[[], float]


class IncompleteSessionError(ValueError):
    """Agree was pressed before everything needed was scanned."""

    def __init__(self, missing: list[str]) -> None:
        self.missing = missing
        super().__init__("still missing: " + ", ".join(missing))


@dataclass
class _Scanned:
    address_code: str | None = None
    health_code: HealthCodeObservation | None = None
    name_masked: str = ""
    face: FaceObservation | None = None
    problem: str | None = None


class KioskSession:
    """The kiosk's current session; thread-safe (pipeline thread in, web server out)."""

    def __init__(
        self, timeout_s: float, min_face_quality: float = 0.0, clock: Clock = time.monotonic
    ) -> None:
        self.timeout_s = timeout_s
        self.min_face_quality = min_face_quality
        self._clock = clock
        self._lock = threading.Lock()
        self._scanned = _Scanned()
        self._names: dict[str, str] = {}
        self._last = clock()

    def note_name(self, holder_ref: str, name_masked: str) -> None:
        """The masked name printed in a verified pass (see :mod:`edge.kiosk.names`)."""
        with self._lock:
            self._names = {holder_ref: name_masked}

    def observe(self, event: PassageEvent) -> None:
        """Take the door plate, pass and face of a passage (an event listener)."""
        with self._lock:
            self._expire()
            scanned, touched = self._scanned, False
            for plate in event.door_plates():
                scanned.address_code, touched = plate.address_code, True
            for code in event.health_codes():
                touched = True
                if code.status is VerificationStatus.VALID and code.holder_ref:
                    scanned.health_code, scanned.problem = code, None
                    scanned.name_masked = self._names.get(code.holder_ref, "")
                else:
                    scanned.health_code, scanned.problem = None, "pass_not_valid"
            faces = [f for f in event.faces() if f.quality >= self.min_face_quality]
            if len(faces) == 1:
                scanned.face, touched = faces[0], True
            elif len(faces) > 1:
                scanned.face, scanned.problem, touched = None, "several_faces", True
            if touched:
                self._last = self._clock()

    def view(self) -> dict[str, Any]:
        """What the screen shows: ticks, the masked name, a problem key; never the encoding."""
        with self._lock:
            self._expire()
            s = self._scanned
            return {
                "door_plate": s.address_code,
                "pass": s.health_code is not None,
                "name_masked": s.name_masked if s.health_code is not None else "",
                "face": s.face is not None,
                "problem": s.problem,
                "missing": _missing(s),
            }

    def agree(
        self, *, device_id: str, site_id: str, consent_version: str, now: datetime
    ) -> RegistrationRequest:
        """Build the request from the session and forget the session; or raise what is missing."""
        with self._lock:
            self._expire()
            s = self._scanned
            missing = _missing(s)
            if missing or s.address_code is None or s.health_code is None or s.face is None:
                raise IncompleteSessionError(missing)
            request = RegistrationRequest(
                request_id=new_id(),
                device_id=device_id,
                site_id=site_id,
                address_code=s.address_code,
                health_code=s.health_code,
                name_masked=s.name_masked,
                face_encoding=s.face.encoding,
                face_quality=s.face.quality,
                consent=Consent(text_version=consent_version, accepted_at=now),
                created_at=now,
            )
            self._reset()
            return request

    def cancel(self) -> None:
        """Forget everything now."""
        with self._lock:
            self._reset()

    def _expire(self) -> None:
        if self._clock() - self._last >= self.timeout_s:
            self._reset()

    def _reset(self) -> None:
        self._scanned = _Scanned()
        self._names = {}
        self._last = self._clock()


def _missing(s: _Scanned) -> list[str]:
    wanted = {"door_plate": s.address_code, "pass": s.health_code, "face": s.face}
    return [name for name, value in wanted.items() if value is None]
