"""``gridgate-hub tasks``: generate the day's check lists and write the daily close-out."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from typing import Annotated
from zoneinfo import ZoneInfo

import typer
from rich.table import Table

from hub.cli_store import DatabaseUrl, DataDir, console, fail, open_store
from hub.tasks.generate import generate_tasks
from hub.tasks.report import close_out, to_csv, to_xlsx
from models.base import utc_now

app = typer.Typer(help="Daily check tasks and the close-out report.", no_args_is_help=True)

Day = Annotated[
    datetime | None,
    typer.Option("--day", formats=["%Y-%m-%d"], help="The day (default: today in --zone)."),
]
Zone = Annotated[str, typer.Option("--zone", help="IANA time zone of the sites.")]


def _day(day: datetime | None, zone: str) -> tuple[date, ZoneInfo]:
    try:
        tz = ZoneInfo(zone)
    except (ValueError, KeyError):
        fail(f"unknown time zone {zone!r}")
    return (day.date() if day else utc_now().astimezone(tz).date()), tz


@app.command("generate")
def generate(
    day: Day = None,
    zone: Zone = "Asia/Shanghai",
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Generate the day's tasks from the ledger (again: only what is new)."""
    target, _tz = _day(day, zone)
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            added = generate_tasks(session, target, utc_now())
    finally:
        store.close()
    table = Table("kind", "added", title=f"tasks for {target}")
    for kind, count in sorted(added.items()):
        table.add_row(kind, str(count))
    console.print(table)


@app.command("report")
def report(
    out: Annotated[Path, typer.Option("--out", help="A .csv or .xlsx file to write.")],
    day: Day = None,
    zone: Zone = "Asia/Shanghai",
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Write the daily close-out per grid and site as CSV or XLSX."""
    if out.suffix.lower() not in (".csv", ".xlsx"):
        fail(f"{out}: the file name must end in .csv or .xlsx")
    target, tz = _day(day, zone)
    store = open_store(database_url, data_dir)
    try:
        with store.sessions() as session:
            rows = close_out(session, target, tz)
    finally:
        store.close()
    if out.suffix.lower() == ".csv":
        out.write_bytes(to_csv(rows).encode("utf-8-sig"))
    else:
        out.write_bytes(to_xlsx(rows))
    grids = sum(1 for row in rows if row.site_id is None)
    console.print(f"close-out of {target}: {grids} grid(s), {len(rows) - grids} site(s) → {out}")
