"""Options and store opening shared by the store-touching ``gridgate-hub`` commands."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, NoReturn

import typer
from pydantic import ValidationError
from rich.console import Console

from hub.config import StoreSettings

if TYPE_CHECKING:
    from hub.store.db import Store

console = Console(stderr=True)

DatabaseUrl = Annotated[
    str | None, typer.Option("--database-url", help="Overrides GRIDGATE_HUB_DATABASE_URL.")
]
DataDir = Annotated[
    Path | None, typer.Option("--data-dir", help="Overrides GRIDGATE_HUB_DATA_DIR.")
]


def fail(message: str) -> NoReturn:
    """Print ``message`` as an error and exit with status 2."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(2)


def open_store(database_url: str | None, data_dir: Path | None) -> Store:
    """The store the options (or ``GRIDGATE_HUB_*``) name, migrated."""
    from hub.store.db import Store

    given: dict[str, Any] = {"database_url": database_url, "data_dir": data_dir}
    try:
        settings = StoreSettings(**{k: v for k, v in given.items() if v is not None})
    except ValidationError as exc:
        fail(f"invalid settings: {exc}")
    return Store.open(settings.database_url)
