"""Import a ledger file (CSV or XLSX) into the store: validate, report, upsert in batches.

Good rows land, bad rows are reported (row number, column, value, reason) and skipped.
Rerunning a file changes nothing. ID numbers are hashed before storage and masked in the
error report.
"""

from __future__ import annotations

import csv
import os
import time
from collections.abc import Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from pathlib import Path

from sqlalchemy import text

from hub.ledger.idnumber import mask_id_number
from hub.ledger.kinds import LedgerKind
from hub.ledger.loaders import Batch, Loader, Problem, make_loader
from hub.ledger.mapping import ImportOptions, resolve_columns
from hub.ledger.reader import TableReader, XlsxReader, open_table
from hub.ledger.repository import UpsertCounts, Values
from hub.ledger.rowparse import Chunk, Parsed, ParseSpec, parse_chunks
from hub.ledger.writer import BatchWriter
from hub.store.db import Store

Progress = Callable[[int, int | None], None]
"""Called after each batch with how far reading got and the total (bytes or rows)."""

SQLITE_CACHE_KIB = 128 * 1024
"""Page cache of the importing SQLite connection: the residents' indexes stay in memory."""

PARALLEL_FROM_BYTES = 8 << 20
"""Files from this size are parsed in worker processes (unless ``workers`` says otherwise)."""

MIN_AUTO_CPUS = 4
"""Below this, worker processes cost more (pickling) than they save."""

MAX_AUTO_WORKERS = 4

SECRET_FIELDS = frozenset({"id_number"})
"""Fields whose values are masked in error reports."""

ERROR_HEADER = ("row", "column", "value", "reason")


@dataclass(frozen=True)
class RowError:
    """One problem with one row of the file (``value`` masked for ID numbers)."""

    row: int
    column: str
    value: str
    reason: str


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


class _Run:
    """One import in progress: the layout, file-wide duplicate checks and the errors."""

    def __init__(self, spec: ParseSpec, headers: dict[str, str], loader: Loader) -> None:
        self.spec = spec
        self.headers = headers
        self.loader = loader
        self.seen: dict[str, int] = {}
        self.errors: list[RowError] = []
        self.problems: list[Problem] = []
        self.rows = 0

    def error(self, problem: Problem) -> None:
        """Record a problem as it goes into the report (ID numbers masked)."""
        shown = str(problem.value)
        if problem.field in SECRET_FIELDS:
            shown = mask_id_number(shown)
        column = self.headers.get(problem.field, problem.field) if problem.field else ""
        self.errors.append(RowError(problem.row, column, shown, problem.reason))

    def accept(self, parsed: list[Parsed]) -> list[tuple[int, Values]]:
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

    def flush(self, store: Store, batch: Batch, report: ImportReport) -> None:
        """Write one batch in one transaction (on the writer thread)."""
        with store.transaction() as session:
            if session.get_bind().dialect.name == "sqlite":
                session.execute(text(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}"))
            flushed = self.loader.flush(session, batch)
        report.counts += flushed.counts
        for name, counts in flushed.related.items():
            report.related.setdefault(name, UpsertCounts())
            report.related[name] += counts
        self.problems.extend(flushed.problems)

    def all_errors(self) -> list[RowError]:
        """Row errors from parsing and from writing, by row number."""
        for problem in self.problems:
            self.error(problem)
        self.problems = []
        return sorted(self.errors, key=lambda e: e.row)


def _chunks(reader: TableReader, size: int, progress: Progress | None) -> Iterator[Chunk]:
    chunk: Chunk = []
    for row in reader.rows():
        chunk.append(row)
        if len(chunk) >= size:
            yield chunk
            chunk = []
            if progress:
                progress(reader.position(), reader.total)
    if chunk:
        yield chunk


def _workers(options: ImportOptions, path: Path) -> int:
    if options.workers is not None:
        return options.workers
    cpus = os.cpu_count() or 1
    if path.stat().st_size < PARALLEL_FROM_BYTES or cpus < MIN_AUTO_CPUS:
        return 0
    return min(cpus - 2, MAX_AUTO_WORKERS)  # the importing process needs a core to write


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
        run = _Run(spec, headers, make_loader(kind, spec.present, identity_key))
        chunks = _chunks(reader, options.batch_size, progress)
        parsed_chunks = parse_chunks(spec, chunks, _workers(options, path))
        with (
            closing(parsed_chunks),
            BatchWriter(lambda batch: run.flush(store, batch, report)) as writer,
        ):
            for parsed in parsed_chunks:
                writer.submit(run.accept(parsed))
        if progress:
            progress(reader.total or reader.position(), reader.total)
    finally:
        reader.close()
    report.rows = run.rows
    report.errors = run.all_errors()
    if errors_path is not None:
        write_errors(report.errors, errors_path)
    report.seconds = time.perf_counter() - started
    return report
