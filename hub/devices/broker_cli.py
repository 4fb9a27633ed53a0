"""``gridgate-hub broker``: generate the locked-down Mosquitto configuration.

Exit codes: 0 done, 2 invalid options or unreadable CA files.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError

from hub.cli_store import DatabaseUrl, DataDir, console
from hub.devices.cli import fail, open_hub, report_reload
from hub.devices.pki import PkiError
from hub.devices.profile import BrokerProfile
from hub.devices.provision import configure_broker

app = typer.Typer(help="The Mosquitto broker's generated configuration.", no_args_is_help=True)


def _port(value: int) -> int | None:
    return value or None


@app.command("config")
def config(
    out: Annotated[Path, typer.Option("--out", help="Directory for the broker's files.")],
    host: Annotated[
        list[str],
        typer.Option("--host", help="Name or address devices use (repeat; first in bundles)."),
    ],
    tls_port: Annotated[int, typer.Option(help="Password devices over TLS; 0: none.")] = 8883,
    cert_port: Annotated[int, typer.Option(help="Client-certificate devices; 0: none.")] = 8884,
    hub_port: Annotated[int, typer.Option(help="Hub listener on 127.0.0.1; 0: none.")] = 1883,
    bind: Annotated[str, typer.Option(help="Address of the device listeners; '': all.")] = "",
    pid_file: Annotated[
        Path | None, typer.Option(help="mosquitto's pid file; add/revoke then send SIGHUP.")
    ] = None,
    persistence_dir: Annotated[
        Path, typer.Option(help="mosquitto's persistence directory.")
    ] = Path("/var/lib/mosquitto"),
    autosave_interval: Annotated[int, typer.Option(help="Snapshot interval in seconds.")] = 10,
    run_as_user: Annotated[
        str | None, typer.Option(help="mosquitto's `user` (when started as root).")
    ] = None,
    log_file: Annotated[Path | None, typer.Option(help="mosquitto's log file.")] = None,
    hub_user: Annotated[str, typer.Option(help="The hub's broker user name.")] = "gridgate-hub",
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Write mosquitto.conf, passwd, acl, certificates and CRL from the device registry."""
    values: dict[str, Any] = {
        "out_dir": out.resolve(),
        "hosts": host,
        "bind_address": bind,
        "tls_port": _port(tls_port),
        "cert_port": _port(cert_port),
        "hub_port": _port(hub_port),
        "hub_username": hub_user,
        "pid_file": pid_file.resolve() if pid_file else None,
        "persistence_dir": persistence_dir.resolve(),
        "autosave_interval_s": autosave_interval,
        "run_as_user": run_as_user,
        "log_file": log_file.resolve() if log_file else None,
    }
    try:
        profile = BrokerProfile(**values)
    except ValidationError as exc:
        fail(f"invalid broker options: {exc}")
    store, paths = open_hub(database_url, data_dir)
    try:
        update = configure_broker(store, paths, profile)
    except PkiError as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(f"wrote {update.files.config} and its files")
    if profile.hub_port is not None:
        console.print(
            f"hub settings: GRIDGATE_HUB_MQTT_PORT={profile.hub_port} "
            f"GRIDGATE_HUB_MQTT_USERNAME={profile.hub_username} "
            f'GRIDGATE_HUB_MQTT_PASSWORD="$(cat {paths.hub_password})"'
        )
    report_reload(update.reload)
