"""The hub's database: engine and sessions, tables, migrations and the event repository."""

from hub.store.db import Store, create_db_engine
from hub.store.events import dead_letter, store_events, upsert_device_status
from hub.store.migrate import upgrade
from hub.store.tables import DeadLetterRow, DeviceRow, EventRow

__all__ = [
    "DeadLetterRow",
    "DeviceRow",
    "EventRow",
    "Store",
    "create_db_engine",
    "dead_letter",
    "store_events",
    "upgrade",
    "upsert_device_status",
]
