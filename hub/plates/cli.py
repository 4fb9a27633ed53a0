"""``gridgate-hub codes plates``: printable QR door plates for the ledger's standard addresses."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.progress import track
from sqlalchemy import select

from hub.cli_store import DatabaseUrl, DataDir, console, fail, open_store
from hub.ledger.address_search import address_text
from hub.plates.render import Plate, render_plate, render_sheets
from hub.store.ledger_tables import AddressRow
from models.base import utc_now

MAX_PLATES = 5000


def plates_command(
    base_url: Annotated[
        str, typer.Option("--base-url", help="The hub's public URL, e.g. https://hub.example.cn")
    ],
    out: Annotated[Path, typer.Option("--out", help="Directory for the PNGs and plates.pdf.")],
    grid: Annotated[str | None, typer.Option("--grid", help="Only this grid.")] = None,
    street: Annotated[str | None, typer.Option("--street", help="Only this street.")] = None,
    building: Annotated[str | None, typer.Option("--building", help="Only this building.")] = None,
    database_url: DatabaseUrl = None,
    data_dir: DataDir = None,
) -> None:
    """Write one PNG per address and an A4 PDF sheet (4 per page, cut marks)."""
    if not base_url.startswith(("https://", "http://")):
        fail(f"--base-url {base_url!r}: an http(s) URL the phones can open")
    if grid is None and street is None:
        fail("choose the plates: --grid and/or --street (optionally --building)")
    stmt = select(AddressRow).order_by(
        AddressRow.street, AddressRow.number, AddressRow.address_code
    )
    if grid is not None:
        stmt = stmt.where(AddressRow.grid_id == grid)
    if street is not None:
        stmt = stmt.where(AddressRow.street == street)
    if building is not None:
        stmt = stmt.where(AddressRow.building == building)
    store = open_store(database_url, data_dir)
    try:
        with store.transaction() as session:
            rows = session.scalars(stmt.limit(MAX_PLATES + 1)).all()
            if not rows:
                fail("no address matches; check the grid, street and building")
            if len(rows) > MAX_PLATES:
                fail(f"more than {MAX_PLATES} plates: narrow it down with --street or --building")
            plates = [Plate(r.address_code, address_text(r), r.grid_id) for r in rows]
            out.mkdir(parents=True, exist_ok=True)
            for plate in track(plates, description="plates", console=console):
                render_plate(plate, base_url).save(out / f"{plate.address_code}.png")
            pages = render_sheets(plates, base_url)
            pages[0].save(
                out / "plates.pdf", save_all=True, append_images=pages[1:], resolution=150.0
            )
            now = utc_now()
            for row in rows:
                row.plate_printed_at = now
    finally:
        store.close()
    console.print(
        f"{len(plates)} plates → {out}/*.png and {out / 'plates.pdf'} ({len(pages)} pages)"
    )
