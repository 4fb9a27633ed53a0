"""Match one passage: faces → residents (two thresholds), passes → holders, plates → addresses."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.match.faces import FaceIndex
from hub.match.ledger import LedgerLookup, ResidentView
from hub.match.strangers import StrangerIndex
from models.events import (
    DoorPlateObservation,
    FaceDecision,
    FaceMatch,
    FaceObservation,
    HealthCodeObservation,
    PassageEvent,
)
from models.face_match import FaceThresholds, match_one


@dataclass(frozen=True)
class FaceResult:
    """One face of the passage and who it is, if anyone."""

    observation: FaceObservation
    match: FaceMatch
    resident: ResidentView | None
    stranger_ref: str | None = None


@dataclass(frozen=True)
class CodeResult:
    """One health code of the passage and its holder in the ledger, if any."""

    observation: HealthCodeObservation
    resident: ResidentView | None


@dataclass(frozen=True)
class PlateResult:
    """One door plate and the grid of its address (None: not in the ledger)."""

    observation: DoorPlateObservation
    grid_id: str | None


@dataclass(frozen=True)
class PassageMatch:
    """Everything matched for one passage."""

    faces: list[FaceResult] = field(default_factory=list)
    codes: list[CodeResult] = field(default_factory=list)
    plates: list[PlateResult] = field(default_factory=list)
    site_grid: str | None = None

    def residents(self) -> list[ResidentView]:
        """Distinct residents identified by any means."""
        found = [f.resident for f in self.faces] + [c.resident for c in self.codes]
        return list({r.resident_id: r for r in found if r is not None}.values())


def match_passage(
    event: PassageEvent,
    ledger: LedgerLookup,
    faces: FaceIndex,
    thresholds: FaceThresholds,
    strangers: StrangerIndex | None = None,
) -> PassageMatch:
    """Match every observation; a face beyond tolerance is never given the nearest name."""
    face_results = []
    for face in event.faces():
        match = match_one(faces.nearest(face.encoding), thresholds)
        resident = ledger.resident(match.resident_ref) if match.resident_ref else None
        stranger = None
        if strangers is not None and match.decision is FaceDecision.UNKNOWN:
            stranger = strangers.reference(face.encoding, event.site_id)
        face_results.append(FaceResult(face, match, resident, stranger))
    code_results = [
        CodeResult(code, ledger.resident_by_holder(code.holder_ref) if code.holder_ref else None)
        for code in event.health_codes()
    ]
    plate_results = [
        PlateResult(plate, ledger.address_grid(plate.address_code)) for plate in event.door_plates()
    ]
    return PassageMatch(face_results, code_results, plate_results, ledger.site_grid(event.site_id))
