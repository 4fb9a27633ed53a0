"""Per-site rule configuration (YAML), validated with pydantic."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from models.alerts import AlertRule, Severity

DEFAULT_SEVERITY: dict[AlertRule, Severity] = {
    AlertRule.UNREGISTERED_PERSON: Severity.MAJOR,
    AlertRule.RED_CODE: Severity.CRITICAL,
    AlertRule.YELLOW_CODE: Severity.MAJOR,
    AlertRule.QUARANTINE_BREACH: Severity.CRITICAL,
    AlertRule.TEST_OVERDUE: Severity.MINOR,
    AlertRule.ADDRESS_MISMATCH: Severity.WARNING,
    AlertRule.INVALID_PASS: Severity.MAJOR,
    AlertRule.TAILGATING: Severity.MAJOR,
}


class RulesConfig(BaseModel):
    """Which rules run at a site, their severities and their limits."""

    model_config = ConfigDict(extra="forbid")

    enabled: set[AlertRule] = Field(
        default_factory=lambda: set(AlertRule),
        title="Enabled rules",
        description="Rules evaluated at this site.",
    )
    severity: dict[AlertRule, Severity] = Field(
        default_factory=lambda: dict(DEFAULT_SEVERITY),
        title="Severities",
        description="Severity per rule; rules not listed use the default.",
    )
    test_overdue_h: float = Field(
        48.0, gt=0, title="Test overdue after (h)", description="Hours since a resident's test."
    )
    test_required_for: Literal["everyone", "returnees"] = Field(
        "returnees",
        title="Who must test",
        description="Residents whose missing or old test raises 'test overdue'.",
    )
    tailgating_requires_passes: bool = Field(
        False,
        title="Passes required per person",
        description="Raise tailgating when more faces than valid passes pass at once.",
    )
    default_grid: str = Field(
        "unassigned",
        title="Default grid",
        description="Grid of alerts whose person, address and site have none.",
    )

    def severity_of(self, rule: AlertRule) -> Severity:
        """The configured severity of ``rule``."""
        return self.severity.get(rule, DEFAULT_SEVERITY[rule])
