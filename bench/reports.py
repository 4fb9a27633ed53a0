"""Self-report throughput and latency on SQLite and PostgreSQL, against a generated ledger.

Loads a ledger of N residents (default 20k; the issue's target is 800k) and the sample risk
list, then drives the report desk (field checks + the one-transaction submit: merge, ledger
match, risk, follow-up task, high-risk alert; the SMS log driver) without HTTP:
back-to-back for submissions per second, then open-loop at 50 and 200 submissions/s
(4 threads, latency measured from each submission's scheduled time, so queueing counts).
Half the reporters are residents, half visitors; one in ten repeats an earlier report.
PostgreSQL runs when GRIDGATE_TEST_POSTGRES_URL (or --postgres-url) names a server.

    python bench/reports.py [--residents 20000] [--seconds 5] [--postgres-url ...]
"""

from __future__ import annotations

import argparse
import os
import random
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


@dataclass
class Result:
    backend: str
    residents: int
    load_s: float = 0.0
    per_s: float | None = None
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


def run_one(backend: str, db_url: str, args: argparse.Namespace, console: Console) -> Result:
    result = Result(backend, args.residents)
    store = Store.open(db_url)
    try:
        sample = generate(args.residents, args.seed)
        started = time.perf_counter()
        load(store, sample, KEY)
        result.load_s = time.perf_counter() - started
        console.print(f"{backend}: ledger of {args.residents:,} loaded in {result.load_s:.1f} s")
        regions = risk_list()
        with store.transaction() as session:
            import_risk_list(session, regions)
        codes = sorted({r.region_code for r in regions})
        desk = ReportDesk(store, CountingSender(), ZONE, HolderHasher(KEY))
        scope = ReportScope(None, utc_now() + timedelta(days=1))
        inputs = reports(sample, args.count + 250 * args.seconds, args.seed, codes)

        def submit(raw: ReportInput) -> None:
            desk.submit(checked(desk, raw, set(codes)), scope, utc_now())

        started = time.perf_counter()
        for raw in inputs[: args.count]:
            submit(raw)
        result.per_s = args.count / (time.perf_counter() - started)
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
        return result
    finally:
        store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--residents", type=int, default=20_000, help="ledger size (800000: full)")
    parser.add_argument("--count", type=int, default=1000, help="back-to-back submissions")
    parser.add_argument("--seconds", type=int, default=5, help="seconds per paced rate")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--postgres-url", default=None, help=f"default: ${postgres.ENV_VAR}")
    parser.add_argument("--no-postgres", action="store_true", help="SQLite only")
    args = parser.parse_args()
    if args.postgres_url:
        os.environ[postgres.ENV_VAR] = args.postgres_url
    console = Console(width=120)
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="gridgate-bench-reports-") as tmp:
        results.append(run_one("sqlite", f"sqlite:///{Path(tmp) / 'hub.db'}", args, console))
        if not args.no_postgres:
            try:
                server = postgres.admin_url()
            except postgres.PostgresUnavailableError as exc:
                results.append(Result("postgresql", args.residents, note=f"skipped: {exc}"))
            else:
                with postgres.temporary_database(server, "gridgate_bench_reports") as url:
                    db_url = url.render_as_string(hide_password=False)
                    results.append(run_one("postgresql", db_url, args, console))
    table = Table(title=f"self-reports, desk path, {os.cpu_count()} cores, {THREADS} threads")
    columns = ("backend", "residents", "ledger load s", "reports/s", "50/s p50/p99 ms")
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
            cell(r, 50),
            cell(r, 200),
            r.note,
        )
    console.print(table)


if __name__ == "__main__":
    main()
