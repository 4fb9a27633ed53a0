"""The edge agent's one YAML configuration, validated by pydantic with field paths in errors."""

from __future__ import annotations

from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from edge.actuators.base import ActuatorConfig
from edge.capture import CaptureConfig
from edge.checkpoint.config import CheckpointConfig
from edge.decoders.faces.config import FaceConfig
from edge.decoders.payloads import PayloadConfig
from edge.gallery_sync import GallerySyncConfig
from edge.kiosk.config import KioskConfig
from edge.passage.config import GatePolicy, PassageConfig
from edge.publish.config import MqttConfig
from edge.verify.online import OnlineVerifierConfig
from edge.verify.policy import CodePolicy
from models.base import Identifier
from models.codec import field_errors


class QrConfig(BaseModel):
    """QR decoding at this gate."""

    model_config = ConfigDict(extra="forbid")

    backend: str | None = Field(
        None,
        title="QR backend",
        description="zxing, pyzbar or opencv; unset picks the fastest available (zxing).",
    )
    deadline_s: float = Field(
        0.5, gt=0, title="Decode deadline (s)", description="Every decode is bounded in time."
    )
    payloads: PayloadConfig = Field(
        default_factory=PayloadConfig,
        title="Payload routing",
        description="Door-plate forms accepted at this site.",
    )


class CodesConfig(BaseModel):
    """Health-code verification at this gate."""

    model_config = ConfigDict(extra="forbid")

    policy: CodePolicy = Field(
        default_factory=CodePolicy,
        title="Three-code policy",
        description="Colour, test age, trip risk and doses a pass must satisfy.",
    )
    hub_public_key: Path | None = Field(
        None,
        title="Hub public key",
        description="PEM of the hub's signing key; only trust lists it signed are applied.",
    )
    hub_public_keys: list[Path] = Field(
        default_factory=list,
        title="Hub public keys",
        description="More pinned hub keys, named <kid>.pub.pem, for a rotation: a trust list "
        "is checked against the key named by its signer_kid.",
    )
    trust_stale_after_h: float = Field(
        24,
        gt=0,
        title="Trust list stale after (h)",
        description="Warn in the device status when no hub-signed list arrived for this long.",
    )
    online: OnlineVerifierConfig | None = Field(
        None,
        title="Online platform verifier",
        description="The issuing platform's verify-code API; unset: platform codes unverified.",
    )

    def hub_key_files(self) -> list[Path]:
        """Every pinned hub key file (the single one first), each once."""
        files = [self.hub_public_key] if self.hub_public_key else []
        return list(dict.fromkeys([*files, *self.hub_public_keys]))


class EdgeConfig(BaseModel):
    """Everything one edge agent needs."""

    model_config = ConfigDict(extra="forbid")

    device_id: Identifier = Field(title="Device id", description="Unique per box.")
    site_id: Identifier = Field(title="Site id", description="Compound or checkpoint.")
    data_dir: Path = Field(
        Path("/var/lib/gridgate-edge"),
        title="Data directory",
        description="Outbox, gallery and trust-list caches live here.",
    )
    capture: CaptureConfig = Field(title="Camera", description="Where frames come from.")
    qr: QrConfig = Field(default_factory=QrConfig, title="QR decoding", description="QR codes.")
    faces: FaceConfig = Field(
        default_factory=FaceConfig, title="Faces", description="Face detection and matching."
    )
    codes: CodesConfig = Field(
        default_factory=CodesConfig, title="Health codes", description="Pass verification."
    )
    passage: PassageConfig = Field(
        default_factory=PassageConfig, title="Passage", description="Gate id, direction, window."
    )
    policy: GatePolicy = Field(
        default_factory=GatePolicy, title="Gate policy", description="What opens the gate."
    )
    actuator: ActuatorConfig = Field(
        default_factory=ActuatorConfig, title="Actuator", description="How the gate is driven."
    )
    mqtt: MqttConfig = Field(default_factory=MqttConfig, title="MQTT", description="The broker.")
    gallery: GallerySyncConfig | None = Field(
        None,
        title="Gallery sync",
        description="Fetch the site's face gallery from the hub when it announces a new one.",
    )
    outbox_max_events: int = Field(
        100_000, ge=1, title="Outbox bound", description="Oldest events dropped beyond this."
    )
    kiosk: KioskConfig | None = Field(
        None,
        title="Kiosk mode",
        description="Self-registration screen (door plate, pass, consent, face); unset: off.",
    )
    checkpoint: CheckpointConfig | None = Field(
        None,
        title="Checkpoint vehicle mode",
        description="Vehicle desk and operator page (plate, every occupant's code, one event "
        "per vehicle); camera passages then only feed the open vehicle. Unset: off.",
    )

    @model_validator(mode="after")
    def _one_mode(self) -> EdgeConfig:
        if self.kiosk is not None and self.checkpoint is not None:
            raise ValueError("kiosk and checkpoint modes are exclusive: set only one of them")
        return self

    def path(self, name: str) -> Path:
        """A file in the data directory."""
        return self.data_dir / name


class ConfigError(ValueError):
    """A configuration file that cannot be used; the message names each bad field."""

    def __init__(self, source: str, problems: list[str]) -> None:
        self.problems = problems
        super().__init__(f"{source}: " + "; ".join(problems))


def load_config(path: Path) -> EdgeConfig:
    """Read and validate a YAML config file."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise ConfigError(str(path), [f"cannot read: {exc.strerror}"]) from None
    except yaml.YAMLError as exc:
        raise ConfigError(str(path), [f"not valid YAML: {exc}"]) from None
    if not isinstance(data, dict):
        raise ConfigError(str(path), ["the top level must be a mapping"])
    try:
        return EdgeConfig.model_validate(data)
    except ValidationError as exc:
        problems = [f"{e.path or '<root>'}: {e.message}" for e in field_errors(exc)]
        raise ConfigError(str(path), problems) from None
