"""``gridgate-hub risk``: import (and re-import) the region risk list, show it;
``gridgate-hub reports purge``: delete reports past the retention."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from hub.cli_store import DatabaseUrl, DataDir, console, fail, open_store
from hub.reports.retention import purge_reports
from hub.reports.risk import RiskListError, import_risk_list, read_risk_file, regions_for
from models.base import utc_now

app = typer.Typer(help="The region risk list of self-reports.", no_args_is_help=True)
reports_app = typer.Typer(help="Self-reports kept by the hub.", no_args_is_help=True)


@app.command("import")
def import_list(
    file: Annotated[Path, typer.Argument(help="CSV: region_code,name,level,valid_from,valid_to.")],
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Replace the stored risk list with FILE (run again to reload)."""
    try:
        regions = read_risk_file(file)
    except (OSError, UnicodeDecodeError, RiskListError) as exc:
        fail(f"{file}: {exc}")
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            count = import_risk_list(session, regions)
    finally:
        store.close()
    console.print(f"imported {count} regions from {file}")


@app.command("list")
def list_regions(
    day: Annotated[
        datetime | None, typer.Option("--day", formats=["%Y-%m-%d"], help="Default: today.")
    ] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """The regions a reporter picks from on a day."""
    store = open_store(database_url, data_dir)
    try:
        with store.sessions() as session:
            regions = regions_for(session, day.date() if day else utc_now().date())
    finally:
        store.close()
    table = Table("code", "name", "level", "from", "to")
    for r in regions:
        table.add_row(r.region_code, r.name, str(r.level), str(r.valid_from), str(r.valid_to))
    console.print(table)


@reports_app.command("purge")
def purge(
    older_than_days: Annotated[
        int,
        typer.Option(
            "--older-than-days",
            min=1,
            envvar="GRIDGATE_HUB_REPORT_RETENTION_DAYS",
            help="Delete reports not updated for this many days.",
        ),
    ] = 30,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Count what would go; delete nothing.")
    ] = False,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Delete old reports, their follow-up tasks and the alerts only they raised (audited)."""
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            result = purge_reports(
                session, utc_now(), older_than_days, actor="cli", dry_run=dry_run
            )
    finally:
        store.close()
    verb = "would delete" if dry_run else "deleted"
    console.print(
        f"{verb} {result.reports} reports last updated before {result.older_than:%Y-%m-%d %H:%M}"
        f" UTC, {result.tasks} follow-up tasks, {result.alerts} alerts",
        soft_wrap=True,
    )
