"""Test issuers of EU DCCs and SMART Health Cards: own keys and certificates, codes of every kind.

Everything is generated here with real crypto (no vectors needed): a DSC is a self-signed
X.509 certificate with an EC P-256 or RSA key, a DCC is real base45 / zlib / COSE_Sign1,
an SHC is a real compact JWS in ``shc:/`` digits. The low-level builders (:func:`hc1`,
:func:`cose_sign1`, :func:`jws`, :func:`numeric`) let tests craft every kind of bad code.
"""

from __future__ import annotations

import base64
import hashlib
import json
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import cbor2
from base45 import b45encode  # type: ignore[import-untyped]
from cryptography import x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature
from cryptography.hazmat.primitives.serialization import Encoding
from cryptography.x509.oid import NameOID

from edge.verify.cose import ES256, PS256
from edge.verify.trust import TrustStore
from models.base import utc_now
from models.trust import DccSigner, ShcIssuer, ShcKey, TrustListDocument

DCC_USAGE = {
    "t": "1.3.6.1.4.1.1847.2021.1.1",
    "v": "1.3.6.1.4.1.1847.2021.1.2",
    "r": "1.3.6.1.4.1.1847.2021.1.3",
}
"""Extended key usage OIDs restricting a DSC to tests, vaccinations or recoveries."""
SHC_ISS = "https://issuer.example.org/shc"

# -- EU DCC ------------------------------------------------------------------------------------


def hc1(cose: bytes, *, compress: bool = True) -> str:
    """``HC1:`` text of a COSE message (zlib-compressed unless told)."""
    body = zlib.compress(cose, 9) if compress else cose
    encoded: bytes = b45encode(body)
    return "HC1:" + encoded.decode("ascii")


def cose_sign1(
    payload: bytes,
    signature: bytes,
    *,
    protected: dict[int, Any],
    unprotected: dict[int, Any] | None = None,
    tags: Sequence[int] = (18,),
) -> bytes:
    """A COSE_Sign1 message with the given parts, wrapped in ``tags`` (outermost first)."""
    item: Any = [
        cbor2.dumps(protected) if protected else b"",
        unprotected or {},
        payload,
        signature,
    ]
    for tag in reversed(tags):
        item = cbor2.CBORTag(tag, item)
    return cbor2.dumps(item)


def to_be_signed(protected: dict[int, Any], payload: bytes) -> bytes:
    """The COSE Sig_structure over ``protected`` and ``payload``."""
    return cbor2.dumps(["Signature1", cbor2.dumps(protected) if protected else b"", b"", payload])


def cwt(hcert: dict[str, Any], *, issued_at: float, expires_at: float, iss: str = "XX") -> bytes:
    """CWT claims carrying ``hcert``."""
    return cbor2.dumps({1: iss, 6: int(issued_at), 4: int(expires_at), -260: {1: hcert}})


def hcert(kind: str, entry: dict[str, Any]) -> dict[str, Any]:
    """An HCERT with one statement of ``kind`` (``v``, ``t`` or ``r``)."""
    names = {"fn": "Mustermann", "fnt": "MUSTERMANN", "gn": "Erika", "gnt": "ERIKA"}
    return {"ver": "1.3.0", "nam": names, "dob": "1964-08-12", kind: [entry]}


def vaccination(dn: int = 2, sd: int = 2, dt: str = "2021-06-01") -> dict[str, Any]:
    """A vaccination HCERT (``dn`` of ``sd`` doses)."""
    entry: dict[str, Any] = {"tg": "840539006", "vp": "1119349007", "mp": "EU/1/20/1528"}
    entry["ma"] = "ORG-100030215"
    entry |= {"dn": dn, "sd": sd, "dt": dt, "co": "AT", "is": "Test", "ci": "URN:UVCI:01:AT:1"}
    return hcert("v", entry)


def lab_result(sc: datetime, *, detected: bool = False, rapid: bool = False) -> dict[str, Any]:
    """A test HCERT: sample collected at ``sc``, NAAT unless ``rapid``."""
    entry = {
        "tg": "840539006",
        "tt": "LP217198-3" if rapid else "LP6464-4",
        "sc": sc.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "tr": "260373001" if detected else "260415000",
        "tc": "Test centre",
        "co": "AT",
        "is": "Test",
        "ci": "URN:UVCI:01:AT:2",
    }
    return hcert("t", entry)


def recovery(df: str, du: str, fr: str = "2021-01-10") -> dict[str, Any]:
    """A recovery HCERT valid from ``df`` until ``du`` (ISO dates)."""
    entry = {"tg": "840539006", "fr": fr, "df": df, "du": du, "co": "AT", "is": "Test"}
    return hcert("r", entry | {"ci": "URN:UVCI:01:AT:3"})


def _certificate(
    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey,
    usages: Sequence[str],
    not_before: datetime,
    not_after: datetime,
    country: str,
) -> x509.Certificate:
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, country),
            x509.NameAttribute(NameOID.COMMON_NAME, "gridgate test DSC"),
        ]
    )
    builder = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )
    if usages:
        oids = [x509.ObjectIdentifier(DCC_USAGE[u]) for u in usages]
        builder = builder.add_extension(x509.ExtendedKeyUsage(oids), critical=False)
    return builder.sign(key, hashes.SHA256())


@dataclass
class DccIssuer:
    """A document signer: key pair and certificate, issuing ``HC1:`` codes."""

    key: ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )
    usages: Sequence[str] = ()
    valid_from: datetime = field(default_factory=lambda: utc_now() - timedelta(days=365))
    valid_until: datetime = field(default_factory=lambda: utc_now() + timedelta(days=365))
    country: str = "AT"
    certificate: x509.Certificate = field(init=False)

    def __post_init__(self) -> None:
        self.certificate = _certificate(
            self.key, self.usages, self.valid_from, self.valid_until, self.country
        )

    @classmethod
    def rsa(cls, **options: Any) -> DccIssuer:
        """A PS256 signer with a 2048-bit RSA key."""
        return cls(key=rsa.generate_private_key(65537, 2048), **options)

    @property
    def der(self) -> bytes:
        """The certificate, DER."""
        return self.certificate.public_bytes(Encoding.DER)

    @property
    def kid(self) -> bytes:
        """The 8-byte COSE kid: the start of the certificate's SHA-256."""
        return hashlib.sha256(self.der).digest()[:8]

    @property
    def alg(self) -> int:
        """ES256 for an EC key, PS256 for RSA."""
        return ES256 if isinstance(self.key, ec.EllipticCurvePrivateKey) else PS256

    def trust_entry(self) -> tuple[str, DccSigner]:
        """The trust-list entry of this signer: base64 kid and certificate."""
        certificate = base64.b64encode(self.der).decode("ascii")
        return base64.b64encode(self.kid).decode("ascii"), DccSigner(certificate=certificate)

    def sign(self, data: bytes) -> bytes:
        """Raw ``r || s`` (ES256) or an RSA-PSS signature (PS256) over ``data``."""
        if isinstance(self.key, ec.EllipticCurvePrivateKey):
            r, s = decode_dss_signature(self.key.sign(data, ec.ECDSA(hashes.SHA256())))
            return r.to_bytes(32, "big") + s.to_bytes(32, "big")
        pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
        return self.key.sign(data, pss, hashes.SHA256())

    def cose(
        self,
        payload: bytes,
        *,
        kid: bytes | None = None,
        kid_in_unprotected: bool = False,
        alg: int | None = None,
        tags: Sequence[int] = (18,),
    ) -> bytes:
        """A signed COSE_Sign1 over ``payload`` (kid in the protected header by default)."""
        header: dict[int, Any] = {1: self.alg if alg is None else alg}
        unprotected: dict[int, Any] = {}
        (unprotected if kid_in_unprotected else header)[4] = self.kid if kid is None else kid
        signature = self.sign(to_be_signed(header, payload))
        return cose_sign1(payload, signature, protected=header, unprotected=unprotected, tags=tags)

    def issue(
        self,
        certificate: dict[str, Any],
        *,
        issued_at: float | None = None,
        valid_for_s: float = 30 * 86400,
        **cose_options: Any,
    ) -> str:
        """A signed ``HC1:`` code of ``certificate`` (an HCERT)."""
        issued = time.time() - 60 if issued_at is None else issued_at
        payload = cwt(certificate, issued_at=issued, expires_at=issued + valid_for_s)
        return hc1(self.cose(payload, **cose_options))


# -- SMART Health Cards -----------------------------------------------------------------------


def b64url(data: bytes) -> str:
    """base64url without padding."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def deflate_raw(data: bytes) -> bytes:
    """Raw DEFLATE (no zlib header), as an SHC payload is compressed."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def numeric(jws_text: str) -> str:
    """The ``shc:/`` text of a compact JWS: two digits per character."""
    return "shc:/" + "".join(f"{ord(ch) - 45:02d}" for ch in jws_text)


def chunks(jws_text: str, count: int) -> list[str]:
    """The JWS split into ``count`` chunk texts ``shc:/<i>/<n>/…``."""
    size = -(-len(jws_text) // count)
    parts = [jws_text[i : i + size] for i in range(0, len(jws_text), size)]
    return [f"shc:/{i}/{len(parts)}/{numeric(p)[5:]}" for i, p in enumerate(parts, 1)]


def card_claims(
    *, iss: str, nbf: float, exp: float | None = None, rid: str | None = None, doses: int = 2
) -> dict[str, Any]:
    """JWS payload of a card with ``doses`` completed immunizations."""
    patient = {"resourceType": "Patient", "name": [{"family": "Anyperson"}]}
    entries: list[dict[str, Any]] = [{"fullUrl": "resource:0", "resource": patient}]
    for n in range(doses):
        immunization = {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": {"coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "207"}]},
            "patient": {"reference": "resource:0"},
            "occurrenceDateTime": f"2021-0{n + 1}-01",
        }
        entries.append({"fullUrl": f"resource:{n + 1}", "resource": immunization})
    bundle = {"resourceType": "Bundle", "type": "collection", "entry": entries}
    credential: dict[str, Any] = {
        "type": ["https://smarthealth.cards#health-card"],
        "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": bundle},
    }
    if rid is not None:
        credential["rid"] = rid
    claims: dict[str, Any] = {"iss": iss, "nbf": nbf, "vc": credential}
    if exp is not None:
        claims["exp"] = exp
    return claims


@dataclass
class ShcIssuerKey:
    """An SHC issuer's signing key, issuing ``shc:/`` cards."""

    iss: str = SHC_ISS
    key: ec.EllipticCurvePrivateKey = field(
        default_factory=lambda: ec.generate_private_key(ec.SECP256R1())
    )

    def jwk(self) -> ShcKey:
        """The public JWK, kid = thumbprint."""
        numbers = self.key.public_key().public_numbers()
        x, y = (b64url(c.to_bytes(32, "big")) for c in (numbers.x, numbers.y))
        unnamed = ShcKey(kty="EC", crv="P-256", x=x, y=y, kid="A" * 43)
        return unnamed.model_copy(update={"kid": unnamed.thumbprint()})

    @property
    def kid(self) -> str:
        """The key id: its JWK thumbprint."""
        return self.jwk().kid

    def jws(
        self,
        claims: dict[str, Any] | bytes,
        *,
        header: dict[str, Any] | None = None,
        compress: bool = True,
    ) -> str:
        """A compact JWS of ``claims`` (JSON, raw-DEFLATEd) signed ES256."""
        head = {"zip": "DEF", "alg": "ES256", "kid": self.kid} if header is None else header
        body = claims if isinstance(claims, bytes) else json.dumps(claims).encode()
        payload = deflate_raw(body) if compress else body
        signing_input = f"{b64url(json.dumps(head).encode())}.{b64url(payload)}"
        der = self.key.sign(signing_input.encode("ascii"), ec.ECDSA(hashes.SHA256()))
        r, s = decode_dss_signature(der)
        return f"{signing_input}.{b64url(r.to_bytes(32, 'big') + s.to_bytes(32, 'big'))}"

    def issue(
        self,
        *,
        doses: int = 2,
        nbf: float | None = None,
        exp: float | None = None,
        rid: str | None = None,
    ) -> str:
        """A signed ``shc:/`` card."""
        issued = time.time() - 60 if nbf is None else nbf
        return numeric(
            self.jws(card_claims(iss=self.iss, nbf=issued, exp=exp, rid=rid, doses=doses))
        )


def foreign_trust_store(
    dcc: Sequence[DccIssuer] = (),
    shc: Sequence[ShcIssuerKey] = (),
    revoked_rids: dict[str, list[str]] | None = None,
) -> TrustStore:
    """A trust store trusting these DSCs and SHC keys (rids revoked under each SHC kid)."""
    issuers: dict[str, list[ShcKey]] = {}
    for issuer in shc:
        issuers.setdefault(issuer.iss, []).append(issuer.jwk())
    shc_issuers = {
        iss: ShcIssuer(
            keys=keys,
            revoked_rids={k.kid: (revoked_rids or {}).get(k.kid, []) for k in keys},
        )
        for iss, keys in issuers.items()
    }
    store = TrustStore()
    store.replace(
        TrustListDocument(
            version=1,
            issued_at=utc_now(),
            dcc_signers=dict(signer.trust_entry() for signer in dcc),
            shc_issuers=shc_issuers,
        )
    )
    return store
