"""Per-site rule configuration (YAML), validated with pydantic."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from models.alerts import AlertRule, Severity
from models.codec import field_errors

DEFAULT_SEVERITY: dict[AlertRule, Severity] = {
    AlertRule.UNREGISTERED_PERSON: Severity.MAJOR,
    AlertRule.RED_CODE: Severity.CRITICAL,
    AlertRule.YELLOW_CODE: Severity.MAJOR,
    AlertRule.QUARANTINE_BREACH: Severity.CRITICAL,
    AlertRule.TEST_OVERDUE: Severity.MINOR,
    AlertRule.ADDRESS_MISMATCH: Severity.WARNING,
    AlertRule.INVALID_PASS: Severity.MAJOR,
    AlertRule.TAILGATING: Severity.MAJOR,
    AlertRule.REPORT_HIGH_RISK: Severity.MAJOR,
    AlertRule.CODE_UNVERIFIED: Severity.MAJOR,
    AlertRule.UNREGISTERED_ARRIVAL: Severity.MAJOR,
    AlertRule.VACANT_HOUSEHOLD_ACTIVITY: Severity.WARNING,  # a lead, not an emergency
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


class SiteRules(BaseModel):
    """The rules file: defaults, and overrides per site."""

    model_config = ConfigDict(extra="forbid")

    default: RulesConfig = Field(
        default_factory=RulesConfig, title="Default rules", description="For every site."
    )
    sites: dict[str, RulesConfig] = Field(
        default_factory=dict,
        title="Per-site rules",
        description="Site id → rules replacing the defaults there.",
    )

    def for_site(self, site_id: str) -> RulesConfig:
        """The rules in force at ``site_id``."""
        return self.sites.get(site_id, self.default)


class RulesFileError(ValueError):
    """A rules file that cannot be used; the message names each bad field."""


def load_rules(path: Path) -> SiteRules:
    """Read and validate a YAML rules file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        raise RulesFileError(f"{path}: {exc}") from None
    try:
        return SiteRules.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{e.path or '<root>'}: {e.message}" for e in field_errors(exc))
        raise RulesFileError(f"{path}: {problems}") from None
