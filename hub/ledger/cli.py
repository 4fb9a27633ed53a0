"""``gridgate-hub ledger``: import and export the resident ledger, and count it."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.progress import (
    BarColumn,
    DownloadColumn,
    Progress,
    TaskProgressColumn,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from hub.cli_store import DatabaseUrl, DataDir, fail, open_store
from hub.config import HubSettings, InsecureSettingsError
from hub.ledger.kinds import LedgerKind

if TYPE_CHECKING:
    from hub.ledger.importer import ImportReport

app = typer.Typer(help="Resident ledger (台账): import, export, statistics.", no_args_is_help=True)
console = Console(stderr=True)

Kind = Annotated[LedgerKind, typer.Argument(help="residents, addresses, grids, workers or sites.")]


def _identity_key(key_file: Path | None) -> bytes:
    """The key file's text (as ``codes issue --identity-key`` reads it) or the hub setting."""
    if key_file is not None:
        return key_file.read_bytes().strip()
    try:
        settings = HubSettings()
    except (ValidationError, InsecureSettingsError) as exc:
        fail(f"hub settings: {exc}")
    if settings.identity_key is None:
        fail("importing residents needs GRIDGATE_HUB_IDENTITY_KEY or --identity-key FILE")
    return settings.identity_key.get_secret_value().encode()


def _summary(report: ImportReport, errors_path: Path | None) -> None:
    table = Table(title=f"{report.kind} from {report.path.name}", show_header=False)
    table.add_row("encoding", report.encoding or "xlsx")
    table.add_row("rows read", f"{report.rows:,}")
    counts = report.counts
    table.add_row(
        "inserted / updated / unchanged",
        f"{counts.inserted:,} / {counts.updated:,} / {counts.unchanged:,}",
    )
    for name, related in report.related.items():
        table.add_row(
            f"  {name}", f"{related.inserted:,} / {related.updated:,} / {related.unchanged:,}"
        )
    table.add_row("rows refused", f"{report.failed_rows:,}")
    if report.ignored_columns:
        table.add_row("ignored columns", ", ".join(report.ignored_columns))
    table.add_row("seconds", f"{report.seconds:.1f}")
    console.print(table)
    for error in report.errors[:10]:
        console.print(f"  row {error.row} {error.column}: {error.reason} ({error.value})")
    if errors_path is not None and report.errors:
        console.print(f"all {len(report.errors):,} problems in {errors_path}")
    for warning in report.warnings:
        console.print(f"[yellow]warning:[/] {warning}")


@app.command("import")
def import_(
    kind: Kind,
    file: Annotated[Path, typer.Argument(exists=True, dir_okay=False, help=".csv or .xlsx")],
    mapping: Annotated[
        Path | None,
        typer.Option(exists=True, dir_okay=False, help="YAML: column mapping and read options."),
    ] = None,
    errors: Annotated[
        Path | None,
        typer.Option(help="Error report CSV (default: FILE.errors.csv when rows are refused)."),
    ] = None,
    identity_key: Annotated[
        Path | None,
        typer.Option("--identity-key", help="File with the site's identity key (residents)."),
    ] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Import a ledger file; exits 1 when rows were refused (see the error report)."""
    from hub.ledger.importer import import_file, write_errors
    from hub.ledger.mapping import ImportOptions, MappingError
    from hub.ledger.reader import ReadError

    try:
        options = ImportOptions.from_yaml(mapping) if mapping else ImportOptions()
    except (ValidationError, ValueError) as exc:
        fail(f"{mapping}: {exc}")
    key = _identity_key(identity_key) if kind is LedgerKind.RESIDENTS else None
    store = open_store(database_url, data_dir)
    columns = [TextColumn("{task.description}"), BarColumn(), TaskProgressColumn()]
    if file.suffix.lower() not in {".xlsx", ".xlsm"}:
        columns.append(DownloadColumn())
    try:
        with Progress(*columns, TimeElapsedColumn(), console=console) as progress:
            task = progress.add_task(f"{kind} ← {file.name}", total=None)
            report = import_file(
                store,
                kind,
                file,
                identity_key=key,
                options=options,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
    except (MappingError, ReadError, ValueError) as exc:
        fail(str(exc))
    finally:
        store.close()
    errors_path = errors or (file.with_name(file.name + ".errors.csv") if report.errors else None)
    if errors_path is not None:
        write_errors(report.errors, errors_path)
    _summary(report, errors_path)
    if report.errors:
        raise typer.Exit(1)


@app.command()
def export(
    kind: Kind,
    file: Annotated[Path, typer.Argument(dir_okay=False, help=".csv or .xlsx")],
    mask_names: Annotated[bool, typer.Option(help="Write names masked (张**).")] = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Export the ledger (ID numbers only masked)."""
    from hub.ledger.exporter import export_file
    from hub.ledger.reader import ReadError

    store = open_store(database_url, data_dir)
    try:
        count = export_file(store, kind, file, mask_names=mask_names)
    except ReadError as exc:
        fail(str(exc))
    finally:
        store.close()
    console.print(f"wrote {count:,} {kind} to {file}")


@app.command()
def stats(database_url: DatabaseUrl = None, data_dir: DataDir = None) -> None:
    """Rows per ledger table."""
    from hub.ledger.repository import LedgerRepository

    store = open_store(database_url, data_dir)
    try:
        with store.sessions() as session:
            counts = LedgerRepository(session).counts()
    finally:
        store.close()
    table = Table(title="ledger")
    table.add_column("table")
    table.add_column("rows", justify="right")
    for name, count in counts.items():
        table.add_row(name, f"{count:,}")
    Console().print(table)
