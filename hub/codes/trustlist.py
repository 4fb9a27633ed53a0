"""Build the hub-signed trust list from the issuer public keys and the revocation list.

Besides gridgate issuer keys it takes EU DCC document signer certificates (PEM, one or
more per file, or DER) and SMART Health Card issuers (``iss`` with the issuer's JWKS file
and, optionally, its revocation lists). Certificates and keys are parsed and their key
types checked before signing, so the hub does not sign a list the edges would refuse.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Mapping, Sequence
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID
from pydantic import ValidationError

from hub.codes.keys import load_public, public_pem
from models.base import utc_now
from models.trust import (
    DccSigner,
    IssuerKey,
    ShcIssuer,
    ShcKey,
    SignedTrustList,
    TrustListDocument,
    dcc_kid,
    sign_trust_list,
)

MAX_JWKS_BYTES = 256 * 1024


class TrustListInputError(ValueError):
    """An input file that cannot go into the trust list."""


def read_dcc_certificates(path: Path) -> dict[str, DccSigner]:
    """The DSCs in a PEM (one or more certificates) or DER file, by base64 kid."""
    try:
        data = path.read_bytes()
        if b"-----BEGIN CERTIFICATE-----" in data:
            certificates = x509.load_pem_x509_certificates(data)
        else:
            certificates = [x509.load_der_x509_certificate(data)]
    except (OSError, ValueError) as exc:
        raise TrustListInputError(f"{path}: not an X.509 certificate: {exc}") from None
    signers = {}
    for certificate in certificates:
        try:
            key = certificate.public_key()
        except (ValueError, UnsupportedAlgorithm) as exc:
            raise TrustListInputError(f"{path}: unreadable public key: {exc}") from None
        p256 = isinstance(key, ec.EllipticCurvePublicKey) and key.curve.name == "secp256r1"
        if not (p256 or (isinstance(key, rsa.RSAPublicKey) and key.key_size >= 2048)):
            raise TrustListInputError(f"{path}: a DSC key must be EC P-256 or RSA >= 2048")
        der = certificate.public_bytes(Encoding.DER)
        countries = certificate.subject.get_attributes_for_oid(NameOID.COUNTRY_NAME)
        country = str(countries[0].value).upper() if countries else None
        signers[dcc_kid(der)] = DccSigner(
            certificate=base64.b64encode(der).decode("ascii"),
            country=country if country and len(country) == 2 and country.isalpha() else None,
        )
    return signers


def read_shc_crl(path: Path) -> tuple[str, list[str]]:
    """The kid and revoked rids of an SHC revocation list (``{kid, method, ctr, rids}``)."""
    crl = _json_file(path)
    if not isinstance(crl, dict) or not isinstance(crl.get("rids"), list):
        raise TrustListInputError(f"{path}: not an SHC revocation list (no 'rids')")
    if crl.get("method", "rid") != "rid" or not isinstance(crl.get("kid"), str):
        raise TrustListInputError(f"{path}: not a 'rid' revocation list with a kid")
    return crl["kid"], [str(rid) for rid in crl["rids"]]


def read_shc_issuer(jwks_path: Path, revoked: Mapping[str, list[str]] | None = None) -> ShcIssuer:
    """An SHC issuer from its JWKS file (EC P-256 signing keys) and revoked rids by kid."""
    document = _json_file(jwks_path)
    entries = document.get("keys") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise TrustListInputError(f"{jwks_path}: not a JWKS (no 'keys' list)")
    keys = []
    for entry in entries:
        if not isinstance(entry, dict) or entry.get("use", "sig") != "sig":
            continue
        try:
            key = ShcKey(**{name: entry.get(name) for name in ("kty", "crv", "x", "y", "kid")})
            key.public_key()
        except ValueError as exc:
            detail = _first_error(exc) if isinstance(exc, ValidationError) else str(exc)
            raise TrustListInputError(f"{jwks_path}: key {entry.get('kid')}: {detail}") from None
        keys.append(key)
    if not keys:
        raise TrustListInputError(f"{jwks_path}: no signing key")
    kids = {key.kid for key in keys}
    rids = {kid: sorted(set(r)) for kid, r in (revoked or {}).items() if kid in kids}
    try:
        return ShcIssuer(keys=keys, revoked_rids=rids)
    except ValidationError as exc:
        raise TrustListInputError(f"{jwks_path}: {_first_error(exc)}") from None


def read_shc_issuers(
    issuers: Mapping[str, Path], crls: Sequence[Path] = ()
) -> dict[str, ShcIssuer]:
    """SHC issuers by ``iss`` from their JWKS files; each CRL goes to the issuer of its kid."""
    revoked: dict[str, list[str]] = {}
    for path in crls:
        kid, rids = read_shc_crl(path)
        revoked.setdefault(kid, []).extend(rids)
    result = {iss: read_shc_issuer(jwks, revoked) for iss, jwks in issuers.items()}
    known = {key.kid for issuer in result.values() for key in issuer.keys}
    if unmatched := sorted(set(revoked) - known):
        raise TrustListInputError(f"revocation lists for unknown SHC kids: {', '.join(unmatched)}")
    return result


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    return f"{'.'.join(str(part) for part in error['loc'])}: {error['msg']}"


def _json_file(path: Path) -> object:
    try:
        data = path.read_bytes()
        if len(data) > MAX_JWKS_BYTES:
            raise TrustListInputError(f"{path}: larger than {MAX_JWKS_BYTES} bytes")
        return json.loads(data)
    except (OSError, ValueError) as exc:
        raise TrustListInputError(f"{path}: {exc}") from None


def build_trust_list(
    issuer_keys: list[Path],
    revoked: list[str],
    version: int,
    hub_key: ec.EllipticCurvePrivateKey,
    hub_kid: str,
    *,
    dcc_certificates: Sequence[Path] = (),
    shc_issuers: dict[str, ShcIssuer] | None = None,
) -> SignedTrustList:
    """Sign a trust list naming each ``<kid>.pub.pem`` file's key under its kid."""
    issuers = [
        IssuerKey(
            kid=path.name.removesuffix(".pub.pem"), public_key_pem=public_pem(load_public(path))
        )
        for path in sorted(issuer_keys)
    ]
    dcc_signers: dict[str, DccSigner] = {}
    for path in dcc_certificates:
        dcc_signers.update(read_dcc_certificates(path))
    try:
        document = TrustListDocument(
            version=version,
            issued_at=utc_now(),
            issuers=issuers,
            revoked=sorted(set(revoked)),
            dcc_signers=dcc_signers,
            shc_issuers=shc_issuers or {},
        )
    except ValidationError as exc:
        raise TrustListInputError(f"trust list: {_first_error(exc)}") from None
    return sign_trust_list(document, hub_key, hub_kid)
