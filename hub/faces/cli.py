"""``gridgate-hub residents``: enrol a resident's face from photos."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import numpy as np
import typer
from pydantic import ValidationError

from hub.config import HubSettings
from hub.faces.enroll import EnrollmentError, encode_photo, enroll
from hub.faces.vault import FaceVault
from hub.store.db import Store
from hub.store.ledger_tables import ResidentRow

app = typer.Typer(help="Residents' faces.", no_args_is_help=True)


def _fail(message: str) -> None:
    typer.echo(f"error: {message}", err=True)
    raise typer.Exit(2)


@app.command("enroll")
def enroll_command(
    resident_id: Annotated[str, typer.Argument(help="The ledger's resident id.")],
    photos: Annotated[list[Path], typer.Argument(help="One or more photos with one face each.")],
) -> None:
    """Encode the photos (averaged) and store the encoding sealed; the photos are not kept."""
    try:
        settings = HubSettings()
    except ValidationError as exc:
        _fail(f"invalid settings: {exc}")
        return
    try:
        encodings = [encode_photo(photo) for photo in photos]
    except EnrollmentError as exc:
        _fail(str(exc))
        return
    vault = FaceVault.for_hub(settings)
    store = Store.open(settings.database_url)
    try:
        with store.transaction() as session:
            resident = session.get(ResidentRow, resident_id)
            if resident is None:
                _fail(f"no resident {resident_id} in the ledger")
                return
            mean = np.mean(np.stack(encodings), axis=0)
            enroll(session, vault, resident_id, mean, ", ".join(p.name for p in photos)[:200])
            resident.face_enrolled = True
    finally:
        store.close()
    typer.echo(f"enrolled {resident_id} from {len(photos)} photo(s)")
