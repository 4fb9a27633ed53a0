"""The vehicle desk: open a vehicle by plate, check each occupant, close it as one event.

Thread-safe: the web server (staff on the page or a handheld) and the pipeline thread (codes
the camera decoded) both feed it. Several vehicles may be open at once; the camera feeds the
one opened last. Closing builds the :class:`~models.events.PassageEvent` with its
:class:`~models.vehicles.VehicleCheck` and hands it to ``submit`` (the agent's outbox and
link), so it is kept until the hub acknowledges it, like every event.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from edge.checkpoint.codes import CodeTextError
from edge.checkpoint.config import CheckpointConfig
from edge.checkpoint.identity import IdNumberError, IdReader, ScannedId
from edge.checkpoint.verdict import DeskRules, judge
from models.base import new_id, utc_now
from models.events import (
    Direction,
    GateAction,
    GateDecision,
    HealthCodeObservation,
    PassageEvent,
)
from models.vehicles import (
    MAX_OCCUPANTS,
    OccupantCheck,
    Plate,
    PlateError,
    VehicleCheck,
    parse_plate,
)

CodeReader = Callable[[str, datetime], HealthCodeObservation]
"""Routes and verifies typed code text; raises :class:`CodeTextError` for anything else."""
Submit = Callable[[PassageEvent], object]
MAX_REASONS = 16
MAX_DESTINATION = 200
RECENT = 10


class DeskError(ValueError):
    """Refused input; ``key`` names the problem for the page, the message explains it."""

    status = 422

    def __init__(self, key: str, message: str) -> None:
        self.key = key
        super().__init__(message)


class UnknownError(DeskError):
    """No such open vehicle or occupant."""

    status = 404


class ConflictError(DeskError):
    """Not possible in the vehicle's current state (empty, full, already open)."""

    status = 409


@dataclass
class _Occupant:
    number: int
    code: HealthCodeObservation
    source: str
    scanned_id: ScannedId | None = None
    destination: str | None = None


@dataclass
class _Vehicle:
    vehicle_id: str
    plate: Plate
    direction: Direction
    lane: str
    opened_at: datetime
    occupants: list[_Occupant] = field(default_factory=list)
    numbers: int = 0


@dataclass(frozen=True)
class DeskSite:
    """Where the desk's events come from."""

    device_id: str
    site_id: str
    gate_id: str


class VehicleDesk:
    """Open vehicles and their occupants until each is closed (or discarded)."""

    def __init__(
        self,
        site: DeskSite,
        settings: CheckpointConfig,
        rules: DeskRules,
        read_code: CodeReader,
        submit: Submit,
        *,
        ids: IdReader | None = None,
        clock: Callable[[], datetime] = utc_now,
    ) -> None:
        self.site = site
        self.settings = settings
        self._rules = rules
        self._read_code = read_code
        self._submit = submit
        self._ids = ids
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[str, _Vehicle] = {}
        self._closed: deque[dict[str, Any]] = deque(maxlen=RECENT)

    def attach(self, read_code: CodeReader, rules: DeskRules) -> None:
        """Use another code reader and policy (after a config reload)."""
        with self._lock:
            self._read_code, self._rules = read_code, rules

    # -- vehicles ----------------------------------------------------------------------------

    def open(
        self, plate: str, direction: Direction | str | None = None, lane: str | None = None
    ) -> str:
        """Open a vehicle; returns its id. Refuses a bad plate with the plate's reason."""
        try:
            parsed = parse_plate(plate)
        except PlateError as exc:
            raise DeskError("bad_plate", str(exc)) from None
        lanes = self.settings.lanes
        if lane is not None and lane not in lanes:
            raise DeskError("bad_lane", f"lane {lane!r} is not one of {', '.join(lanes)}")
        try:
            way = Direction(direction) if direction else self.settings.default_direction
        except ValueError:
            raise DeskError("bad_direction", "direction is entry or exit") from None
        with self._lock:
            if any(v.plate.number == parsed.number for v in self._open.values()):
                raise ConflictError("already_open", f"{parsed.number} is already open")
            if len(self._open) >= self.settings.max_open_vehicles:
                raise ConflictError("too_many_open", "close a vehicle before opening another")
            vehicle_id = new_id().hex
            self._open[vehicle_id] = _Vehicle(
                vehicle_id, parsed, way, lane or lanes[0], self._clock()
            )
            return vehicle_id

    def discard(self, vehicle_id: str) -> None:
        """Forget an open vehicle without sending anything (opened by mistake)."""
        with self._lock:
            self._vehicle(vehicle_id)
            del self._open[vehicle_id]

    def close(self, vehicle_id: str) -> PassageEvent:
        """Build the vehicle's event and submit it (stored durably on return)."""
        with self._lock:
            vehicle = self._vehicle(vehicle_id)
            if not vehicle.occupants:
                raise ConflictError("empty_vehicle", "a vehicle without occupants cannot close")
            event = self._event(vehicle)
            self._submit(event)
            del self._open[vehicle_id]
            assert event.vehicle is not None
            self._closed.appendleft(
                {
                    "event_id": str(event.event_id),
                    "plate": vehicle.plate.number,
                    "occupants": len(vehicle.occupants),
                    "passed": event.vehicle.passed,
                    "reasons": event.decision.reasons,
                    "closed_at": event.occurred_at.isoformat(),
                }
            )
            return event

    # -- occupants ---------------------------------------------------------------------------

    def add_occupant(
        self,
        vehicle_id: str,
        code: str | HealthCodeObservation,
        *,
        id_number: str | None = None,
        destination: str | None = None,
        source: str = "typed",
    ) -> int:
        """Add a person by their code (text to verify, or the camera's observation)."""
        scanned = self._scan_id(id_number)
        place = _destination(destination)
        if isinstance(code, str):
            try:
                code = self._read_code(code, self._clock())
            except CodeTextError as exc:
                raise DeskError("not_a_health_code", str(exc)) from None
        with self._lock:
            vehicle = self._vehicle(vehicle_id)
            if len(vehicle.occupants) >= MAX_OCCUPANTS:
                raise ConflictError("vehicle_full", f"a vehicle has {MAX_OCCUPANTS} people at most")
            seat = _seat_of_holder(vehicle, code.holder_ref)
            if seat is not None:
                raise ConflictError("duplicate_pass", f"this pass is already checked (seat {seat})")
            vehicle.numbers += 1
            vehicle.occupants.append(_Occupant(vehicle.numbers, code, source, scanned, place))
            return vehicle.numbers

    def update_occupant(
        self,
        vehicle_id: str,
        number: int,
        *,
        id_number: str | None = None,
        destination: str | None = None,
    ) -> None:
        """Set an occupant's ID and/or destination (e.g. after the camera read their code)."""
        scanned = self._scan_id(id_number)
        place = _destination(destination)
        with self._lock:
            occupant = self._occupant(vehicle_id, number)
            if scanned is not None:
                occupant.scanned_id = scanned
            if place is not None:
                occupant.destination = place

    def remove_occupant(self, vehicle_id: str, number: int) -> None:
        """Take a person out of the vehicle (scanned by mistake)."""
        with self._lock:
            occupant = self._occupant(vehicle_id, number)
            self._open[vehicle_id].occupants.remove(occupant)

    def observe(self, event: PassageEvent) -> None:
        """Codes the camera decoded go to the vehicle opened last (an event listener).

        A pass already in that vehicle is not added again; without an open vehicle the codes
        are dropped. The camera's passage itself is never sent in checkpoint mode.
        """
        with self._lock:
            if not self._open:
                return
            vehicle = list(self._open.values())[-1]
            for code in event.health_codes():
                full = len(vehicle.occupants) >= MAX_OCCUPANTS
                if full or _seat_of_holder(vehicle, code.holder_ref) is not None:
                    continue
                vehicle.numbers += 1
                vehicle.occupants.append(_Occupant(vehicle.numbers, code, "camera"))

    # -- views -------------------------------------------------------------------------------

    def view(self) -> dict[str, Any]:
        """Open vehicles with every occupant's verdict, and the last vehicles closed."""
        now = self._clock()
        with self._lock:
            vehicles = [self._vehicle_view(v, now) for v in self._open.values()]
            return {
                "vehicles": vehicles,
                "camera_vehicle": vehicles[-1]["id"] if vehicles else None,
                "closed": list(self._closed),
            }

    def vehicle_view(self, vehicle_id: str) -> dict[str, Any]:
        """One open vehicle as the page shows it."""
        now = self._clock()
        with self._lock:
            return self._vehicle_view(self._vehicle(vehicle_id), now)

    # -- inside the lock ---------------------------------------------------------------------

    def _vehicle(self, vehicle_id: str) -> _Vehicle:
        vehicle = self._open.get(vehicle_id)
        if vehicle is None:
            raise UnknownError("unknown_vehicle", "no such open vehicle (closed already?)")
        return vehicle

    def _occupant(self, vehicle_id: str, number: int) -> _Occupant:
        for occupant in self._vehicle(vehicle_id).occupants:
            if occupant.number == number:
                return occupant
        raise UnknownError("unknown_occupant", f"no occupant {number} in this vehicle")

    def _checks(self, vehicle: _Vehicle, now: datetime) -> list[OccupantCheck]:
        checks = []
        for seat, o in enumerate(vehicle.occupants, 1):
            ref = o.scanned_id.ref if o.scanned_id else None
            reasons = judge(o.code, self._rules, now, id_ref=ref, destination=o.destination)
            checks.append(
                OccupantCheck(
                    seat=seat,
                    health_code=o.code,
                    id_ref=ref,
                    id_masked=o.scanned_id.masked if o.scanned_id else None,
                    destination=o.destination,
                    passed=not reasons,
                    reasons=reasons[:MAX_REASONS],
                )
            )
        return checks

    def _event(self, vehicle: _Vehicle) -> PassageEvent:
        now = self._clock()
        check = VehicleCheck(
            plate=vehicle.plate.number,
            lane=vehicle.lane,
            opened_at=vehicle.opened_at,
            occupants=self._checks(vehicle, now),
        )
        return PassageEvent(
            event_id=new_id(),
            device_id=self.site.device_id,
            site_id=self.site.site_id,
            gate_id=self.site.gate_id,
            direction=vehicle.direction,
            occurred_at=now,
            decision=_decision_of(check.occupants),
            vehicle=check,
        )

    def _vehicle_view(self, vehicle: _Vehicle, now: datetime) -> dict[str, Any]:
        checks = self._checks(vehicle, now)
        occupants = [
            {
                "number": o.number,
                "seat": c.seat,
                "source": o.source,
                "format": str(o.code.format),
                "status": str(o.code.status),
                "colour": str(o.code.colour) if o.code.colour else None,
                "id_masked": c.id_masked,
                "destination": c.destination,
                "passed": c.passed,
                "reasons": c.reasons,
            }
            for o, c in zip(vehicle.occupants, checks, strict=True)
        ]
        decision = _decision_of(checks)
        return {
            "id": vehicle.vehicle_id,
            "plate": vehicle.plate.number,
            "plate_kind": str(vehicle.plate.kind),
            "direction": str(vehicle.direction),
            "lane": vehicle.lane,
            "opened_at": vehicle.opened_at.isoformat(),
            "occupants": occupants,
            "passed": bool(checks) and decision.action is GateAction.OPEN,
            "reasons": decision.reasons if checks else ["no_occupants"],
        }

    def _scan_id(self, id_number: str | None) -> ScannedId | None:
        if id_number is None or not id_number.strip():
            return None
        if self._ids is None:
            raise DeskError("id_not_enabled", "this checkpoint has no identity key for IDs")
        try:
            return self._ids.read(id_number)
        except IdNumberError as exc:
            raise DeskError("bad_id_number", str(exc)) from None


def _destination(text: str | None) -> str | None:
    place = " ".join(text.split()) if text else ""
    if len(place) > MAX_DESTINATION:
        raise DeskError("destination_too_long", f"at most {MAX_DESTINATION} characters")
    return place or None


def _seat_of_holder(vehicle: _Vehicle, holder_ref: str | None) -> int | None:
    if holder_ref is None:
        return None
    for seat, occupant in enumerate(vehicle.occupants, 1):
        if occupant.code.holder_ref == holder_ref:
            return seat
    return None


def _decision_of(checks: list[OccupantCheck]) -> GateDecision:
    """Open only when everyone passed; otherwise hold with every reason (once each)."""
    if all(c.passed for c in checks):
        return GateDecision(action=GateAction.OPEN)
    reasons = list(dict.fromkeys(r for c in checks for r in c.reasons))
    return GateDecision(action=GateAction.HOLD, reasons=reasons[:MAX_REASONS])
