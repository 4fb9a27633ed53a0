"""Matching and rules on matched passages: who raises what, routed to which grid."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

import numpy as np
import pytest
import sqlalchemy
from sqlalchemy import select

from hub.alerts.effects import AlertEffects
from hub.ledger.lookup import SqlLedgerLookup
from hub.ledger.repository import LedgerRepository
from hub.match.faces import FaceIndex
from hub.match.ledger import HouseholdView, LedgerKeys, ResidentView
from hub.match.matcher import PlateResult, match_passage, match_passages
from hub.match.strangers import StrangerIndex
from hub.rules.config import RulesConfig
from hub.rules.engine import AlertDraft, evaluate
from hub.store.alert_tables import AlertRow
from hub.store.db import Store
from models.alerts import Alert, AlertRule, Severity
from models.base import utc_now
from models.events import (
    CodeColour,
    Direction,
    DoorPlateObservation,
    FaceDecision,
    FaceMatch,
    FaceObservation,
    GateAction,
    HealthCodeFormat,
    HealthCodeObservation,
    Observation,
    PassageEvent,
    ReasonCode,
    VerificationStatus,
)
from models.face_match import FaceThresholds
from models.ledger import Address, Grid, HouseholdState
from tests.support.dict_ledger import DictLedger
from tests.support.factories import passage_of

RNG = np.random.default_rng(1)
ALICE_FACE = RNG.normal(0, 0.1, 128)
STRANGER_FACE = RNG.normal(0, 0.1, 128)


def _ledger(**alice: object) -> tuple[DictLedger, FaceIndex]:
    fields: dict[str, object] = {
        "resident_id": "r-alice",
        "name": "王丽",
        "address_code": "ADDR-0001",
        "grid_id": "grid-1",
        "last_test_at": utc_now() - timedelta(hours=6),
    }
    fields.update(alice)
    resident = ResidentView(**fields)  # type: ignore[arg-type]
    ledger = DictLedger(
        residents={"r-alice": resident},
        holders={"h1:alice": "r-alice"},
        addresses={"ADDR-0001": "grid-1", "ADDR-0002": "grid-2"},
        sites={"site-a": "grid-9"},
    )
    index = FaceIndex()
    index.replace(["r-alice"], [ALICE_FACE])
    return ledger, index


def _face(vector: np.ndarray, track: int = 1) -> FaceObservation:
    return FaceObservation(
        track_id=track, encoding=[float(v) for v in vector], quality=0.8, seen_at=utc_now()
    )


def _code(
    colour: CodeColour | None = CodeColour.GREEN,
    holder: str | None = "h1:alice",
    status: VerificationStatus = VerificationStatus.VALID,
) -> HealthCodeObservation:
    return HealthCodeObservation(
        format=HealthCodeFormat.GRIDGATE,
        status=status,
        colour=colour,
        holder_ref=holder,
        reason_codes=[] if status is VerificationStatus.VALID else [ReasonCode.BAD_SIGNATURE],
        seen_at=utc_now(),
    )


def _plate(code: str) -> DoorPlateObservation:
    return DoorPlateObservation(address_code=code, seen_at=utc_now())


def _event(*observations: Observation, direction: Direction = Direction.ENTRY) -> PassageEvent:
    return passage_of(*observations, direction=direction, action=GateAction.OBSERVE)


def _run(
    event: PassageEvent, config: RulesConfig | None = None, **alice: object
) -> list[AlertDraft]:
    ledger, index = _ledger(**alice)
    match = match_passage(event, ledger, index, FaceThresholds())
    return evaluate(event, match, config or RulesConfig(), utc_now())


def _rules(drafts: list[AlertDraft]) -> set[AlertRule]:
    return {d.rule for d in drafts}


def test_registered_resident_with_green_code_raises_nothing() -> None:
    assert _run(_event(_face(ALICE_FACE + 0.001), _code(), _plate("ADDR-0001"))) == []


def test_unknown_face_without_pass_is_unregistered_and_routed_to_the_site_grid() -> None:
    (draft,) = _run(_event(_face(STRANGER_FACE)))
    assert draft.rule is AlertRule.UNREGISTERED_PERSON
    assert draft.severity is Severity.MAJOR
    assert draft.grid_id == "grid-9"
    assert draft.resident_id is None


def test_unknown_face_with_a_door_plate_goes_to_that_address_grid() -> None:
    (draft,) = _run(_event(_face(STRANGER_FACE), _plate("ADDR-0002")))
    assert draft.grid_id == "grid-2"


def test_red_code_of_a_resident_is_critical_in_their_grid() -> None:
    (draft,) = _run(_event(_code(CodeColour.RED)))
    assert (draft.rule, draft.severity, draft.grid_id, draft.subject_ref) == (
        AlertRule.RED_CODE,
        Severity.CRITICAL,
        "grid-1",
        "r-alice",
    )


def test_yellow_code_and_invalid_pass() -> None:
    assert _rules(_run(_event(_code(CodeColour.YELLOW)))) == {AlertRule.YELLOW_CODE}
    forged = _code(None, status=VerificationStatus.INVALID)
    assert _rules(_run(_event(forged))) == {AlertRule.INVALID_PASS}


def test_valid_pass_of_someone_not_in_the_ledger_is_unregistered() -> None:
    drafts = _run(_event(_code(holder="h1:stranger")))
    assert _rules(drafts) == {AlertRule.UNREGISTERED_PERSON}
    assert drafts[0].subject_ref == "h1:stranger"


def test_quarantined_resident_leaving_but_not_entering() -> None:
    until = date.today() + timedelta(days=3)
    leaving = _run(_event(_code(), direction=Direction.EXIT), quarantine_until=until)
    assert _rules(leaving) == {AlertRule.QUARANTINE_BREACH}
    assert leaving[0].severity is Severity.CRITICAL
    assert _run(_event(_code(), direction=Direction.ENTRY), quarantine_until=until) == []


def test_returnee_with_an_old_test_is_overdue() -> None:
    old = utc_now() - timedelta(hours=72)
    drafts = _run(_event(_code()), key_area_returnee=True, last_test_at=old)
    assert _rules(drafts) == {AlertRule.TEST_OVERDUE}
    assert _run(_event(_code()), key_area_returnee=False, last_test_at=old) == []
    everyone = RulesConfig(test_required_for="everyone")
    assert _rules(_run(_event(_code()), everyone, last_test_at=old)) == {AlertRule.TEST_OVERDUE}


def test_door_plate_of_another_address_is_a_mismatch() -> None:
    drafts = _run(_event(_face(ALICE_FACE), _plate("ADDR-0002")))
    assert _rules(drafts) == {AlertRule.ADDRESS_MISMATCH}
    assert drafts[0].grid_id == "grid-1"


def test_more_faces_than_valid_passes_is_tailgating_when_passes_are_required() -> None:
    event = _event(_face(ALICE_FACE, 1), _face(ALICE_FACE + 0.002, 2), _code())
    assert AlertRule.TAILGATING not in _rules(_run(event))
    strict = RulesConfig(tailgating_requires_passes=True)
    assert AlertRule.TAILGATING in _rules(_run(event, strict))


def test_disabled_rules_and_custom_severity() -> None:
    config = RulesConfig(
        enabled={AlertRule.RED_CODE}, severity={AlertRule.RED_CODE: Severity.WARNING}
    )
    (draft,) = _run(_event(_face(STRANGER_FACE), _code(CodeColour.RED)), config)
    assert (draft.rule, draft.severity) == (AlertRule.RED_CODE, Severity.WARNING)


def test_face_index_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(7)
    gallery = rng.normal(0, 0.1, (2000, 128))
    index = FaceIndex()
    index.replace([f"r{i}" for i in range(2000)], gallery)
    for probe in rng.normal(0, 0.1, (20, 128)):
        distances = np.linalg.norm(gallery - probe, axis=1)
        found = index.nearest(probe)
        assert found.ref == f"r{int(np.argmin(distances))}"
        assert found.distance == pytest.approx(float(distances.min()), rel=1e-4)
    index.add("new", gallery[5] + 0.0001)
    assert index.nearest(gallery[5] + 0.0001).ref == "new"
    assert FaceIndex().nearest(gallery[0]).ref is None


def test_a_platform_code_accepted_during_an_outage_raises_code_unverified() -> None:
    accepted = HealthCodeObservation(
        format=HealthCodeFormat.ONLINE,
        status=VerificationStatus.UNVERIFIED,
        reason_codes=[ReasonCode.PLATFORM_UNREACHABLE],
        policy_passed=True,  # the site's accept_with_alert policy
        seen_at=utc_now(),
    )
    drafts = _run(_event(accepted))
    assert _rules(drafts) == {AlertRule.CODE_UNVERIFIED}
    assert "platform unreachable" in drafts[0].summary
    assert drafts[0].severity is Severity.MAJOR
    strict = RulesConfig(tailgating_requires_passes=True)
    with_face = _run(_event(accepted, _face(ALICE_FACE)), strict)  # one face, one accepted code
    assert AlertRule.TAILGATING not in _rules(with_face)


# --- faces kept on the device: no encoding, the edge gallery's decision ------------------


def _local(
    decision: FaceDecision,
    ref: str | None = None,
    *,
    track: int = 1,
    seen_at: datetime | None = None,
) -> FaceObservation:
    return FaceObservation(
        track_id=track,
        quality=0.8,
        seen_at=seen_at or utc_now(),
        local_match=FaceMatch(decision=decision, resident_ref=ref, distance=0.3),
    )


class _PrefetchingLedger(DictLedger):
    """A DictLedger that records what a batch asked it to prefetch."""

    def __init__(self, ledger: DictLedger) -> None:
        super().__init__(ledger.residents, ledger.holders, ledger.addresses, ledger.sites)
        self.prefetched: list[LedgerKeys] = []

    def prefetch(self, keys: LedgerKeys) -> None:
        self.prefetched.append(keys)


def test_a_face_without_encoding_is_judged_by_the_edges_gallery_decision() -> None:
    ledger, index = _ledger()
    prefetching = _PrefetchingLedger(ledger)
    known = _event(_local(FaceDecision.KNOWN, "r-alice"), _plate("ADDR-0002"))
    (match,) = match_passages([known], prefetching, index, FaceThresholds())
    assert [r.resident_id for r in match.residents()] == ["r-alice"]
    assert "r-alice" in prefetching.prefetched[0].resident_ids  # read with the batch
    drafts = evaluate(known, match, RulesConfig(), utc_now())
    assert _rules(drafts) == {AlertRule.ADDRESS_MISMATCH}  # alice, at someone else's door

    (draft,) = _run(_event(_local(FaceDecision.UNKNOWN)))
    assert (draft.rule, draft.grid_id) == (AlertRule.UNREGISTERED_PERSON, "grid-9")
    for no_claim in (
        _local(FaceDecision.UNDECIDED),
        _local(FaceDecision.NOT_CHECKED),
        _local(FaceDecision.KNOWN, "r-moved-away"),  # a stale gallery: no one to name
        _local(FaceDecision.KNOWN),  # 'known' without a resident claims nothing
    ):
        assert _run(_event(no_claim, _code())) == []


def test_an_unknown_face_without_encoding_is_one_stranger_per_track() -> None:
    ledger, index = _ledger()
    strangers = StrangerIndex(FaceThresholds(), worker="w1", track_memory_s=60)
    start = utc_now()

    def subject(track: int, after_s: float, device: str = "gate-01") -> str:
        face = _local(FaceDecision.UNKNOWN, track=track, seen_at=start + timedelta(seconds=after_s))
        event = _event(face).model_copy(update={"device_id": device})
        (match,) = match_passages([event], ledger, index, FaceThresholds(), strangers)
        (draft,) = evaluate(event, match, RulesConfig(), utc_now())
        return draft.subject_ref

    first = subject(7, 0)
    assert first.startswith("stranger:site-a:w1-")
    assert subject(7, 30) == first  # the same person still at the gate: a repeat
    assert subject(7, 80) == first  # seen 50 s ago: still within the memory
    assert subject(8, 80) != first  # another track: another person
    assert subject(7, 80, device="gate-02") != first  # another gate's track 7
    assert subject(7, 200) != first  # unseen for 120 s: a new track 7 (the edge restarted)


def test_faces_with_and_without_encodings_in_one_batch() -> None:
    ledger, index = _ledger()
    strangers = StrangerIndex(FaceThresholds(), worker="w1")
    mixed = _event(
        _face(ALICE_FACE + 0.001, track=1),
        _local(FaceDecision.UNKNOWN, track=2),
        _face(STRANGER_FACE, track=3),
    )
    (match,) = match_passages([mixed], ledger, index, FaceThresholds(), strangers)
    decisions = [f.match.decision for f in match.faces]
    assert decisions == [FaceDecision.KNOWN, FaceDecision.UNKNOWN, FaceDecision.UNKNOWN]
    assert match.faces[0].resident is not None
    assert match.faces[1].stranger_ref != match.faces[2].stranger_ref
    assert all(f.stranger_ref for f in match.faces[1:])


@dataclass
class HouseholdDictLedger(DictLedger):
    """A :class:`DictLedger` that also knows households (address code → state)."""

    households: dict[str, HouseholdState] = field(default_factory=dict)

    def household(self, address_code: str) -> HouseholdView | None:
        if address_code not in self.addresses:
            return None
        return HouseholdView(
            address_code, self.households.get(address_code, HouseholdState.UNKNOWN)
        )


def _household_run(
    event: PassageEvent,
    config: RulesConfig | None = None,
    state: HouseholdState = HouseholdState.VACANT,
) -> list[AlertDraft]:
    """Rules on ``event`` where the household at ADDR-0002 is recorded ``state``."""
    plain, index = _ledger()
    ledger = HouseholdDictLedger(**vars(plain), households={"ADDR-0002": state})
    match = match_passage(event, ledger, index, FaceThresholds())
    return evaluate(event, match, config or RulesConfig(), utc_now())


def test_a_plate_of_a_vacant_household_is_a_low_alert_in_its_grid() -> None:
    drafts = _household_run(_event(_face(ALICE_FACE + 0.001), _code(), _plate("ADDR-0002")))
    vacant = [d for d in drafts if d.rule is AlertRule.VACANT_HOUSEHOLD_ACTIVITY]
    assert vacant == [
        AlertDraft(
            AlertRule.VACANT_HOUSEHOLD_ACTIVITY,
            Severity.WARNING,
            "household:ADDR-0002",
            "grid-2",
            "door plate ADDR-0002 of a household recorded vacant scanned at site-a/north (entry)",
        )
    ]
    # the same plate again is the same subject: one active alert, repeats counted on it
    again = _household_run(_event(_face(STRANGER_FACE), _plate("ADDR-0002"), _plate("ADDR-0002")))
    assert [d.subject_ref for d in again if d.rule is AlertRule.VACANT_HOUSEHOLD_ACTIVITY] == [
        "household:ADDR-0002"
    ]


def test_occupied_unknown_and_unlisted_households_raise_nothing_and_the_rule_is_per_site() -> None:
    cases = [
        ("ADDR-0002", HouseholdState.OCCUPIED),
        ("ADDR-0002", HouseholdState.UNKNOWN),
        ("ADDR-0001", HouseholdState.VACANT),  # no state recorded at ADDR-0001: unknown
        ("ADDR-9999", HouseholdState.VACANT),  # not in the ledger
    ]
    for code, state in cases:
        event = _event(_face(ALICE_FACE + 0.001), _code(), _plate(code))
        drafts = _household_run(event, state=state)
        assert AlertRule.VACANT_HOUSEHOLD_ACTIVITY not in _rules(drafts), (code, state)
    off = RulesConfig(enabled=set(AlertRule) - {AlertRule.VACANT_HOUSEHOLD_ACTIVITY})
    assert _household_run(_event(_plate("ADDR-0002")), off) == []
    louder = RulesConfig(severity={AlertRule.VACANT_HOUSEHOLD_ACTIVITY: Severity.MINOR})
    (draft,) = _household_run(_event(_plate("ADDR-0002")), louder)
    assert draft.severity is Severity.MINOR
    # a ledger that knows no households matches plates to grids only
    (plate,) = match_passage(
        _event(_plate("ADDR-0002")), _ledger()[0], FaceIndex(), FaceThresholds()
    ).plates
    assert (plate.grid_id, plate.household) == ("grid-2", None)


def _plate_ledger(store: Store) -> None:
    with store.transaction() as session:
        repo = LedgerRepository(session)
        repo.upsert_grids([Grid(grid_id="grid-1", name="新塘里第1网格")])
        repo.upsert_addresses(
            Address(address_code=f"XTL-{n:03d}", street="新塘里", number=str(n), grid_id="grid-1")
            for n in range(1, 4)
        )
        repo.set_households({"XTL-001": HouseholdState.OCCUPIED, "XTL-002": HouseholdState.VACANT})


def _statements(store: Store, events: list[PassageEvent]) -> tuple[list[PlateResult], int]:
    """The batch's plate results, and how many SQL statements matching it ran."""
    seen: list[str] = []

    def count(*args: object) -> None:
        seen.append(str(args[2]))

    sqlalchemy.event.listen(store.engine, "before_cursor_execute", count)
    try:
        with store.sessions() as session:
            matches = match_passages(
                events, SqlLedgerLookup(session), FaceIndex(), FaceThresholds()
            )
    finally:
        sqlalchemy.event.remove(store.engine, "before_cursor_execute", count)
    return [p for m in matches for p in m.plates], len(seen)


def test_the_batch_prefetch_brings_each_plates_household_without_a_query_per_event(
    store: Store,
) -> None:
    _plate_ledger(store)
    codes = ["XTL-001", "XTL-002", "XTL-003", "XTL-404"]
    few, few_queries = _statements(store, [_event(_plate(c)) for c in codes])
    assert [(p.grid_id, p.household) for p in few] == [
        ("grid-1", HouseholdView("XTL-001", HouseholdState.OCCUPIED)),
        ("grid-1", HouseholdView("XTL-002", HouseholdState.VACANT)),
        ("grid-1", HouseholdView("XTL-003", HouseholdState.UNKNOWN)),
        (None, None),
    ]
    many, many_queries = _statements(store, [_event(_plate(c)) for c in codes * 25])
    assert [p.household for p in many] == [p.household for p in few] * 25
    assert many_queries == few_queries == 2  # the addresses (grid + household) and the site


class _Sink:
    def __init__(self) -> None:
        self.alerts: list[Alert] = []

    def publish(self, alerts: list[Alert]) -> None:
        self.alerts.extend(alerts)


def test_the_hub_raises_one_vacant_household_alert_and_counts_repeats(store: Store) -> None:
    _plate_ledger(store)
    sink = _Sink()
    effects = AlertEffects(ledger=SqlLedgerLookup, faces=FaceIndex(), sink=sink)
    for code in ("XTL-002", "XTL-001", "XTL-003", "XTL-002"):
        with store.transaction() as session:
            effects.apply(session, _event(_plate(code)))
    with store.sessions() as session:
        rows = session.scalars(select(AlertRow)).all()
    assert [(r.rule, r.severity, r.grid_id, r.subject_ref, r.repeat_count) for r in rows] == [
        ("vacant_household_activity", "warning", "grid-1", "household:XTL-002", 2)
    ]
    assert [a.repeat_count for a in sink.alerts] == [1, 2]
