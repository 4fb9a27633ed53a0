"""COSE_Sign1 (RFC 9052) as the EU DCC uses it: parse, then check ES256 or PS256 signatures."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import cbor2
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

from edge.verify.cbor_guard import CborError, loads

ES256: Final = -7
PS256: Final = -37
SUPPORTED_ALGORITHMS: Final = frozenset({ES256, PS256})
COSE_SIGN1_TAG: Final = 18
CWT_TAG: Final = 61
_ALG, _KID = 1, 4

SignerPublicKey = ec.EllipticCurvePublicKey | rsa.RSAPublicKey


class CoseError(ValueError):
    """Not a COSE_Sign1 message."""


@dataclass(frozen=True)
class CoseSign1:
    """A parsed COSE_Sign1: the headers, the payload and the signature, unverified."""

    protected: bytes
    protected_header: Mapping[object, object]
    unprotected_header: Mapping[object, object]
    payload: bytes
    signature: bytes

    @property
    def algorithm(self) -> object:
        """The ``alg``: from the protected header when there, else the unprotected one.

        An unprotected ``alg`` (seen in the EU test data) cannot mislead: each algorithm
        verifies only with its own key type.
        """
        if _ALG in self.protected_header:
            return self.protected_header[_ALG]
        return self.unprotected_header.get(_ALG)

    @property
    def kid(self) -> object:
        """The ``kid``: from the protected header when there, else the unprotected one."""
        if _KID in self.protected_header:
            return self.protected_header[_KID]
        return self.unprotected_header.get(_KID)

    def to_be_signed(self) -> bytes:
        """The Sig_structure the signature covers (no external data)."""
        return cbor2.dumps(["Signature1", self.protected, b"", self.payload])


def parse_sign1(data: bytes) -> CoseSign1:
    """Parse a COSE_Sign1, tagged (18, or 61 around 18) or untagged; :class:`CoseError`."""
    try:
        item = loads(data, allowed_tags=(COSE_SIGN1_TAG, CWT_TAG))
        for expected in (CWT_TAG, COSE_SIGN1_TAG):
            if isinstance(item, cbor2.CBORTag) and item.tag == expected:
                item = item.value
        if not isinstance(item, Sequence) or isinstance(item, str | bytes) or len(item) != 4:
            raise CoseError("not a COSE_Sign1 array of four")
        protected, unprotected, payload, signature = item
        if not all(isinstance(part, bytes) for part in (protected, payload, signature)):
            raise CoseError("protected header, payload and signature must be byte strings")
        if not isinstance(unprotected, Mapping):
            raise CoseError("the unprotected header must be a map")
        header = loads(protected, allowed_tags=()) if protected else {}
    except CborError as exc:
        raise CoseError(str(exc)) from None
    if not isinstance(header, Mapping):
        raise CoseError("the protected header must be a map")
    return CoseSign1(protected, header, unprotected, payload, signature)


def signature_valid(message: CoseSign1, key: SignerPublicKey) -> bool:
    """ES256 with a P-256 key or PS256 with an RSA key; any other pairing is invalid."""
    data = message.to_be_signed()
    try:
        if message.algorithm == ES256 and isinstance(key, ec.EllipticCurvePublicKey):
            if key.curve.name != "secp256r1" or len(message.signature) != 64:
                return False
            r = int.from_bytes(message.signature[:32], "big")
            s = int.from_bytes(message.signature[32:], "big")
            key.verify(encode_dss_signature(r, s), data, ec.ECDSA(hashes.SHA256()))
            return True
        if message.algorithm == PS256 and isinstance(key, rsa.RSAPublicKey):
            pss = padding.PSS(mgf=padding.MGF1(hashes.SHA256()), salt_length=32)
            key.verify(message.signature, data, pss, hashes.SHA256())
            return True
    except (InvalidSignature, ValueError):
        return False
    return False
