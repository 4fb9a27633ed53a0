"""An in-memory LedgerLookup for rule and alert tests (the SQL one is tested with the store)."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.match.ledger import ResidentView


@dataclass
class DictLedger:
    """Residents, holder references, addresses and sites in dicts."""

    residents: dict[str, ResidentView] = field(default_factory=dict)
    holders: dict[str, str] = field(default_factory=dict)
    addresses: dict[str, str] = field(default_factory=dict)
    sites: dict[str, str] = field(default_factory=dict)

    def resident(self, resident_id: str) -> ResidentView | None:
        return self.residents.get(resident_id)

    def resident_by_holder(self, holder_ref: str) -> ResidentView | None:
        rid = self.holders.get(holder_ref)
        return self.residents.get(rid) if rid else None

    def address_grid(self, address_code: str) -> str | None:
        return self.addresses.get(address_code)

    def site_grid(self, site_id: str) -> str | None:
        return self.sites.get(site_id)
