"""Publishing: the SQLite outbox and the MQTT link to the hub."""
