"""MQTT ingest: passage events and device statuses into the store, EventAcks back."""

from hub.ingest.consumer import IngestConsumer, IngestStats
from hub.ingest.effects import EventEffects, NoEffects

__all__ = ["EventEffects", "IngestConsumer", "IngestStats", "NoEffects"]
