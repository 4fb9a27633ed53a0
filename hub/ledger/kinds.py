"""What a ledger import or export file holds (kept import-light for the CLI)."""

from __future__ import annotations

from enum import StrEnum


class LedgerKind(StrEnum):
    """The kinds of ledger file."""

    RESIDENTS = "residents"
    ADDRESSES = "addresses"
    GRIDS = "grids"
    WORKERS = "workers"
    SITES = "sites"
