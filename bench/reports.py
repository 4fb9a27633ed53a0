"""Self-report throughput and latency on SQLite and PostgreSQL, against a generated ledger.

Loads a ledger of N residents (default 20k; the issue's target is 800k) and the sample risk
list, then drives the report desk (field checks + the one-transaction submit: merge, ledger
match, risk, follow-up task, high-risk alert; the SMS log driver) without HTTP:
back-to-back for submissions per second, then open-loop at 50 and 200 submissions/s
(4 threads, latency measured from each submission's scheduled time, so queueing counts).
Half the reporters are residents, half visitors; one in ten repeats an earlier report.
"CPU ms" is this process's CPU time (all threads, SQLite included) per back-to-back
submission: steadier than rates on a shared machine. PostgreSQL runs when
GRIDGATE_TEST_POSTGRES_URL (or --postgres-url) names a server.

The generated sample and the loaded ledgers are cached under $TMPDIR/gridgate-bench-cache
(an SQLite file copied per run; a PostgreSQL template database cloned per run), so only the
first run at a size pays the load (800k: minutes); --fresh rebuilds them.

    python bench/reports.py [--residents 20000] [--seconds 5] [--postgres-url ...]
    python bench/hub.py --reports --residents 800000      # the same, from the hub bench
"""

from __future__ import annotations

import argparse
import os
import pickle
import random
import shutil
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import URL  # noqa: E402

from hub.ledger.idnumber import HolderHasher  # noqa: E402
from hub.ledger.sample import Sample, generate, id_number, load, person_name, phone  # noqa: E402
from hub.push.log import LogSender  # noqa: E402
from hub.reports.desk import ReportDesk  # noqa: E402
from hub.reports.form import ReportInput, ValidReport, check_report  # noqa: E402
from hub.reports.risk import RiskRegion, import_risk_list, parse_risk_csv  # noqa: E402
from hub.reports.tokens import ReportScope  # noqa: E402
from hub.store.db import Store  # noqa: E402
from models.base import utc_now  # noqa: E402
from tests.hub import postgres  # noqa: E402

KEY = b"bench-identity-key-0123456789abcdef"
ZONE = ZoneInfo("Asia/Shanghai")
THREADS = 4
CACHE = Path(tempfile.gettempdir()) / "gridgate-bench-cache"
"""Generated samples and loaded ledgers, kept between runs (an 800k ledger takes minutes)."""


@dataclass
class Result:
    backend: str
    residents: int
    load_s: float = 0.0
    per_s: float | None = None
    cpu_ms: float | None = None
    latency: dict[int, tuple[float, float, float]] = field(default_factory=dict)
    note: str = ""


class CountingSender(LogSender):
    """The SMS log driver without keeping every message (a long run would hold them all)."""

    def deliver(self, target: str, text: str) -> None:
        self.sent[:] = [(target, text)]


def risk_list() -> list[RiskRegion]:
    today = utc_now().date()
    text = (REPO / "deploy/config/regions.sample.csv").read_text("utf-8").splitlines()
    rows = [text[0]] + [
        ",".join(
            [*line.split(",")[:3], str(today - timedelta(days=30)), str(today + timedelta(days=30))]
        )
        for line in text[1:]
    ]
    return parse_risk_csv("\n".join(rows) + "\n")


def reports(sample: Sample, count: int, seed: int, regions: list[str]) -> list[ReportInput]:
    """``count`` form inputs: residents and visitors at ledger addresses, some repeats."""
    rng = random.Random(seed)
    taken = {r["id_number"] for r in sample.residents}
    today = utc_now().astimezone(ZONE).date()
    made: list[ReportInput] = []
    for i in range(count):
        if made and rng.random() < 0.1:
            made.append(rng.choice(made))
            continue
        home = rng.choice(sample.residents)
        number = home["id_number"] if i % 2 else id_number(rng, taken)
        made.append(
            ReportInput(
                name=person_name(rng),
                id_number=number,
                phone=phone(rng),
                arrived="yes",
                arrival_date=str(today - timedelta(days=rng.randrange(7))),
                address=home["street"] + home["number"] + "号",
                address_code=home["address_code"],
                regions=tuple(rng.sample(regions, rng.choice((0, 0, 1, 2)))),
                consent=True,
            )
        )
    return made


def checked(desk: ReportDesk, raw: ReportInput, regions: set[str]) -> ValidReport:
    valid = check_report(raw, today=desk.today(utc_now()), hasher=desk.hasher, regions=regions)
    assert isinstance(valid, ValidReport), valid
    return valid


def cached_sample(residents: int, seed: int) -> Sample:
    """The generated sample, pickled under :data:`CACHE` after the first run."""
    path = CACHE / f"sample-{residents}-{seed}.pickle"
    if path.exists():
        with path.open("rb") as f:
            cached: Sample = pickle.load(f)
        return cached
    made = generate(residents, seed)
    CACHE.mkdir(exist_ok=True)
    partial = path.with_suffix(".partial")
    with partial.open("wb") as f:
        pickle.dump(made, f, protocol=pickle.HIGHEST_PROTOCOL)
    partial.replace(path)
    return made


def load_ledger(db_url: str, sample: Sample) -> float:
    """Migrate ``db_url`` and load the sample ledger into it; the seconds taken."""
    store = Store.open(db_url)
    try:
        started = time.perf_counter()
        load(store, sample, KEY)
        return time.perf_counter() - started
    finally:
        store.close()


def sqlite_copy(sample: Sample, args: argparse.Namespace, work: Path) -> tuple[str, float]:
    """A fresh copy of the cached SQLite ledger (built on first use); its URL, load seconds."""
    cached = CACHE / f"ledger-{args.residents}-{args.seed}.db"
    load_s = 0.0
    if not cached.exists() or args.fresh:
        CACHE.mkdir(exist_ok=True)
        partial = cached.with_suffix(".partial")
        partial.unlink(missing_ok=True)
        load_s = load_ledger(f"sqlite:///{partial}", sample)
        partial.replace(cached)
    copy = work / "hub.db"
    shutil.copyfile(cached, copy)
    return f"sqlite:///{copy}", load_s


def pg_template(server: URL, sample: Sample, args: argparse.Namespace) -> tuple[str, float]:
    """A PostgreSQL database holding the loaded ledger, kept as a template between runs."""
    name = f"gridgate_bench_ledger_{args.residents}_{args.seed}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            exists = "SELECT 1 FROM pg_database WHERE datname = :n"
            if args.fresh:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            if conn.execute(text(exists), {"n": name}).first():
                return name, 0.0
            partial = f"{name}_partial"
            conn.execute(text(f'DROP DATABASE IF EXISTS "{partial}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{partial}"'))
        load_s = load_ledger(server.set(database=partial).render_as_string(False), sample)
        with admin.connect() as conn:
            conn.execute(text(f'ALTER DATABASE "{partial}" RENAME TO "{name}"'))
        return name, load_s
    finally:
        admin.dispose()


def pg_copy(server: URL, template: str, run: str) -> str:
    """A fresh database ``run`` copied from ``template`` (a file copy, seconds)."""
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{run}" WITH (FORCE)'))
            conn.execute(text(f'CREATE DATABASE "{run}" TEMPLATE "{template}"'))
    finally:
        admin.dispose()
    return server.set(database=run).render_as_string(hide_password=False)


def drop_database(server: URL, name: str) -> None:
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    finally:
        admin.dispose()


def run_one(
    backend: str,
    db_url: str,
    load_s: float,
    sample: Sample,
    args: argparse.Namespace,
    console: Console,
) -> Result:
    result = Result(backend, args.residents, load_s=load_s)
    store = Store.open(db_url)
    try:
        if load_s:
            console.print(f"{backend}: ledger of {args.residents:,} loaded in {load_s:.1f} s")
        regions = risk_list()
        with store.transaction() as session:
            import_risk_list(session, regions)
        codes = sorted({r.region_code for r in regions})
        desk = ReportDesk(store, CountingSender(), ZONE, HolderHasher(KEY))
        scope = ReportScope(None, utc_now() + timedelta(days=1))
        inputs = reports(sample, args.count + 250 * args.seconds, args.seed, codes)

        def submit(raw: ReportInput) -> None:
            desk.submit(checked(desk, raw, set(codes)), scope, utc_now())

        started, cpu = time.perf_counter(), time.process_time()
        for raw in inputs[: args.count]:
            submit(raw)
        result.per_s = args.count / (time.perf_counter() - started)
        desk.messenger.wait_idle(30)  # its outcome writes are part of the cost
        result.cpu_ms = (time.process_time() - cpu) / args.count * 1000
        console.print(f"{backend}: {result.per_s:,.0f} submissions/s back to back")
        rest = iter(inputs[args.count :])
        for rate in (50, 200):
            n = rate * args.seconds
            batch = [next(rest) for _ in range(n)]
            latencies: list[float] = []
            t0 = time.perf_counter() + 0.05

            def paced(i: int, raw: ReportInput, rate: int = rate, t0: float = t0) -> float:
                due = t0 + i / rate
                time.sleep(max(0.0, due - time.perf_counter()))
                submit(raw)
                return time.perf_counter() - due

            with ThreadPoolExecutor(THREADS) as pool:
                latencies = list(pool.map(paced, range(n), batch))
            q = statistics.quantiles(latencies, n=100)
            result.latency[rate] = (q[49] * 1000, q[98] * 1000, max(latencies) * 1000)
            desk.messenger.wait_idle(30)
        desk.close()
        return result
    finally:
        store.close()


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=20_000, help="ledger size (800000: full)")
    parser.add_argument("--count", type=int, default=1000, help="back-to-back submissions")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per paced rate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=None, help=f"default: ${postgres.ENV_VAR}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    parser.add_argument("--no-sqlite", action="store_true", help="PostgreSQL only")
    parser.add_argument("--prepare-only", action="store_true", help="only build the cached ledgers")
    parser.add_argument(
        "--fresh", action="store_true", help=f"rebuild the cached ledgers under {CACHE}"
    )
    args = parser.parse_args(argv)
    if args.postgres_url:
        os.environ[postgres.ENV_VAR] = args.postgres_url
    console = Console(width=120)
    results: list[Result] = []
    sample = cached_sample(args.residents, args.seed)
    if not args.no_sqlite:
        with tempfile.TemporaryDirectory(prefix="gridgate-bench-reports-") as tmp:
            db_url, load_s = sqlite_copy(sample, args, Path(tmp))
            if not args.prepare_only:
                results.append(run_one("sqlite", db_url, load_s, sample, args, console))
    if not args.no_postgres:
        try:
            server = postgres.admin_url()
        except postgres.PostgresUnavailableError as exc:
            results.append(Result("postgresql", args.residents, note=f"skipped: {exc}"))
        else:
            template, load_s = pg_template(server, sample, args)
            if args.prepare_only:
                return
            run = f"gridgate_bench_reports_{os.getpid()}"
            try:
                db_url = pg_copy(server, template, run)
                results.append(run_one("postgresql", db_url, load_s, sample, args, console))
            finally:
                drop_database(server, run)
    table = Table(
        title=f"self-reports, desk path, {os.cpu_count()} cores, {THREADS} threads",
        caption="CPU ms: this process's CPU time per back-to-back submission",
    )
    columns = ("backend", "residents", "ledger load s", "reports/s", "CPU ms", "50/s p50/p99 ms")
    for column in (*columns, "200/s p50/p99 ms", "note"):
        table.add_column(column, justify="left" if column in {"backend", "note"} else "right")

    def cell(r: Result, rate: int) -> str:
        got = r.latency.get(rate)
        return f"{got[0]:.1f} / {got[1]:.1f}" if got else "-"

    for r in results:
        table.add_row(
            r.backend,
            f"{r.residents:,}",
            f"{r.load_s:.1f}" if r.load_s else "-",
            f"{r.per_s:,.0f}" if r.per_s else "-",
            f"{r.cpu_ms:.2f}" if r.cpu_ms else "-",
            cell(r, 50),
            cell(r, 200),
            r.note,
        )
    console.print(table)


if __name__ == "__main__":
    main()
