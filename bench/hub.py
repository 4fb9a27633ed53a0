"""Hub ingest throughput: one ``gridgate-hub ingest`` worker, SQLite and PostgreSQL.

Each backend runs twice: storing only (the ingest baseline), and with matching, rules and
alerts. The benchmark's events are the worst case for alerts: every passage shows a new
stranger's face and a pass whose holder is not in the ledger, so each raises alerts.

Publishes N passage events through a real Mosquitto and times until the hub's EventAcks
name all of them (stored and committed). PostgreSQL runs when GRIDGATE_TEST_POSTGRES_URL
(or --postgres-url) names a reachable server; a throw-away database is used and dropped.

    python bench/hub.py [--events 5000] [--postgres-url postgresql+psycopg://...]
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import func, select  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from hub.store import DeviceRow, Store  # noqa: E402
from models import encode  # noqa: E402
from tests.hub import postgres  # noqa: E402
from tests.support.broker import MosquittoBroker  # noqa: E402
from tests.support.factories import passage_event  # noqa: E402
from tests.support.hub_publisher import HubPublisher  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"


@dataclass
class Result:
    backend: str
    events: int
    seconds: float | None
    note: str = ""


@contextlib.contextmanager
def hub_worker(broker: MosquittoBroker, db_url: str, log: Path, store_only: bool) -> Iterator[None]:
    env = {
        **os.environ,
        "GRIDGATE_HUB_DATABASE_URL": db_url,
        "GRIDGATE_HUB_MQTT_HOST": broker.host,
        "GRIDGATE_HUB_MQTT_PORT": str(broker.port),
        "GRIDGATE_HUB_MQTT_CLIENT_ID": f"bench-hub-{os.getpid()}",
        "GRIDGATE_HUB_SECRET_KEY": SECRET,
    }
    with log.open("ab") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "hub.cli", "ingest", "--log-level", "WARNING"]
            + (["--store-only"] if store_only else []),
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def _wait_subscribed(edge: HubPublisher, db_url: str, timeout: float = 60) -> None:
    """Publish a retained status and wait until the hub has stored it."""
    edge.announce("site-a", "gate-00")
    store = Store.open(db_url, migrate=False)
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with contextlib.suppress(SQLAlchemyError), store.sessions() as session:
                if session.scalar(select(func.count()).select_from(DeviceRow)):
                    return
            time.sleep(0.1)
    finally:
        store.close()
    raise TimeoutError("the hub worker did not come up")


def run_one(
    backend: str, db_url: str, broker: MosquittoBroker, n: int, work: Path, store_only: bool
) -> Result:
    events = [passage_event(device_id=f"gate-{i % 8:02d}", seq=i) for i in range(n)]
    mode = "store only" if store_only else "match + alerts"
    backend = f"{backend}, {mode}"
    with hub_worker(broker, db_url, work / f"{backend}.log", store_only):
        edge = HubPublisher(broker.host, broker.port, client_id=f"bench-edge-{backend}")
        edge.resend_after = 600.0  # measure one pass, no resends
        edge.start()
        try:
            _wait_subscribed(edge, db_url)
            started = time.perf_counter()
            for event in events:
                edge.publish(event)
            if not edge.wait_settled(300):
                return Result(backend, n, None, f"{edge.pending} never acked")
            return Result(backend, n, time.perf_counter() - started)
        finally:
            edge.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=5000, help="events per backend")
    parser.add_argument("--postgres-url", default=None, help=f"default: ${postgres.ENV_VAR}")
    args = parser.parse_args()
    if args.postgres_url:
        os.environ[postgres.ENV_VAR] = args.postgres_url
    console = Console()
    payload = len(encode(passage_event()))
    results: list[Result] = []
    with tempfile.TemporaryDirectory(prefix="gridgate-bench-") as tmp:
        work = Path(tmp)
        broker = MosquittoBroker(work / "broker")
        broker.start()
        try:
            console.print(f"SQLite: {args.events} events of {payload} bytes ...")
            for store_only in (True, False):
                db = work / f"hub-{store_only}.db"
                results.append(
                    run_one("sqlite", f"sqlite:///{db}", broker, args.events, work, store_only)
                )
            try:
                server = postgres.admin_url()
            except postgres.PostgresUnavailableError as exc:
                results.append(Result("postgresql", args.events, None, f"skipped: {exc}"))
            else:
                console.print(f"PostgreSQL: {args.events} events ...")
                for store_only in (True, False):
                    with postgres.temporary_database(server, "gridgate_bench") as url:
                        db_url = url.render_as_string(hide_password=False)
                        results.append(
                            run_one("postgresql", db_url, broker, args.events, work, store_only)
                        )
        finally:
            broker.kill()
    table = Table(title=f"hub ingest, one worker ({os.cpu_count()} cores, {payload} B/event)")
    for column in ("backend", "events", "seconds", "events/s", "note"):
        table.add_column(column, justify="left" if column in {"backend", "note"} else "right")
    for r in results:
        seconds = f"{r.seconds:.2f}" if r.seconds else "-"
        rate = f"{r.events / r.seconds:,.0f}" if r.seconds else "-"
        table.add_row(r.backend, str(r.events), seconds, rate, r.note)
    console.print(table)


if __name__ == "__main__":
    main()
