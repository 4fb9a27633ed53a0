"""Hub service: MQTT ingest → store → match → alert → push, and the HTTP API."""
