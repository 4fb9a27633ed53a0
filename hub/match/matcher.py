"""Match one passage: faces → residents (two thresholds), passes → holders, plates → addresses
and their households."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from hub.match.faces import DIMENSIONS, FaceIndex
from hub.match.ledger import (
    HouseholdLedger,
    HouseholdView,
    LedgerKeys,
    LedgerLookup,
    PrefetchingLedger,
    ResidentView,
)
from hub.match.strangers import StrangerIndex
from models.events import (
    DoorPlateObservation,
    FaceDecision,
    FaceMatch,
    FaceObservation,
    HealthCodeObservation,
    PassageEvent,
)
from models.face_match import Candidate, FaceThresholds, decide


@dataclass(frozen=True, slots=True)
class FaceVerdict:
    """The two-threshold decision for one face (what :func:`models.face_match.match_one`
    decides, without building a wire model for each face on the ingest hot path)."""

    decision: FaceDecision
    resident_ref: str | None
    distance: float | None

    @classmethod
    def of(cls, candidate: Candidate, thresholds: FaceThresholds) -> FaceVerdict:
        """The decision for ``candidate``, naming the resident only when known."""
        decision = decide(candidate.distance, thresholds)
        ref = candidate.ref if decision is FaceDecision.KNOWN else None
        return cls(decision, ref, candidate.distance)

    @classmethod
    def from_edge(cls, local: FaceMatch) -> FaceVerdict:
        """The edge gallery's decision, for a face sent without its encoding (a 'known'
        without a resident is no claim)."""
        if local.decision is FaceDecision.KNOWN and not local.resident_ref:
            return cls(FaceDecision.UNDECIDED, None, local.distance)
        ref = local.resident_ref if local.decision is FaceDecision.KNOWN else None
        return cls(local.decision, ref, local.distance)


@dataclass(frozen=True)
class FaceResult:
    """One face of the passage and who it is, if anyone."""

    observation: FaceObservation
    match: FaceVerdict
    resident: ResidentView | None
    stranger_ref: str | None = None


@dataclass(frozen=True)
class CodeResult:
    """One health code of the passage and its holder in the ledger, if any."""

    observation: HealthCodeObservation
    resident: ResidentView | None


@dataclass(frozen=True)
class PlateResult:
    """One door plate, the grid of its address and its household (None: not in the ledger, or
    a ledger that does not know households)."""

    observation: DoorPlateObservation
    grid_id: str | None
    household: HouseholdView | None = None


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
    return match_passages([event], ledger, faces, thresholds, strangers)[0]


def match_passages(
    events: Sequence[PassageEvent],
    ledger: LedgerLookup,
    faces: FaceIndex,
    thresholds: FaceThresholds,
    strangers: StrangerIndex | None = None,
) -> list[PassageMatch]:
    """Match a batch of passages, in order; the ledger is read once for all of them.

    Faces are matched first (in memory); then a :class:`PrefetchingLedger` reads every
    resident, holder, address and site the batch names in a few queries.
    """
    seen = _faces(events, faces, thresholds, strangers)
    if isinstance(ledger, PrefetchingLedger):
        ledger.prefetch(_keys(events, seen))
    household = ledger.household if isinstance(ledger, HouseholdLedger) else _no_household
    return [
        _assemble(event, found, ledger, household)
        for event, found in zip(events, seen, strict=True)
    ]


def _no_household(address_code: str) -> None:
    return None


_Seen = list[tuple[FaceObservation, FaceVerdict, str | None]]


def _faces(
    events: Sequence[PassageEvent],
    faces: FaceIndex,
    thresholds: FaceThresholds,
    strangers: StrangerIndex | None,
) -> list[_Seen]:
    """Each event's faces with their match and, for an unknown face, its stranger reference.

    A face with its encoding is matched here; one without (a site that keeps face data on
    the device) carries the edge gallery's decision, and an unknown one is told apart from
    other strangers by its device's face track.
    """
    observed = [event.faces() for event in events]
    flat = [face.encoding for seen in observed for face in seen if face.encoding is not None]
    nearest = iter(faces.nearest_many(np.asarray(flat, dtype=np.float32).reshape(-1, DIMENSIONS)))
    found = [
        [
            (
                face,
                FaceVerdict.of(next(nearest), thresholds)
                if face.encoding is not None
                else FaceVerdict.from_edge(face.local_match),
            )
            for face in seen
        ]
        for seen in observed
    ]
    unknown = [
        (i, j)
        for i, pairs in enumerate(found)
        for j, (_, match) in enumerate(pairs)
        if match.decision is FaceDecision.UNKNOWN
    ]
    stranger_of: dict[tuple[int, int], str] = {}
    if strangers is not None and unknown:
        encoded = {
            (i, j): encoding
            for i, j in unknown
            if (encoding := found[i][j][0].encoding) is not None
        }
        if encoded:
            refs = strangers.references(
                list(encoded.values()), [events[i].site_id for i, _ in encoded]
            )
            stranger_of = dict(zip(encoded, refs, strict=True))
        for i, j in unknown:
            if (i, j) not in stranger_of:
                face, event = found[i][j][0], events[i]
                stranger_of[(i, j)] = strangers.track_reference(
                    event.site_id, event.device_id, face.track_id, face.seen_at
                )
    return [
        [(face, match, stranger_of.get((i, j))) for j, (face, match) in enumerate(pairs)]
        for i, pairs in enumerate(found)
    ]


def _keys(events: Sequence[PassageEvent], seen: Sequence[_Seen]) -> LedgerKeys:
    return LedgerKeys(
        resident_ids=frozenset(
            m.resident_ref for found in seen for _, m, _ in found if m.resident_ref
        ),
        holder_refs=frozenset(
            c.holder_ref for e in events for c in e.health_codes() if c.holder_ref
        ),
        address_codes=frozenset(p.address_code for e in events for p in e.door_plates()),
        site_ids=frozenset(e.site_id for e in events),
    )


def _assemble(
    event: PassageEvent,
    seen: _Seen,
    ledger: LedgerLookup,
    household: Callable[[str], HouseholdView | None],
) -> PassageMatch:
    face_results = [
        FaceResult(
            face,
            match,
            ledger.resident(match.resident_ref) if match.resident_ref else None,
            stranger,
        )
        for face, match, stranger in seen
    ]
    code_results = [
        CodeResult(code, ledger.resident_by_holder(code.holder_ref) if code.holder_ref else None)
        for code in event.health_codes()
    ]
    plate_results = [
        PlateResult(plate, ledger.address_grid(plate.address_code), household(plate.address_code))
        for plate in event.door_plates()
    ]
    return PassageMatch(face_results, code_results, plate_results, ledger.site_grid(event.site_id))
