"""Edge agent: camera → decoders → passage → event → MQTT (with an outbox until the hub acks)."""
