"""The hub's small certificate authority: broker server certificates, device client
certificates and the revocation list, all ECDSA P-256 (built with ``cryptography``).

The CA lives in ``<data_dir>/pki`` (``ca.key.pem`` mode 0600, ``ca.cert.pem``); devices get
``ca.cert.pem`` in their bundle to verify the broker, and the broker uses it to verify
client certificates.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from hub.devices.files import write_file, write_secret
from models.base import utc_now

CA_KEY = "ca.key.pem"
CA_CERT = "ca.cert.pem"
CA_VALIDITY = timedelta(days=3650)
LEAF_VALIDITY = timedelta(days=825)
CLOCK_SKEW = timedelta(minutes=5)
"""Certificates start this long before now, so a box whose clock lags still accepts them."""


class PkiError(RuntimeError):
    """The CA files are missing, unreadable or inconsistent."""


@dataclass(frozen=True)
class IssuedCertificate:
    """A leaf certificate with its private key, in PEM."""

    cert_pem: bytes
    key_pem: bytes
    serial_hex: str
    fingerprint_hex: str
    """SHA-256 of the DER certificate, lower-case hex."""


class CertificateAuthority:
    """Issues and revokes certificates under one self-signed root."""

    def __init__(self, key: ec.EllipticCurvePrivateKey, cert: x509.Certificate) -> None:
        self.key = key
        self.cert = cert

    @classmethod
    def load_or_create(cls, directory: Path, name: str = "gridgate hub CA") -> CertificateAuthority:
        """The CA in ``directory``, created there (key mode 0600) the first time."""
        key_path, cert_path = directory / CA_KEY, directory / CA_CERT
        if key_path.exists() != cert_path.exists():
            raise PkiError(f"{directory}: {CA_KEY} and {CA_CERT} must both exist or neither")
        if key_path.exists():
            return cls._load(key_path, cert_path)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
        now = utc_now()
        cert = (
            _builder(subject, subject, key.public_key(), now, CA_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=False,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), False)
            .sign(key, hashes.SHA256())
        )
        write_secret(key_path, _key_pem(key))
        write_file(cert_path, cert.public_bytes(serialization.Encoding.PEM))
        return cls(key, cert)

    @classmethod
    def _load(cls, key_path: Path, cert_path: Path) -> CertificateAuthority:
        try:
            key = serialization.load_pem_private_key(key_path.read_bytes(), password=None)
            cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        except (OSError, ValueError) as exc:
            raise PkiError(f"cannot read the CA in {key_path.parent}: {exc}") from None
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.public_key() != cert.public_key():
            raise PkiError(f"{key_path} is not the key of {cert_path}")
        return cls(key, cert)

    @property
    def cert_pem(self) -> bytes:
        """The root certificate, for brokers and devices to verify against."""
        return self.cert.public_bytes(serialization.Encoding.PEM)

    def issue_server(self, hosts: list[str]) -> IssuedCertificate:
        """A broker certificate valid for ``hosts`` (DNS names or IP addresses)."""
        if not hosts:
            raise PkiError("a server certificate needs at least one host name or address")
        names: list[x509.GeneralName] = []
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        return self._issue(hosts[0], ExtendedKeyUsageOID.SERVER_AUTH, names)

    def issue_client(self, device_id: str) -> IssuedCertificate:
        """A device certificate whose common name is the device id (the broker user name)."""
        return self._issue(device_id, ExtendedKeyUsageOID.CLIENT_AUTH, [])

    def crl(self, revoked_serials: list[str]) -> bytes:
        """A signed revocation list of the given serials (hex), PEM; valid one year."""
        now = utc_now()
        builder = (
            x509.CertificateRevocationListBuilder()
            .issuer_name(self.cert.subject)
            .last_update(now - CLOCK_SKEW)
            .next_update(now + timedelta(days=365))
        )
        for serial in revoked_serials:
            builder = builder.add_revoked_certificate(
                x509.RevokedCertificateBuilder()
                .serial_number(int(serial, 16))
                .revocation_date(now - CLOCK_SKEW)
                .build()
            )
        return builder.sign(self.key, hashes.SHA256()).public_bytes(serialization.Encoding.PEM)

    def _issue(
        self,
        common_name: str,
        usage: x509.ObjectIdentifier,
        names: list[x509.GeneralName],
    ) -> IssuedCertificate:
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])
        builder = (
            _builder(subject, self.cert.subject, key.public_key(), utc_now(), LEAF_VALIDITY)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self.key.public_key()), False
            )
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        cert = builder.sign(self.key, hashes.SHA256())
        return IssuedCertificate(
            cert_pem=cert.public_bytes(serialization.Encoding.PEM),
            key_pem=_key_pem(key),
            serial_hex=format(cert.serial_number, "x"),
            fingerprint_hex=cert.fingerprint(hashes.SHA256()).hex(),
        )


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: ec.EllipticCurvePublicKey,
    now: datetime,
    validity: timedelta,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - CLOCK_SKEW)
        .not_valid_after(now + validity)
    )


def _key_pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
