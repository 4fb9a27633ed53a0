"""The hub's HTTP API."""

from hub.api.main import create_app

__all__ = ["create_app"]
