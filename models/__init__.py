"""gridgate's wire contract: the messages edge agents and the hub exchange, and their topics.

Everything that crosses MQTT or the hub's HTTP API between the two sides is defined here,
so both import one truth. Decode untrusted bytes with :func:`models.codec.decode`.
"""

from models.ack import EventAck, RejectedEvent
from models.alerts import Alert, AlertRule, AlertState, Severity
from models.base import SCHEMA_VERSION, WireModel
from models.codec import ContractError, FieldError, decode, encode
from models.commands import CommandName, CommandResult, DeviceCommand
from models.events import (
    CodeColour,
    Direction,
    DoorPlateObservation,
    FaceDecision,
    FaceObservation,
    GateAction,
    GateDecision,
    HealthCodeFormat,
    HealthCodeObservation,
    Liveness,
    Observation,
    PassageEvent,
    ReasonCode,
    VerificationStatus,
)
from models.status import CameraState, ComponentVersions, DeviceStatus

__all__ = [
    "SCHEMA_VERSION",
    "Alert",
    "AlertRule",
    "AlertState",
    "CameraState",
    "CodeColour",
    "CommandName",
    "CommandResult",
    "ComponentVersions",
    "ContractError",
    "DeviceCommand",
    "DeviceStatus",
    "Direction",
    "DoorPlateObservation",
    "EventAck",
    "FaceDecision",
    "FaceObservation",
    "FieldError",
    "GateAction",
    "GateDecision",
    "HealthCodeFormat",
    "HealthCodeObservation",
    "Liveness",
    "Observation",
    "PassageEvent",
    "ReasonCode",
    "RejectedEvent",
    "Severity",
    "VerificationStatus",
    "WireModel",
    "decode",
    "encode",
]
