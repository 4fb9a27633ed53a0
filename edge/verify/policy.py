"""The site's three-code policy: colour, recent test, trip history (and vaccination)."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict, Field

from edge.verify.colour_rules import DccRules, ShcRules
from models.events import CodeColour
from models.passes import PassClaims, TestResult, TripRisk

_RISK_ORDER = {TripRisk.NONE: 0, TripRisk.MEDIUM: 1, TripRisk.HIGH: 2}


class CodePolicy(BaseModel):
    """A checkpoint might say: green AND test <= 48 h AND no high-risk trip."""

    model_config = ConfigDict(extra="forbid")

    require_green: bool = Field(True, title="Require green", description="Colour must be green.")
    max_test_age_h: float | None = Field(
        None,
        gt=0,
        title="Longest test age",
        description="Hours since a negative test; unset: no test required.",
    )
    max_trip_risk: TripRisk = Field(
        TripRisk.MEDIUM,
        title="Highest trip risk",
        description="Trips riskier than this in the last 7 days fail the check.",
    )
    min_doses: int = Field(0, ge=0, title="Minimum vaccination doses")
    max_validity_min: float | None = Field(
        None,
        gt=0,
        title="Dynamic passes only (min)",
        description="Refuse passes valid for longer than this many minutes: the site accepts "
        "only short-lived, refreshed passes, so an old screenshot stops working.",
    )
    dcc: DccRules = Field(
        default_factory=DccRules,
        title="EU DCC colours",
        description="How a verified EU Digital COVID Certificate maps to a colour.",
    )
    shc: ShcRules = Field(
        default_factory=ShcRules,
        title="SMART Health Card colours",
        description="How a verified SMART Health Card maps to a colour.",
    )

    def passes(self, claims: PassClaims, now: datetime) -> bool:
        """The three-code verdict for a pass whose signature and validity were checked."""
        if self.require_green and claims.colour is not CodeColour.GREEN:
            return False
        if _RISK_ORDER[claims.trip_risk] > _RISK_ORDER[self.max_trip_risk]:
            return False
        if claims.doses < self.min_doses:
            return False
        if (
            self.max_validity_min is not None
            and claims.expires_at - claims.issued_at > self.max_validity_min * 60
        ):
            return False
        if self.max_test_age_h is not None:
            if claims.test_at is None or claims.test_result is not TestResult.NEGATIVE:
                return False
            if now.timestamp() - claims.test_at > self.max_test_age_h * 3600:
                return False
        return True
