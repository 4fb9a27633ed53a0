"""``gridgate``: tools for the wire contract shared by edge and hub."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from models.schema_export import export_schemas
from models.topics import topic_map

app = typer.Typer(help="gridgate wire-contract tools.", no_args_is_help=True)
schema_app = typer.Typer(help="JSON Schema of the wire contract.", no_args_is_help=True)
app.add_typer(schema_app, name="schema")
console = Console()


@schema_app.command("export")
def schema_export(
    out: Annotated[Path, typer.Option("--out", "-o", help="Directory to write into.")] = Path(
        "schemas"
    ),
) -> None:
    """Write JSON Schema files for every wire message, plus the topic map."""
    for path in export_schemas(out):
        console.print(f"wrote {path}")


@app.command("topics")
def topics() -> None:
    """Print the MQTT topic map."""
    table = Table("direction", "payload", "qos", "retained", "topic")
    for row in topic_map():
        table.add_row(row["direction"], row["payload"], row["qos"], row["retained"], row["topic"])
    console.print(table)


if __name__ == "__main__":
    app()
