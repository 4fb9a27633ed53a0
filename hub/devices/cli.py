"""``gridgate-hub devices``: provision edge devices (credentials and a config bundle), list
and revoke them; each change rewrites the broker files and reloads the broker.

Exit codes: 0 done, 2 invalid input or no broker profile yet, 3 the id is taken or already
revoked, 4 no such device, 5 a pushed config was refused by the device or not applied within
``--wait``, 6 the broker did not take the push.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from hub.cli_store import DatabaseUrl, DataDir, console
from hub.config import HubSettings, StoreSettings
from hub.devices.broker_files import Reload
from hub.devices.bundle import DEFAULT_INSTALL_DIR, BundleError
from hub.devices.fleet import lagging
from hub.devices.pki import PkiError
from hub.devices.profile import HubPaths, ProfileError
from hub.devices.provision import provision_device, revoke
from hub.devices.registry import (
    DeviceError,
    DeviceKind,
    DuplicateDeviceError,
    UnknownDeviceError,
    list_devices,
)
from hub.faces.vault import FaceVault
from hub.mqtt import PublishError, hub_publisher
from hub.store.db import Store
from models.base import utc_now

app = typer.Typer(help="Edge devices and their broker credentials.", no_args_is_help=True)

EXIT_INVALID, EXIT_CONFLICT, EXIT_UNKNOWN, EXIT_NOT_APPLIED, EXIT_BROKER = 2, 3, 4, 5, 6


def fail(message: str, code: int = EXIT_INVALID) -> NoReturn:
    """Print ``message`` as an error and exit with ``code``."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code)


def open_hub(database_url: str | None, data_dir: Path | None) -> tuple[Store, HubPaths]:
    """The migrated store and the hub's data paths the options (or ``GRIDGATE_HUB_*``) name."""
    given: dict[str, Any] = {"database_url": database_url, "data_dir": data_dir}
    try:
        settings = StoreSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        fail(f"invalid settings: {exc}")
    return Store.open(settings.database_url), HubPaths(settings.data_dir)


def report_reload(reload: Reload) -> None:
    """Tell the operator whether the broker picked the change up."""
    colour = "green" if reload.signalled else "yellow"
    console.print(f"[{colour}]broker:[/{colour}] {reload.detail}")


@app.command("add")
def add(
    device_id: Annotated[str, typer.Argument(help="Device id, e.g. gate-01 (the broker user).")],
    site: Annotated[str, typer.Option("--site", help="Site id the device belongs to.")],
    kind: Annotated[DeviceKind, typer.Option("--kind", help="gate, checkpoint or kiosk.")] = (
        DeviceKind.GATE
    ),
    cert: Annotated[
        bool, typer.Option("--cert", help="A client certificate instead of a password.")
    ] = False,
    out: Annotated[
        Path | None,
        typer.Option("--out", help="Bundle directory (new or empty); default ./<device>-bundle."),
    ] = None,
    install_dir: Annotated[
        Path,
        typer.Option("--install-dir", help="Where the bundle will live on the device."),
    ] = DEFAULT_INSTALL_DIR,
    hub_public_key: Annotated[
        Path | None,
        typer.Option("--hub-public-key", help="The hub's trust-list key (<kid>.pub.pem)."),
    ] = None,
    hub_url: Annotated[
        str | None,
        typer.Option("--hub-url", help="Hub API URL the edge fetches its gallery from."),
    ] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Create a device's credential and its edge config bundle, then update the broker."""
    store, paths = open_hub(database_url, data_dir)
    try:
        done = provision_device(
            store,
            paths,
            device_id=device_id,
            site_id=site,
            kind=kind,
            method_name="certificate" if cert else "password",
            out=out or Path(f"{device_id}-bundle"),
            now=utc_now(),
            install_dir=install_dir,
            hub_public_key=hub_public_key,
            hub_url=hub_url,
        )
    except DuplicateDeviceError as exc:
        fail(str(exc), EXIT_CONFLICT)
    except (DeviceError, BundleError, ProfileError, PkiError) as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(
        f"added {kind} {device_id} (site {site}, {done.device.method}); "
        f"bundle {done.edge_config.parent}"
    )
    report_reload(done.broker.reload)


@app.command("revoke")
def revoke_command(
    device_id: Annotated[str, typer.Argument(help="The device to take off the broker.")],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Revoke a device: its password or certificate is refused from the next broker reload."""
    store, paths = open_hub(database_url, data_dir)
    try:
        done = revoke(store, paths, device_id, utc_now())
    except UnknownDeviceError as exc:
        fail(str(exc), EXIT_UNKNOWN)
    except DeviceError as exc:
        fail(str(exc), EXIT_CONFLICT)
    except (ProfileError, PkiError) as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(f"revoked {device_id}")
    if done.broker is None:
        console.print("[yellow]broker:[/yellow] no broker profile yet: nothing to rewrite")
    else:
        report_reload(done.broker.reload)


@app.command("push-config")
def push_config(
    device_id: Annotated[str, typer.Argument(help="The device the config is for.")],
    file: Annotated[Path, typer.Option("--file", help="The edge config (edge.yaml) to push.")],
    wait: Annotated[
        float,
        typer.Option("--wait", min=0, help="Seconds to wait for the device to report it."),
    ] = 0,
    issued_by: Annotated[str, typer.Option("--by", help="Who pushes (kept in the push).")] = (
        "gridgate-hub"
    ),
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Validate an edge config, record its digest for the device and send it (retained); the
    device applies it on (re)connect and reports the digest as its config version."""
    from edge.config import ConfigError  # the edge's schema (imports OpenCV): only here
    from hub.devices.config_push import ConfigPushError, prepare_push, send_push, wait_for_outcome

    given: dict[str, Any] = {"database_url": database_url, "data_dir": data_dir}
    try:
        settings = HubSettings(**{k: v for k, v in given.items() if v is not None})
        document = file.read_bytes()
    except (ValidationError, ValueError) as exc:
        fail(f"invalid settings: {exc}")
    except OSError as exc:
        fail(f"cannot read {file}: {exc.strerror}")
    store = Store.open(settings.database_url)
    publisher = hub_publisher(settings, "config")
    try:
        with store.transaction() as session:  # committed only once the broker took it
            topic, push = prepare_push(
                session, device_id, document, str(file), utc_now(), issued_by[:64]
            )
            publisher.connect()
            send_push(publisher, topic, push)
    except UnknownDeviceError as exc:
        fail(str(exc), EXIT_UNKNOWN)
    except DeviceError as exc:
        fail(str(exc), EXIT_CONFLICT)
    except (ConfigError, ConfigPushError) as exc:
        fail(f"not pushed: {exc}")
    except PublishError as exc:
        fail(f"not pushed: {exc}", EXIT_BROKER)
    finally:
        publisher.close()
        store.close()
    site_id = topic.split("/")[3]
    console.print(f"pushed config {push.digest} to {device_id} (site {site_id})")
    if wait <= 0:
        return
    outcome = wait_for_outcome(settings, site_id, device_id, push.digest, wait)
    if outcome is None:
        fail(f"{device_id} did not report config {push.digest} within {wait:g} s", EXIT_NOT_APPLIED)
    if not outcome.applied:
        fail(f"{device_id} refused it: {outcome.detail}", EXIT_NOT_APPLIED)
    console.print(f"[green]applied:[/green] {outcome.detail}")


@app.command("list")
def list_command(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """The devices, their credential method and state."""
    store, _ = open_hub(database_url, data_dir)
    try:
        with store.transaction() as session:
            devices = list_devices(session)
    finally:
        store.close()
    table = Table("device", "site", "kind", "credential", "created", "revoked", title="devices")
    for device in devices:
        credential = device.method
        if device.cert_fingerprint:
            credential += f" sha256:{device.cert_fingerprint[:16]}…"
        table.add_row(
            device.device_id,
            device.site_id,
            device.kind,
            credential,
            f"{device.created_at:%Y-%m-%d %H:%M}",
            f"{device.revoked_at:%Y-%m-%d %H:%M}" if device.revoked_at else "",
        )
    Console(width=120).print(table)


@app.command("lagging")
def lagging_command(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Devices whose applied config, gallery or trust list is behind (from their last status)."""
    given: dict[str, Any] = {"database_url": database_url, "data_dir": data_dir}
    try:
        settings = HubSettings(**{k: v for k, v in given.items() if v is not None})
    except (ValidationError, ValueError) as exc:
        fail(f"invalid settings (the face key derives from GRIDGATE_HUB_SECRET_KEY): {exc}")
    store = Store.open(settings.database_url)
    try:
        with store.sessions() as session:
            lags = lagging(session, FaceVault.for_hub(settings))
    finally:
        store.close()
    if not lags:
        console.print("every reporting device has the expected config, gallery and trust list")
        return
    table = Table("device", "site", "component", "has", "expected", "online", title="lagging")
    for lag in lags:
        table.add_row(
            lag.device_id,
            lag.site_id,
            lag.component,
            _short(lag.has),
            _short(lag.expected),
            "yes" if lag.online else "no",
        )
    Console(width=120).print(table)


def _short(version: str | None) -> str:
    # config digests (16, or 24 with "-restart") in full; gallery digests shortened
    return "-" if version is None else (version[:12] + "…" if len(version) > 24 else version)
