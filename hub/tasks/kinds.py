"""What a daily task asks the grid worker to check, and what they found."""

from __future__ import annotations

from enum import StrEnum


class TaskKind(StrEnum):
    """Why a household or resident is on today's list."""

    TEST_OVERDUE = "test_overdue"
    RETURNEE_VERIFY = "returnee_verify"
    QUARANTINE_CHECK = "quarantine_check"
    UNREACHABLE = "unreachable"
    NEW_REGISTRATION = "new_registration"
    REPORT_FOLLOWUP = "report_followup"
    VISIT = "visit"
    """A visit recorded from the household file (not generated)."""


class TaskResult(StrEnum):
    """The outcome recorded for a household or person."""

    REACHED = "reached"
    AWAY = "away"
    UNREACHABLE = "unreachable"
