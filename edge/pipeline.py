"""Per-frame work: QR → payload routing → verification, faces → tracks, both → passage."""

from __future__ import annotations

import logging
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime

import numpy as np

from edge.decoders.faces.stage import FaceStage
from edge.decoders.payloads import DoorPlate, HealthCode, PayloadClassifier
from edge.decoders.qr.base import QrDecoder, as_gray
from edge.passage.assembler import PassageAssembler
from edge.verify.base import HealthCodeVerifier
from models.events import (
    DoorPlateObservation,
    HealthCodeFormat,
    HealthCodeObservation,
    PassageEvent,
    ReasonCode,
    VerificationStatus,
)

log = logging.getLogger(__name__)


@dataclass
class PipelineStats:
    """Counters and timing of the frame pipeline."""

    frames: int = 0
    events: int = 0
    ms_per_frame: float = 0.0
    codes: Counter[str] = field(default_factory=Counter)


class FramePipeline:
    """Turns frames into passage events; one instance per camera."""

    def __init__(
        self,
        qr: QrDecoder,
        classifier: PayloadClassifier,
        verifiers: dict[HealthCodeFormat, HealthCodeVerifier],
        assembler: PassageAssembler,
        faces: FaceStage | None = None,
    ) -> None:
        self.qr = qr
        self.classifier = classifier
        self.verifiers = verifiers
        self.assembler = assembler
        self.faces = faces
        self.stats = PipelineStats()

    def process(
        self, image: np.ndarray, monotonic: float, captured_at: datetime
    ) -> PassageEvent | None:
        """Decode one frame; return a passage event when one closes."""
        self.stats.frames += 1
        grey = as_gray(image)
        for symbol in self.qr.decode(grey):
            self._route(symbol.payload, monotonic, captured_at)
        if self.faces is not None:
            for track in self.faces.process(image, monotonic, grey):
                observation = self.faces.observation(track, captured_at)
                if observation is not None:
                    self.assembler.add_face(observation, monotonic)
        return self.tick(monotonic)

    def tick(self, monotonic: float, force: bool = False) -> PassageEvent | None:
        """Close the current passage if its window has passed (or when forced)."""
        event = self.assembler.tick(monotonic, force=force)
        if event is not None:
            self.stats.events += 1
        return event

    def _route(self, payload: str | bytes, monotonic: float, seen_at: datetime) -> None:
        classified = self.classifier.classify(payload)
        if isinstance(classified, DoorPlate):
            self.stats.codes["door_plate"] += 1
            observation = DoorPlateObservation(
                address_code=classified.address_code, seen_at=seen_at
            )
            self.assembler.add_code(f"plate:{classified.address_code}", observation, monotonic)
        elif isinstance(classified, HealthCode):
            self.stats.codes[f"health:{classified.format}"] += 1
            self.assembler.add_code(
                f"code:{classified.text}", self.verify_code(classified, seen_at), monotonic
            )
        else:
            self.stats.codes[f"unknown:{classified.reason}"] += 1

    def verify_code(self, code: HealthCode, seen_at: datetime) -> HealthCodeObservation:
        """Verify a routed health code with this site's verifier for its format."""
        verifier = self.verifiers.get(code.format)
        if verifier is None:
            return HealthCodeObservation(
                format=code.format,
                status=VerificationStatus.UNVERIFIED,
                reason_codes=[ReasonCode.UNSUPPORTED],
                seen_at=seen_at,
            )
        return verifier.verify(code.text, seen_at)
