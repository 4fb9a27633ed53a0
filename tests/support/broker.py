"""The tests' broker: the same local Mosquitto launcher the demo uses."""

from hub.broker import MosquittoBroker, find_mosquitto, free_port

__all__ = ["MosquittoBroker", "find_mosquitto", "free_port"]
