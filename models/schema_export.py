"""JSON Schema files of the wire contract, for non-Python clients (grid-worker apps)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from models.ack import EventAck
from models.alerts import Alert
from models.base import WireModel
from models.commands import CommandResult, DeviceCommand
from models.events import PassageEvent
from models.ledger import Address, Grid, GridWorker, Group, Household, Resident
from models.status import DeviceStatus
from models.topics import topic_map
from models.trust import SignedTrustList

EXPORTED: tuple[type[WireModel], ...] = (
    PassageEvent,
    DeviceStatus,
    EventAck,
    DeviceCommand,
    CommandResult,
    Alert,
    SignedTrustList,
    Address,
    Household,
    Resident,
    Grid,
    GridWorker,
    Group,
)


def _file_name(model: type[WireModel]) -> str:
    return re.sub(r"(?<!^)(?=[A-Z])", "-", model.__name__).lower() + ".schema.json"


def export_schemas(out_dir: Path) -> list[Path]:
    """Write one JSON Schema per message type and ``topics.json``; return the files written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    for model in EXPORTED:
        schema = model.model_json_schema()
        schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
        path = out_dir / _file_name(model)
        path.write_text(json.dumps(schema, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        written.append(path)
    topics = out_dir / "topics.json"
    topics.write_text(json.dumps(topic_map(), indent=2, ensure_ascii=False) + "\n", "utf-8")
    written.append(topics)
    return written
