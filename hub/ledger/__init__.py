"""The resident ledger (台账): tables' repository, SQL lookup for matching, import and export.

Import heavy parts from their modules: :mod:`hub.ledger.importer` (``import_file``),
:mod:`hub.ledger.exporter` (``export_file``), :mod:`hub.ledger.lookup` (``SqlLedgerLookup``),
:mod:`hub.ledger.repository` (``LedgerRepository``), :mod:`hub.ledger.sample`.
"""

from hub.ledger.kinds import LedgerKind

__all__ = ["LedgerKind"]
