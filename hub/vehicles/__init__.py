"""Checkpoint vehicles at the hub: one event per vehicle, every occupant checked.

``effects`` stores each new vehicle and its occupants in the event's transaction and drafts
their alerts (red / yellow code, unregistered arrival); ``resolve`` links occupants to
residents and destinations to ledger addresses; ``store`` reads them back for the API.
"""
