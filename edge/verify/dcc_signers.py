"""EU DCC document signer certificates (DSCs) from the trust list, ready to verify with.

A DSC may restrict the kinds of certificate it signs with extended key usages (the EU
OIDs ``1.3.6.1.4.1.1847.2021.1.1`` test, ``.2`` vaccination, ``.3`` recovery, also seen
with a stray ``.0.`` arc); one with none of them signs every kind.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from edge.verify.cose import SignerPublicKey
from edge.verify.dcc_claims import CertificateKind
from models.trust import DccSigner, dcc_kid

MIN_RSA_BITS: Final = 2048
_KIND_OIDS: Final = {
    CertificateKind.TEST: ("1.3.6.1.4.1.1847.2021.1.1", "1.3.6.1.4.1.0.1847.2021.1.1"),
    CertificateKind.VACCINATION: ("1.3.6.1.4.1.1847.2021.1.2", "1.3.6.1.4.1.0.1847.2021.1.2"),
    CertificateKind.RECOVERY: ("1.3.6.1.4.1.1847.2021.1.3", "1.3.6.1.4.1.0.1847.2021.1.3"),
}

_DCC_OID_DER: Final = (
    b"\x2b\x06\x01\x04\x01\x8e\x37\x8f\x65\x01",
    b"\x2b\x06\x01\x04\x01\x00\x8e\x37\x8f\x65\x01",
)
"""DER contents of the usage OIDs above, less their last byte (1.3.6.1.4.1[.0].1847.2021.1)."""


class SignerEntryError(ValueError):
    """A DSC entry of the trust list that cannot be used."""


@dataclass(frozen=True)
class DccSignerKey:
    """A trusted DSC: its key, validity and the kinds of certificate it may sign."""

    kid: str
    public_key: SignerPublicKey
    not_before: datetime
    not_after: datetime
    kinds: frozenset[CertificateKind]
    country: str | None

    def may_sign(self, kind: CertificateKind) -> bool:
        """The DSC's key usage allows certificates of ``kind``."""
        return kind in self.kinds


def _kinds(certificate: x509.Certificate, der: bytes) -> frozenset[CertificateKind]:
    try:
        extensions = certificate.extensions
    except ValueError:
        # Extensions cryptography cannot parse (an empty EKU, in the EU test data): no
        # restriction is lost unless a DCC usage OID is somewhere in the certificate.
        if any(prefix in der for prefix in _DCC_OID_DER):
            raise
        return frozenset(CertificateKind)
    try:
        usages = extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    except x509.ExtensionNotFound:
        return frozenset(CertificateKind)
    oids = {usage.dotted_string for usage in usages}
    kinds = frozenset(kind for kind, names in _KIND_OIDS.items() if oids.intersection(names))
    return kinds or frozenset(CertificateKind)


def load_signer(kid: str, entry: DccSigner) -> DccSignerKey:
    """Parse one trust-list entry; :class:`SignerEntryError` when it is unusable."""
    try:
        der = entry.der()
        certificate = x509.load_der_x509_certificate(der)
        key = certificate.public_key()
        kinds = _kinds(certificate, der)
    except (ValueError, UnsupportedAlgorithm) as exc:
        raise SignerEntryError(f"DCC signer {kid}: not an X.509 certificate: {exc}") from None
    if dcc_kid(der) != kid:
        raise SignerEntryError(f"DCC signer {kid}: kid is not the certificate's fingerprint")
    if isinstance(key, ec.EllipticCurvePublicKey):
        if key.curve.name != "secp256r1":
            raise SignerEntryError(f"DCC signer {kid}: EC key is not on P-256")
    elif isinstance(key, rsa.RSAPublicKey):
        if key.key_size < MIN_RSA_BITS:
            raise SignerEntryError(f"DCC signer {kid}: RSA key shorter than {MIN_RSA_BITS} bits")
    else:
        raise SignerEntryError(f"DCC signer {kid}: neither an EC P-256 nor an RSA key")
    return DccSignerKey(
        kid=kid,
        public_key=key,
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        kinds=kinds,
        country=entry.country,
    )
