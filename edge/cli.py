"""``gridgate-edge``: run the agent, check its config, scan images offline, pair handhelds."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Annotated, NoReturn

import typer

from edge.capture import CaptureConfig
from edge.config import ConfigError, EdgeConfig, load_config
from models.signals import stop_on_signals, wait_until_set

app = typer.Typer(help="gridgate edge agent.", no_args_is_help=True)
checkpoint_cli = typer.Typer(help="Checkpoint vehicle mode.", no_args_is_help=True)
app.add_typer(checkpoint_cli, name="checkpoint")
LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
ConfigPath = Annotated[Path, typer.Argument(help="The agent's YAML configuration.")]


def _load(path: Path) -> EdgeConfig:
    try:
        return load_config(path)
    except ConfigError as exc:
        typer.echo(f"invalid configuration {exc.args[0].split(':')[0]}:", err=True)
        for problem in exc.problems:
            typer.echo(f"  - {problem}", err=True)
        raise typer.Exit(2) from None


@app.command("check-config")
def check_config(config: ConfigPath) -> None:
    """Validate a configuration file; print each bad field with its path."""
    loaded = _load(config)
    typer.echo(f"ok: {loaded.site_id}/{loaded.device_id}, camera {loaded.capture.source}")


@app.command()
def run(
    config: ConfigPath,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO, WARNING.")] = "INFO",
) -> None:
    """Run the agent until SIGINT or SIGTERM."""
    logging.basicConfig(level=log_level.upper(), format=LOG_FORMAT)
    from edge.app import EdgeAgent

    agent = EdgeAgent(_load(config), config_path=config)
    stop = stop_on_signals()
    agent.start()
    try:
        wait_until_set(stop)
    finally:
        agent.stop()


@app.command()
def scan(
    path: Annotated[Path, typer.Argument(help="Image, image folder or video file.")],
    config: Annotated[
        Path | None, typer.Option(help="Use this agent config's decoders and policy.")
    ] = None,
    faces: Annotated[bool, typer.Option(help="Detect and encode faces.")] = True,
    fps: Annotated[float, typer.Option(help="Frame rate to assume for folders.")] = 10.0,
) -> None:
    """Print the passage events found in PATH as JSON lines (no MQTT)."""
    from edge.app import build_pipeline
    from edge.gallery import Gallery
    from edge.scan import ScanError
    from edge.scan import scan as run_scan
    from edge.verify.trust import TrustStore

    if config is not None:
        loaded = _load(config)
        gallery = Gallery.load(loaded.path("gallery.json"))
        trust = TrustStore.load(loaded.path("trust.json"))
    else:
        capture = CaptureConfig(source=str(path))
        loaded = EdgeConfig(device_id="scan", site_id="local", capture=capture)
        gallery, trust = Gallery(), TrustStore()
    loaded.faces.enabled = faces
    pipeline = build_pipeline(loaded, gallery, trust)
    count = 0
    try:
        for event in run_scan(path, pipeline, fps):
            sys.stdout.write(event.model_dump_json() + "\n")
            count += 1
    except ScanError as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    typer.echo(
        f"{pipeline.stats.frames} frames, {count} passages, codes: {dict(pipeline.stats.codes)}",
        err=True,
    )


@checkpoint_cli.command("pairing-qr")
def pairing_qr(
    config: ConfigPath,
    address: Annotated[
        str | None,
        typer.Option(help="Where handhelds reach the page (required when host is 0.0.0.0 or ::)."),
    ] = None,
    png: Annotated[
        Path | None, typer.Option(help="Also write the link as a QR code PNG (owner-only).")
    ] = None,
) -> None:
    """Print the link a handheld opens once to use the checkpoint page (it holds the token)."""
    from edge.checkpoint.access import is_wildcard, load_access_token, pairing_url, write_pairing_qr

    settings = _load(config).checkpoint

    def refuse(message: str) -> NoReturn:
        typer.echo(f"error: {message}", err=True)
        raise typer.Exit(2)

    if settings is None:
        refuse(f"{config} has no checkpoint: section")
    if settings.access_token_file is None:
        refuse("checkpoint.access_token_file is not set: the page is on loopback, no pairing")
    if settings.port == 0:
        refuse("checkpoint.port is 0 (a free port): set the port handhelds will use")
    host = address or settings.host
    if is_wildcard(host):
        refuse(f"the page listens on {host}: give --address, the LAN address handhelds use")
    try:
        url = pairing_url(host, settings.port, load_access_token(settings.access_token_file))
    except ValueError as exc:
        refuse(str(exc))
    typer.echo(url)
    if png is not None:
        write_pairing_qr(url, png)
        typer.echo(f"QR code written to {png}", err=True)
