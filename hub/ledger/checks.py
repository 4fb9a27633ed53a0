"""File-wide row checks (repeated keys, conflicts) and the error report's rows."""

from __future__ import annotations

from dataclasses import dataclass

from hub.ledger.idnumber import mask_id_number
from hub.ledger.loaders import Batch, Loader, Problem
from hub.ledger.repository import Values
from hub.ledger.rowparse import Parsed

SECRET_FIELDS = frozenset({"id_number"})
"""Fields whose values are masked in error reports."""


@dataclass(frozen=True)
class RowError:
    """One problem with one row of the file (``value`` masked for ID numbers)."""

    row: int
    column: str
    value: str
    reason: str


class FileChecks:
    """Parsed rows through the file-wide checks, the problems as report rows."""

    def __init__(self, headers: dict[str, str], loader: Loader) -> None:
        self.headers = headers
        self.loader = loader
        self.seen: dict[str, int] = {}
        self.errors: list[RowError] = []
        self.rows = 0

    def error(self, problem: Problem) -> None:
        """Record a problem as it goes into the report (ID numbers masked)."""
        shown = str(problem.value)
        if problem.field in SECRET_FIELDS:
            shown = mask_id_number(shown)
        column = self.headers.get(problem.field, problem.field) if problem.field else ""
        self.errors.append(RowError(problem.row, column, shown, problem.reason))

    def accept(self, parsed: list[Parsed]) -> Batch:
        """The parsed rows that pass the file-wide checks (first of a key wins)."""
        batch: list[tuple[int, Values]] = []
        loader = self.loader
        for number, values, problems in parsed:
            self.rows += 1
            for problem in problems:
                self.error(problem)
            if values is None:
                continue
            key = loader.key(values)
            first = self.seen.setdefault(key, number)
            if first != number:
                shown = values.get("id_masked", key)
                self.error(Problem(number, loader.key_field, shown, f"duplicate of row {first}"))
                continue
            conflict = loader.check(number, values)
            if conflict is not None:
                self.error(conflict)
                continue
            batch.append((number, values))
        return batch

    def take_errors(self) -> list[RowError]:
        """The errors recorded since the last call."""
        errors, self.errors = self.errors, []
        return errors
