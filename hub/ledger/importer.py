"""Import a ledger file (CSV or XLSX) into the store: validate, report, upsert in batches.

Good rows land, bad rows are reported (row number, column, value, reason) and skipped.
Rerunning a file changes nothing. ID numbers are hashed before storage and masked in the
error report.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import select, text

from hub.ledger.checks import RowError
from hub.ledger.front import Source, gc_paused, steps
from hub.ledger.kinds import LedgerKind
from hub.ledger.loaders import Batch, Loader, Problem, make_loader
from hub.ledger.mapping import ImportOptions, resolve_columns
from hub.ledger.reader import XlsxReader, open_table
from hub.ledger.repository import UpsertCounts, Values
from hub.ledger.rowparse import ParseSpec
from hub.ledger.writer import BatchWriter
from hub.store.db import Store
from hub.store.foreign_keys import lifted_foreign_keys

Progress = Callable[[int, int | None], None]
"""Called after each batch with how far reading got and the total (bytes or rows)."""

SQLITE_CACHE_KIB = 128 * 1024
"""Page cache of the importing SQLite connection: the residents' indexes stay in memory."""

PARALLEL_FROM_BYTES = 8 << 20
"""Files from this size are read in worker processes (unless ``workers`` says otherwise)."""

MAX_AUTO_WORKERS = 4

ERROR_HEADER = ("row", "column", "value", "reason")


@dataclass
class ImportReport:
    """What an import read, wrote and refused."""

    kind: LedgerKind
    path: Path
    encoding: str | None = None
    rows: int = 0
    counts: UpsertCounts = field(default_factory=UpsertCounts)
    related: dict[str, UpsertCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    ignored_columns: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def failed_rows(self) -> int:
        """Rows refused (a row may have several errors)."""
        return len({error.row for error in self.errors})


def write_errors(errors: list[RowError], path: Path) -> None:
    """The error report as CSV (UTF-8 with BOM, so spreadsheet programs read the Chinese)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(ERROR_HEADER)
        for error in sorted(errors, key=lambda e: e.row):
            writer.writerow((error.row, error.column, error.value, error.reason))


class _Writer:
    """The writing half of an import: batches into the store, counts and problems kept."""

    def __init__(self, store: Store, loader: Loader, report: ImportReport) -> None:
        self.store = store
        self.loader = loader
        self.report = report
        self.problems: list[Problem] = []

    def flush(self, batch: Batch) -> None:
        """Write one batch in one transaction (on the writer thread)."""
        report = self.report
        with self.store.transaction() as session:
            if session.get_bind().dialect.name == "sqlite":
                session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}"))
            flushed = self.loader.flush(session, batch)
        report.counts += flushed.counts
        for name, counts in flushed.related.items():
            report.related.setdefault(name, UpsertCounts())
            report.related[name] += counts
        self.problems.extend(flushed.problems)


def _workers(options: ImportOptions, path: Path) -> int:
    """Parser processes: one (reading too) on 2-3 CPUs, more from 4, none for small files."""
    if options.workers is not None:
        return options.workers
    cpus = os.cpu_count() or 1
    if path.stat().st_size < PARALLEL_FROM_BYTES or cpus < 2:
        return 0
    if cpus < 4:
        return 1
    return min(cpus - 2, MAX_AUTO_WORKERS)  # the importing process needs a core to write


def _first_import(store: Store, loader: Loader) -> bool:
    """Whether the loader's first bulk table is empty: a first import."""
    if not loader.bulk_tables:
        return False
    with store.transaction() as session:
        return session.execute(select(loader.bulk_tables[0]).limit(1)).first() is None


def import_file(
    store: Store,
    kind: LedgerKind | str,
    path: Path,
    *,
    identity_key: bytes | None = None,
    options: ImportOptions | None = None,
    errors_path: Path | None = None,
    progress: Progress | None = None,
) -> ImportReport:
    """Import ``path`` as ``kind``; residents need ``identity_key`` (the site's key bytes).

    Raises :class:`hub.ledger.mapping.MappingError` or :class:`hub.ledger.reader.ReadError`
    when the file as a whole does not fit; row problems go to the report (and to
    ``errors_path`` as CSV when given, written even when empty).
    """
    kind = LedgerKind(kind)
    options = options or ImportOptions()
    started = time.perf_counter()
    reader = open_table(
        path, encoding=options.encoding, delimiter=options.delimiter, sheet=options.sheet
    )
    report = ImportReport(kind, path, encoding=reader.encoding)
    try:
        columns, report.ignored_columns = resolve_columns(kind, reader.header, options.mapping)
        spec = ParseSpec(
            kind=kind,
            columns=tuple(columns),
            width=len(reader.header),
            strict_width=not isinstance(reader, XlsxReader),
            encoding=reader.encoding,
            utc_offset_hours=options.utc_offset_hours,
            identity_key=identity_key,
        )
        headers = {f: h for f, h in zip(columns, reader.header, strict=False) if f}
        source = Source(path, options, spec, headers)
        checks = source.checks()
        loader = make_loader(kind, spec.present, identity_key)
        loader.first_import = _first_import(store, loader)
        out = _Writer(store, loader, report)
        with (
            lifted_foreign_keys(
                store.engine, loader.bulk_tables if loader.first_import else ()
            ) as lifted,
            gc_paused(),
            closing(steps(source, reader, _workers(options, path))) as checked,
            BatchWriter(out.flush) as writer,
        ):
            pending: list[tuple[int, Values]] = []
            size = min(source.chunk_rows, options.batch_size)
            for step in checked:
                pending.extend(step.batch)
                if len(pending) >= size:
                    writer.submit(pending)
                    pending = []
                    size = min(2 * size, options.batch_size)
                checks.errors.extend(step.errors)
                report.rows = step.rows
                if progress:
                    progress(step.position, reader.total)
            writer.submit(pending)
        report.warnings.extend(  # lifted.invalid is known once the block has ended
            f"foreign key {name} is not met by rows stored during the import"
            for name in lifted.invalid
        )
        if progress:
            progress(reader.total or reader.position(), reader.total)
    finally:
        reader.close()
    for problem in out.problems:
        checks.error(problem)
    report.errors = sorted(checks.errors, key=lambda e: e.row)
    if errors_path is not None:
        write_errors(report.errors, errors_path)
    report.seconds = time.perf_counter() - started
    return report
