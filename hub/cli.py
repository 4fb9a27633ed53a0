"""``gridgate-hub``: run the hub, an extra ingest worker, or database migrations."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated, Any

import typer
from pydantic import ValidationError
from rich.console import Console

from hub.auth.cli import app as users_app
from hub.codes.cli import app as codes_app
from hub.config import HubSettings, StoreSettings
from hub.devices.broker_cli import app as broker_app
from hub.devices.cli import app as devices_app
from hub.faces.cli import app as residents_app
from hub.ledger.cli import app as ledger_app
from hub.plates.cli import plates_command
from hub.reports.cli import app as risk_app
from hub.reports.cli import reports_app
from hub.tasks.cli import app as tasks_app
from models.signals import stop_on_signals

app = typer.Typer(help="gridgate hub service.", no_args_is_help=True)
db_app = typer.Typer(help="Database schema.", no_args_is_help=True)
app.add_typer(db_app, name="db")
app.add_typer(ledger_app, name="ledger")
app.add_typer(codes_app, name="codes")
codes_app.command("plates")(plates_command)
app.add_typer(devices_app, name="devices")
app.add_typer(broker_app, name="broker")
app.add_typer(residents_app, name="residents")
app.add_typer(users_app, name="users")
app.add_typer(tasks_app, name="tasks")
app.add_typer(risk_app, name="risk")
app.add_typer(reports_app, name="reports")
console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Overrides GRIDGATE_HUB_DATABASE_URL.")
]
DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Overrides GRIDGATE_HUB_DATA_DIR.")
]
MqttHost = Annotated[
    str | None, typer.Option("--mqtt-host", help="Overrides GRIDGATE_HUB_MQTT_HOST.")
]
MqttPort = Annotated[
    int | None, typer.Option("--mqtt-port", help="Overrides GRIDGATE_HUB_MQTT_PORT.")
]
ClientId = Annotated[
    str | None,
    typer.Option("--client-id", help="MQTT client id; give each extra worker its own."),
]
LogLevel = Annotated[str, typer.Option("--log-level", help="DEBUG, INFO, WARNING, ...")]


def _setup_logging(level: str) -> None:
    logging.basicConfig(
        level=level.upper(), format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )


def _settings(cls: type[StoreSettings], **overrides: Any) -> Any:
    given = {key: value for key, value in overrides.items() if value is not None}
    try:
        return cls(**given)
    except ValidationError as exc:
        console.print(f"[red]invalid settings:[/red] {exc}")
        raise typer.Exit(2) from None


@app.command()
def run(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    mqtt_host: MqttHost = None,
    mqtt_port: MqttPort = None,
    client_id: ClientId = None,
    api_host: Annotated[str | None, typer.Option("--api-host")] = None,
    api_port: Annotated[int | None, typer.Option("--api-port")] = None,
    log_level: LogLevel = "INFO",
) -> None:
    """Ingest and the HTTP API in one process."""
    from hub.app import Hub

    _setup_logging(log_level)
    settings: HubSettings = _settings(
        HubSettings,
        database_url=database_url,
        data_dir=data_dir,
        mqtt_host=mqtt_host,
        mqtt_port=mqtt_port,
        mqtt_client_id=client_id,
        api_host=api_host,
        api_port=api_port,
    )
    Hub(settings).serve()


@app.command()
def ingest(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    mqtt_host: MqttHost = None,
    mqtt_port: MqttPort = None,
    client_id: ClientId = None,
    log_level: LogLevel = "INFO",
    store_only: Annotated[
        bool, typer.Option("--store-only", help="Store events without matching or alerts.")
    ] = False,
) -> None:
    """Ingest only, no HTTP: an extra worker sharing the event load."""
    from hub.app import Hub
    from hub.ingest.effects import NoEffects

    _setup_logging(log_level)
    settings: HubSettings = _settings(
        HubSettings,
        database_url=database_url,
        data_dir=data_dir,
        mqtt_host=mqtt_host,
        mqtt_port=mqtt_port,
        mqtt_client_id=client_id,
    )
    stop = stop_on_signals()
    effects = NoEffects() if store_only else None
    Hub(settings, with_api=False, effects=effects).run_ingest(stop)


@db_app.command("upgrade")
def db_upgrade(
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
    revision: Annotated[str, typer.Option(help="Target revision.")] = "head",
) -> None:
    """Apply the migrations up to ``revision`` (the newest by default); at the newest, also
    put back foreign keys that an interrupted first ledger import left lifted."""
    from hub.store.db import create_db_engine
    from hub.store.foreign_keys import restore_foreign_keys
    from hub.store.migrate import current_revision, upgrade

    settings: StoreSettings = _settings(StoreSettings, database_url=database_url, data_dir=data_dir)
    engine = create_db_engine(settings.database_url)
    try:
        upgrade(engine, revision)
        console.print(f"database at revision {current_revision(engine)}")
        if revision == "head":
            restored = restore_foreign_keys(engine)
            for name in restored.names:
                console.print(f"restored foreign key {name}")
            for name in restored.invalid:
                console.print(f"[yellow]warning:[/] stored rows break foreign key {name}")
    finally:
        engine.dispose()


@db_app.command("revision")
def db_revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What the revision does.")],
    autogenerate: Annotated[
        bool, typer.Option(help="Diff hub.store.tables against the (upgraded) database.")
    ] = True,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Write a new migration into hub/store/migrations/versions (for developers)."""
    from hub.store.migrate import revision

    settings: StoreSettings = _settings(StoreSettings, database_url=database_url, data_dir=data_dir)
    revision(settings.database_url, message, autogenerate=autogenerate)


@db_app.command("current")
def db_current(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Print the database's revision and the newest this build ships."""
    from hub.store.db import create_db_engine
    from hub.store.migrate import current_revision, head_revision

    settings: StoreSettings = _settings(StoreSettings, database_url=database_url, data_dir=data_dir)
    engine = create_db_engine(settings.database_url)
    try:
        console.print(f"current {current_revision(engine)}, head {head_revision()}")
    finally:
        engine.dispose()


if __name__ == "__main__":
    app()
