"""Gate actuators: what happens physically when the gate decides (log, HTTP relay)."""
