"""Push: committed alerts → channels (MQTT per grid, SSE, webhook, SMS/e-mail log driver)."""
