"""How a foreign health certificate maps to a colour: the site's rules for EU DCC and SHC.

Only a verified certificate is mapped. Red means a positive test; green means protection
the site accepts; anything else is yellow (a human looks).
"""

from __future__ import annotations

from datetime import datetime, timedelta

from pydantic import BaseModel, ConfigDict, Field

from edge.verify.dcc_claims import (
    RAPID_TEST,
    TEST_NOT_DETECTED,
    Hcert,
    Recovery,
    TestEntry,
    Vaccination,
)
from models.events import CodeColour

CLOCK_SKEW = timedelta(minutes=5)


class DccRules(BaseModel):
    """EU DCC colours: complete vaccination, valid recovery or recent negative test is green."""

    model_config = ConfigDict(extra="forbid")

    vaccination_green: bool = Field(
        True,
        title="Complete vaccination is green",
        description="A vaccination whose dose number reaches the series (dn >= sd) is green.",
    )
    recovery_green: bool = Field(
        True,
        title="Recovery is green",
        description="A recovery statement is green between its valid-from and valid-until days.",
    )
    test_max_age_h: float = Field(
        72,
        gt=0,
        title="Longest NAAT (PCR) test age",
        description="Hours since sample collection for a negative NAAT (or other) test.",
    )
    rapid_test_max_age_h: float = Field(
        48,
        gt=0,
        title="Longest rapid test age",
        description="Hours since sample collection for a negative rapid antigen test.",
    )

    def colour(self, certificate: Hcert, now: datetime) -> CodeColour:
        """The colour of a verified certificate at ``now``."""
        entry = certificate.entry
        if isinstance(entry, Vaccination):
            green = self.vaccination_green and entry.dn >= entry.sd
        elif isinstance(entry, Recovery):
            green = self.recovery_green and entry.df <= now.date() <= entry.du
        else:
            return self._test_colour(entry, now)
        return CodeColour.GREEN if green else CodeColour.YELLOW

    def _test_colour(self, test: TestEntry, now: datetime) -> CodeColour:
        if test.detected:
            return CodeColour.RED
        limit_h = self.rapid_test_max_age_h if test.tt == RAPID_TEST else self.test_max_age_h
        age = now - test.sc
        fresh = -CLOCK_SKEW <= age <= timedelta(hours=limit_h)
        return CodeColour.GREEN if fresh and test.tr == TEST_NOT_DETECTED else CodeColour.YELLOW


class ShcRules(BaseModel):
    """SMART Health Card colours: enough completed immunizations is green."""

    model_config = ConfigDict(extra="forbid")

    min_doses: int = Field(
        2,
        ge=1,
        le=20,
        title="Doses for green",
        description="Completed Immunization entries in the card's FHIR bundle needed for green.",
    )

    def colour(self, doses: int) -> CodeColour:
        """Green with at least ``min_doses`` completed immunizations, else yellow."""
        return CodeColour.GREEN if doses >= self.min_doses else CodeColour.YELLOW
