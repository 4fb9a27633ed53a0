"""Alerts the hub raises from passages, pushed to the grid workers responsible."""

from __future__ import annotations

from enum import StrEnum
from uuid import UUID

from pydantic import Field

from models.base import SCHEMA_VERSION, Identifier, SchemaVersion, Timestamp, WireModel


class Severity(StrEnum):
    """Alarm severity, as ThingsBoard and the field use it."""

    CRITICAL = "critical"
    MAJOR = "major"
    MINOR = "minor"
    WARNING = "warning"


class AlertState(StrEnum):
    """Lifecycle: open → acknowledged → in progress → resolved."""

    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    IN_PROGRESS = "in_progress"
    RESOLVED = "resolved"


class Resolution(StrEnum):
    """How a resolved alert ended."""

    REGISTERED_NOW = "registered_now"
    FALSE_ALARM = "false_alarm"
    MOVED_AWAY = "moved_away"
    ISOLATED = "isolated"
    OTHER = "other"


class SweepStep(StrEnum):
    """The four-step sweep a grid worker records while an alert is in progress."""

    DOOR_VISIT = "door_visit"
    PHONE = "phone"
    JOINT_VISIT = "joint_visit"
    CROSS_CHECK = "cross_check"


class AlertRule(StrEnum):
    """The rule that raised an alert."""

    UNREGISTERED_PERSON = "unregistered_person"
    RED_CODE = "red_code"
    YELLOW_CODE = "yellow_code"
    QUARANTINE_BREACH = "quarantine_breach"
    TEST_OVERDUE = "test_overdue"
    ADDRESS_MISMATCH = "address_mismatch"
    INVALID_PASS = "invalid_pass"  # noqa: S105 - a rule name, not a secret
    TAILGATING = "tailgating"
    REPORT_HIGH_RISK = "report_high_risk"
    CODE_UNVERIFIED = "code_unverified"
    UNREGISTERED_ARRIVAL = "unregistered_arrival"  # a vehicle occupant bound for the district
    VACANT_HOUSEHOLD_ACTIVITY = "vacant_household_activity"  # a plate of a household "vacant"


class Alert(WireModel):
    """One active alert per person and rule; repeats are counted on it."""

    schema_version: SchemaVersion = SCHEMA_VERSION
    alert_id: UUID
    rule: AlertRule
    severity: Severity
    state: AlertState = AlertState.OPEN
    grid_id: Identifier
    site_id: Identifier
    gate_id: Identifier | None = None
    building: str | None = Field(
        None,
        max_length=160,
        title="Building",
        description=(
            "Building of the address it concerns (the resident's, else the door plate's), e.g."
            " 新塘里96号 3栋; left out of the payload when unknown."
        ),
        exclude_if=lambda v: v is None,
    )
    community: str | None = Field(
        None,
        max_length=100,
        title="Community",
        description="Community of its grid; left out of the payload when unknown.",
        exclude_if=lambda v: v is None,
    )
    event_id: UUID | None = Field(None, title="Event that last raised or repeated it")
    subject_ref: str = Field(
        max_length=128,
        title="Subject",
        description="Who it is about: resident id, holder reference or face track key.",
    )
    summary: str = Field(max_length=500)
    repeat_count: int = Field(1, ge=1)
    raised_at: Timestamp
    updated_at: Timestamp
    resolution: Resolution | None = Field(None, title="Resolution", description="Once resolved.")
    escalated: bool = Field(
        False, title="Escalated", description="Not acknowledged in time: the grid leader was told."
    )
