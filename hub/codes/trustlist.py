"""Build the hub-signed trust list from the issuer public keys and the revocation list."""

from __future__ import annotations

from pathlib import Path

from cryptography.hazmat.primitives.asymmetric import ec

from hub.codes.keys import load_public, public_pem
from models.base import utc_now
from models.trust import IssuerKey, SignedTrustList, TrustListDocument, sign_trust_list


def build_trust_list(
    issuer_keys: list[Path],
    revoked: list[str],
    version: int,
    hub_key: ec.EllipticCurvePrivateKey,
    hub_kid: str,
) -> SignedTrustList:
    """Sign a trust list naming each ``<kid>.pub.pem`` file's key under its kid."""
    issuers = [
        IssuerKey(
            kid=path.name.removesuffix(".pub.pem"), public_key_pem=public_pem(load_public(path))
        )
        for path in sorted(issuer_keys)
    ]
    document = TrustListDocument(
        version=version, issued_at=utc_now(), issuers=issuers, revoked=sorted(set(revoked))
    )
    return sign_trust_list(document, hub_key, hub_kid)
