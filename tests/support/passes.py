"""Test issuers of GGHC1 passes: keys, trust lists and passes of every kind."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from edge.verify.trust import TrustStore
from models.base import utc_now
from models.events import CodeColour
from models.passes import PassClaims, TestResult, TripRisk, sign_pass
from models.trust import IssuerKey, TrustListDocument, sign_trust_list


@dataclass
class Issuer:
    """An issuer key pair with helpers to issue passes."""

    kid: str = "test-issuer"
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def public_pem(self) -> str:
        """The public key in PEM."""
        return (
            self.key.public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )

    def issue(
        self,
        colour: CodeColour = CodeColour.GREEN,
        *,
        holder_ref: str = "h1:testholder000000000000000000",
        pass_id: str = "p-0001",
        valid_from: float | None = None,
        valid_for_s: float = 3600,
        test_age_h: float | None = 12,
        trip_risk: TripRisk = TripRisk.NONE,
        doses: int = 2,
    ) -> str:
        """A signed token."""
        now = time.time() if valid_from is None else valid_from
        claims = PassClaims(
            pass_id=pass_id,
            kid=self.kid,
            holder_ref=holder_ref,
            name_masked="张*",
            colour=colour,
            issued_at=int(now),
            expires_at=int(now + valid_for_s),
            test_at=int(time.time() - test_age_h * 3600) if test_age_h is not None else None,
            test_result=TestResult.NEGATIVE if test_age_h is not None else None,
            doses=doses,
            trip_risk=trip_risk,
        )
        return sign_pass(claims, self.key)


def trust_store(*issuers: Issuer, revoked: tuple[str, ...] = ()) -> TrustStore:
    """A trust store trusting ``issuers``."""
    store = TrustStore()
    store.replace(
        TrustListDocument(
            version=1,
            issued_at=utc_now(),
            issuers=[IssuerKey(kid=i.kid, public_key_pem=i.public_pem()) for i in issuers],
            revoked=list(revoked),
        )
    )
    return store


@dataclass
class TrustedSite:
    """An edge data directory whose cached trust list a hub key signed, and its issuer."""

    data_dir: Path
    issuer: Issuer
    hub_key_pem: Path


def trusted_site(data_dir: Path) -> TrustedSite:
    """Create ``data_dir`` with a hub-signed trust list naming one health-office issuer; the
    hub's public key goes beside it (``hub.pem``)."""
    data_dir.mkdir()
    issuer, hub = Issuer(kid="health-office"), Issuer(kid="hub")
    document = TrustListDocument(
        version=1,
        issued_at=utc_now(),
        issuers=[IssuerKey(kid=issuer.kid, public_key_pem=issuer.public_pem())],
    )
    signed = sign_trust_list(document, hub.key, hub.kid)
    (data_dir / "trust.json").write_text(signed.model_dump_json(), encoding="utf-8")
    hub_key_pem = data_dir.parent / "hub.pem"
    hub_key_pem.write_text(hub.public_pem(), encoding="utf-8")
    return TrustedSite(data_dir, issuer, hub_key_pem)
