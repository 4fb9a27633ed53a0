"""Checkpoint vehicle mode: open a vehicle by plate, check every occupant, close it as one event."""
