"""Ledger import throughput: a generated district ledger as CSV, SQLite and PostgreSQL.

Generates N resident rows (Chinese names and addresses, valid ID numbers), writes them as a
UTF-8-BOM CSV with Chinese headers, and times ``import_file`` into a fresh database: the
first import, then the same file again (nothing changes). PostgreSQL runs when
GRIDGATE_TEST_POSTGRES_URL (or --postgres-url) names a reachable server. The target is
800,000 rows in at most 60 s on two cores; smaller runs are judged at the same rate.

    python bench/ledger.py [--rows 800000] [--backend sqlite postgresql] [--postgres-url ...]
                           [--workers N]

Both databases write through the file system: on a box whose disk is throttled, run with
TMPDIR and the server's data directory on tmpfs to measure the import's own work.
"""

from __future__ import annotations

import argparse
import os
import resource
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402

from bench.hub import add_database_options, backends, database_cpu_seconds, fresh_database  # noqa: E402
from hub.ledger.importer import import_file  # noqa: E402
from hub.ledger.mapping import ImportOptions  # noqa: E402
from hub.ledger.sample import Sample, generate, load, write_csv  # noqa: E402
from hub.store.db import Store  # noqa: E402
from tests.hub.postgres import ENV_VAR  # noqa: E402

KEY = b"bench-identity-key-0123456789abcdef"
TARGET_ROWS_PER_SECOND = 800_000 / 60


@dataclass
class Result:
    backend: str
    rows: int
    first: float | None = None
    again: float | None = None
    first_cpu: float | None = None
    again_cpu: float | None = None
    first_server: float | None = None
    again_server: float | None = None
    note: str = ""


def cpu_seconds() -> float:
    """CPU time of this process and its ended children (the reading process), user + system.

    On a shared box wall times vary with the neighbours' load; CPU time varies less.
    """
    own, children = (
        resource.getrusage(resource.RUSAGE_SELF),
        resource.getrusage(resource.RUSAGE_CHILDREN),
    )
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def run_one(
    backend: str,
    db_url: str,
    sample: Sample,
    csv_path: Path,
    console: Console,
    options: ImportOptions,
) -> Result:
    store = Store.open(db_url)
    try:
        load(store, Sample(sample.grids, sample.workers, sample.sites, sample.gates), KEY)
        result = Result(backend, len(sample.residents))
        console.print(f"{backend}: importing {result.rows:,} rows ...")
        cpu, server = cpu_seconds(), database_cpu_seconds()
        first = import_file(store, "residents", csv_path, identity_key=KEY, options=options)
        result.first_cpu = cpu_seconds() - cpu
        result.first_server = database_cpu_seconds() - server
        if first.errors or first.counts.inserted != result.rows:
            result.note = f"{len(first.errors)} errors, {first.counts.inserted} inserted"
        result.first = first.seconds
        console.print(f"{backend}: importing the same file again ...")
        cpu, server = cpu_seconds(), database_cpu_seconds()
        again = import_file(store, "residents", csv_path, identity_key=KEY, options=options)
        result.again_cpu = cpu_seconds() - cpu
        result.again_server = database_cpu_seconds() - server
        if again.counts.unchanged != result.rows:
            result.note += f" rerun changed {again.counts.inserted + again.counts.updated}"
        result.again = again.seconds
        return result
    finally:
        store.close()


def _verdict(result: Result) -> str:
    if not result.first or not result.again:
        return result.note
    slowest = max(result.first, result.again)
    verdict = "met" if result.rows / slowest >= TARGET_ROWS_PER_SECOND else "MISSED"
    return f"{verdict} {result.note}".strip()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--rows", type=int, default=100_000, help="resident rows (800000: full)")
    parser.add_argument("--seed", type=int, default=1)
    add_database_options(parser)
    parser.add_argument("--workers", type=int, default=None, help="parser processes (auto)")
    args = parser.parse_args()
    options = ImportOptions(workers=args.workers)
    if args.postgres_url:
        os.environ[ENV_VAR] = args.postgres_url
    console = Console(width=None if sys.stdout.isatty() else 110)  # the table fits when piped
    started = time.perf_counter()
    sample = generate(args.rows, args.seed)
    generated = time.perf_counter() - started
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="gridgate-bench-ledger-") as tmp:
        work = Path(tmp)
        csv_path = write_csv(work / "residents.csv", sample.residents)
        size = csv_path.stat().st_size
        console.print(f"generated {args.rows:,} rows in {generated:.1f} s ({size / 1e6:.0f} MB)")
        for backend, server, note in backends(args):
            if note:
                results.append(Result(backend, args.rows, note=note))
                continue
            with fresh_database(backend, server, work, "hub") as db_url:
                results.append(run_one(backend, db_url, sample, csv_path, console, options))
    load = os.getloadavg()[0]
    table = Table(
        title=f"ledger import, residents CSV ({os.cpu_count()} cores, load {load:.1f}); "
        f"target {TARGET_ROWS_PER_SECOND:,.0f} rows/s (800k in 60 s)",
        caption="cpu s: the importing and the reading process; server s: PostgreSQL's processes",
    )
    columns = (
        "backend",
        "rows",
        "import s",
        "cpu s",
        "server s",
        "rows/s",
        "rerun s",
        "cpu s",
        "server s",
        "rerun rows/s",
    )
    for column in (*columns, "target"):
        left = column in {"backend", "note"}
        table.add_column(column, justify="left" if left else "right", no_wrap=left)
    for r in results:
        table.add_row(
            r.backend,
            f"{r.rows:,}",
            f"{r.first:.1f}" if r.first else "-",
            f"{r.first_cpu:.1f}" if r.first_cpu else "-",
            f"{r.first_server:.1f}" if r.backend == "postgresql" and r.first_server else "-",
            f"{r.rows / r.first:,.0f}" if r.first else "-",
            f"{r.again:.1f}" if r.again else "-",
            f"{r.again_cpu:.1f}" if r.again_cpu else "-",
            f"{r.again_server:.1f}" if r.backend == "postgresql" and r.again_server else "-",
            f"{r.rows / r.again:,.0f}" if r.again else "-",
            _verdict(r),
        )
    console.print(table)


if __name__ == "__main__":
    main()
