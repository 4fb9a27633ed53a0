"""Hub ingest throughput: one ``gridgate-hub ingest`` worker, SQLite and PostgreSQL.

Each backend runs storing only (the ingest baseline), then with matching, rules and alerts
for each ``--alert-share``: the share of passages that raise alerts. Such a passage is the
worst case, a new stranger's face and a pass whose holder is not in the ledger (two
alerts); the others are residents of a generated district ledger whose faces are enrolled,
showing their face, their green pass and their own door plate (no alert).

Publishes N passage events through a real Mosquitto and times until the hub's EventAcks
name all of them (stored and committed). PostgreSQL runs when GRIDGATE_TEST_POSTGRES_URL
(or --postgres-url) names a reachable server; a throw-away database is used and dropped.

Timing starts ``--settle`` seconds (default 3) after the hub subscribed: steady state.

    python bench/hub.py [--events 5000] [--alert-share 1 0.05] [--settle 3] [--postgres-url ...]
    python bench/hub.py --reports [bench/reports.py options]   # self-report submissions
"""

from __future__ import annotations

import argparse
import contextlib
import os
import random
import runpy
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from rich.console import Console  # noqa: E402
from rich.table import Table  # noqa: E402
from sqlalchemy import func, make_url, select  # noqa: E402
from sqlalchemy.exc import SQLAlchemyError  # noqa: E402

from hub.faces.enroll import enroll  # noqa: E402
from hub.faces.vault import FaceVault  # noqa: E402
from hub.ledger import sample  # noqa: E402
from hub.ledger.idnumber import HolderHasher, resident_id_for  # noqa: E402
from hub.store import DeviceRow, Store  # noqa: E402
from hub.store.alert_tables import AlertAuditRow  # noqa: E402
from hub.store.tables import Base  # noqa: E402
from models import (  # noqa: E402
    CodeColour,
    Direction,
    DoorPlateObservation,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    PassageEvent,
    VerificationStatus,
    encode,
)
from models.base import new_id, utc_now  # noqa: E402
from models.observations import ENCODING_DECIMALS  # noqa: E402
from models.topics import events as events_topic  # noqa: E402
from tests.hub import postgres  # noqa: E402
from tests.support.broker import MosquittoBroker  # noqa: E402
from tests.support.factories import passage_event  # noqa: E402
from tests.support.hub_publisher import HubPublisher  # noqa: E402

SECRET = "bench-secret-key-that-is-long-enough-0123456789"
IDENTITY_KEY = b"bench-identity-key-0123456789abcdef"
DISTRICT_RESIDENTS = 2000
SITE = "site-a"


@dataclass(frozen=True)
class Visitor:
    """A resident of the district who passes without raising an alert."""

    encoding: list[float]
    holder_ref: str
    address_code: str


@dataclass
class Result:
    backend: str
    events: int
    seconds: float | None
    note: str = ""
    cpu_seconds: float | None = None
    """CPU time (user + system) the hub process spent meanwhile."""
    other_cpu: dict[str, float] | None = None
    """CPU seconds the broker, the database server and this load generator spent meanwhile."""


def cpu_seconds(pid: int) -> float | None:
    """User + system CPU time of a process so far (Linux ``/proc``; None elsewhere)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def database_cpu_seconds() -> float:
    """CPU time of every PostgreSQL server process on this machine so far (0 without one)."""
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        if stat[stat.index("(") + 1 : stat.rindex(")")] in {"postgres", "postmaster"}:
            fields = stat.rsplit(")", 1)[1].split()
            total += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return total


def other_cpu(broker_pid: int | None) -> dict[str, float]:
    """CPU seconds so far of the broker, the database servers and this process."""
    own = os.times()
    return {
        "broker": (cpu_seconds(broker_pid) or 0.0) if broker_pid else 0.0,
        "database": database_cpu_seconds(),
        "load": own.user + own.system,
    }


def district(db_url: str, residents: int = DISTRICT_RESIDENTS, seed: int = 1) -> list[Visitor]:
    """Load a generated ledger and enrol a face per resident; the ones who raise no alert."""
    generated = sample.generate(residents, seed=seed)
    store = Store.open(db_url)
    hasher = HolderHasher(IDENTITY_KEY)
    vault = FaceVault(SECRET.encode())
    rng = np.random.default_rng(seed)
    visitors = []
    try:
        sample.load(store, generated, IDENTITY_KEY)
        with store.transaction() as session:
            for row in generated.residents:
                holder = hasher(row["id_number"])
                encoding = rng.normal(0, 0.09, 128)
                enroll(session, vault, resident_id_for(holder), encoding, "bench")
                if not row["quarantine_until"] and row["key_area_returnee"] != "是":
                    visitors.append(Visitor(encoding.tolist(), holder, row["address_code"]))
    finally:
        store.close()
    return visitors


def resident_passage(visitor: Visitor, device_id: str, rng: random.Random) -> PassageEvent:
    """A registered resident with her face (seen again), green pass and own door plate."""
    now = utc_now()
    face = [round(v + rng.gauss(0, 0.01), ENCODING_DECIMALS) for v in visitor.encoding]  # as sent
    return PassageEvent(
        event_id=new_id(),
        device_id=device_id,
        site_id=SITE,
        gate_id="north",
        direction=Direction.ENTRY,
        occurred_at=now,
        observations=[
            FaceObservation(track_id=1, encoding=face, quality=0.8, seen_at=now),
            HealthCodeObservation(
                format=HealthCodeFormat.GRIDGATE,
                status=VerificationStatus.VALID,
                colour=CodeColour.GREEN,
                holder_ref=visitor.holder_ref,
                expires_at=now + timedelta(hours=24),
                seen_at=now,
            ),
            DoorPlateObservation(address_code=visitor.address_code, seen_at=now),
        ],
        decision=GateDecision(action=GateAction.OPEN, reasons=["green_code"]),
    )


def mixed_events(
    n: int, alert_share: float, visitors: list[Visitor], seed: int = 7
) -> tuple[list[PassageEvent], set[int]]:
    """``n`` passages over 8 gates; the positions of those that raise alerts."""
    rng = random.Random(seed)
    alerting = {i for i in range(n) if rng.random() < alert_share} if visitors else set(range(n))
    events = [
        passage_event(device_id=f"gate-{i % 8:02d}", site_id=SITE, seq=i)
        if i in alerting
        else resident_passage(rng.choice(visitors), f"gate-{i % 8:02d}", rng)
        for i in range(n)
    ]
    return events, alerting


@contextlib.contextmanager
def hub_worker(
    broker: MosquittoBroker, db_url: str, log: Path, store_only: bool, command: str = "ingest"
) -> Iterator[subprocess.Popen[bytes]]:
    """A hub process (``ingest``: one worker; ``run``: with the API) on ``db_url``."""
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
            [sys.executable, "-m", "hub.cli", command, "--log-level", "WARNING"]
            + (["--store-only"] if store_only else []),
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        yield proc
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()


def wait_subscribed(edge: HubPublisher, db_url: str, timeout: float = 120) -> None:
    """Publish a retained status and wait until the hub has stored it."""
    edge.announce(SITE, "gate-00")
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
    backend: str,
    db_url: str,
    broker: MosquittoBroker,
    n: int,
    work: Path,
    alert_share: float | None,
    settle_s: float = 0.0,
) -> Result:
    """One worker on a fresh database; ``alert_share`` None: store only. Timing starts
    ``settle_s`` after the hub subscribed, once its start-up rounds are done."""
    visitors = district(db_url) if alert_share is not None and alert_share < 1 else []
    events, alerting = mixed_events(n, alert_share if alert_share is not None else 1.0, visitors)
    mode = "store only" if alert_share is None else f"match + alerts, {alert_share:.0%} alert"
    backend = f"{backend}, {mode}"
    with hub_worker(broker, db_url, work / f"{backend}.log", alert_share is None) as proc:
        edge = HubPublisher(broker.host, broker.port, client_id=f"bench-edge-{os.getpid()}")
        edge.resend_after = 600.0  # measure one pass, no resends
        edge.start()
        try:
            wait_subscribed(edge, db_url)
            time.sleep(settle_s)
            messages = encoded(events)
            cpu_before = cpu_seconds(proc.pid)
            others_before = other_cpu(broker.proc.pid if broker.proc else None)
            started = time.perf_counter()
            for event_id, topic, payload in messages:
                edge.publish_encoded(event_id, topic, payload)
            if not edge.wait_settled(300):
                return Result(backend, n, None, f"{edge.pending} never acked")
            elapsed = time.perf_counter() - started
            cpu_after = cpu_seconds(proc.pid)
            others_after = other_cpu(broker.proc.pid if broker.proc else None)
        finally:
            edge.stop()
    cpu = cpu_after - cpu_before if cpu_after is not None and cpu_before is not None else None
    audited = _count(db_url, AlertAuditRow)
    expected = 0 if alert_share is None else 2 * len(alerting)
    note = "" if audited == expected else f"{audited} alert audits, expected {expected}"
    others = {name: others_after[name] - others_before[name] for name in others_before}
    return Result(backend, n, elapsed, note, cpu, others)


def _count(db_url: str, table: type[Base]) -> int:
    store = Store.open(db_url, migrate=False)
    try:
        with store.sessions() as session:
            return session.scalar(select(func.count()).select_from(table)) or 0
    finally:
        store.close()


def encoded(events: list[PassageEvent]) -> list[tuple[uuid.UUID, str, bytes]]:
    """(event id, topic, payload) of each event: encoded before timing, as the gates' own
    work, done on their own boxes."""
    return [(e.event_id, events_topic(e.site_id, e.device_id), encode(e)) for e in events]


def add_database_options(parser: argparse.ArgumentParser) -> None:
    """``--postgres-url`` and ``--backend``, read by :func:`backends`."""
    parser.add_argument("--postgres-url", default=None, help=f"default: ${postgres.ENV_VAR}")
    parser.add_argument(
        "--backend",
        choices=["sqlite", "postgresql"],
        nargs="+",
        default=["sqlite", "postgresql"],
        help="databases to run",
    )


def backends(args: argparse.Namespace) -> Iterator[tuple[str, str | None, str]]:
    """(name, PostgreSQL server URL or None, why skipped) of each backend ``args`` asks for
    (see :func:`add_database_options`)."""
    if "sqlite" in args.backend:
        yield "sqlite", None, ""
    if "postgresql" not in args.backend:
        return
    try:
        server = postgres.admin_url()
    except postgres.PostgresUnavailableError as exc:
        yield "postgresql", None, f"skipped: {exc}"
        return
    yield "postgresql", server.render_as_string(hide_password=False), ""


@contextlib.contextmanager
def fresh_database(backend: str, server: str | None, work: Path, name: str) -> Iterator[str]:
    """An empty database of ``backend``: an SQLite file, or a throw-away PostgreSQL database."""
    if backend == "sqlite":
        yield f"sqlite:///{work / name}.db"
        return
    assert server is not None
    with postgres.temporary_database(make_url(server), "gridgate_bench") as url:
        yield url.render_as_string(hide_password=False)


def main() -> None:
    if "--reports" in sys.argv[1:]:  # self-reports: bench/reports.py takes the other options
        reports = runpy.run_path(str(Path(__file__).with_name("reports.py")), run_name="reports")
        reports["main"]([a for a in sys.argv[1:] if a != "--reports"])
        return
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--events", type=int, default=5000, help="events per run")
    parser.add_argument(
        "--alert-share",
        type=float,
        nargs="+",
        default=[1.0, 0.05],
        help="shares of passages raising alerts, one match + alerts run each",
    )
    parser.add_argument(
        "--store-only",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also run the store-only baseline",
    )
    parser.add_argument(
        "--settle",
        type=float,
        default=3.0,
        help="seconds between the hub subscribing and the first event, so its start-up rounds"
        " (gallery announcement, escalation checks) are done: steady state; 0 for a cold start",
    )
    add_database_options(parser)
    parser.add_argument(
        "--reports",
        action="store_true",
        help="run the self-report bench (bench/reports.py) instead; its options follow",
    )
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
            for backend, server, note in backends(args):
                if note:
                    results.append(Result(backend, args.events, None, note))
                    continue
                console.print(f"{backend}: {args.events} events of {payload} bytes ...")
                shares = [None, *args.alert_share] if args.store_only else args.alert_share
                for run, share in enumerate(shares):
                    with fresh_database(backend, server, work, f"hub-{run}") as db_url:
                        result = run_one(
                            backend, db_url, broker, args.events, work, share, args.settle
                        )
                        results.append(result)
        finally:
            broker.kill()
    table = Table(
        title=f"hub ingest, one worker ({os.cpu_count()} cores, {payload} B/event)",
        caption="hub CPU: the worker process's CPU time (all its threads) per event; the other"
        " columns: CPU per event of the broker, the database server (PostgreSQL) and the load"
        " generator (the edge publishing and counting acks), on the same cores",
    )
    columns = ("backend", "events", "seconds", "events/s", "hub CPU ms/event")
    for column in (*columns, "broker", "database", "load", "note"):
        table.add_column(column, justify="left" if column in {"backend", "note"} else "right")
    for r in results:
        seconds = f"{r.seconds:.2f}" if r.seconds else "-"
        rate = f"{r.events / r.seconds:,.0f}" if r.seconds else "-"
        cpu = f"{r.cpu_seconds / r.events * 1e3:.2f}" if r.cpu_seconds else "-"
        others = [
            f"{r.other_cpu[name] / r.events * 1e3:.2f}" if r.other_cpu else "-"
            for name in ("broker", "database", "load")
        ]
        table.add_row(r.backend, str(r.events), seconds, rate, cpu, *others, r.note)
    console.print(table)


if __name__ == "__main__":
    main()
