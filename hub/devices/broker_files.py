"""Writes the broker directory from the profile and the registry, then reloads the broker.

Secret files (password file, server key) are written 0640 so that the broker's group can
read them: create the directory setgid to the ``mosquitto`` group (see
``deploy/mosquitto/README.md``) and every file written later inherits that group.
"""

from __future__ import annotations

import os
import signal
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509
from cryptography.exceptions import InvalidSignature

from hub.devices.acl import render_acl
from hub.devices.files import write_file, write_secret
from hub.devices.mosquitto_conf import BrokerFiles, render_config
from hub.devices.passwords import hash_password, new_password
from hub.devices.pki import CertificateAuthority
from hub.devices.profile import BrokerProfile, HubPaths
from hub.devices.registry import RegisteredDevice
from models.base import utc_now

BROKER_SECRET_MODE = 0o640
RENEW_BEFORE_DAYS = 30


@dataclass(frozen=True)
class Reload:
    """Whether the broker was told to re-read its files, and what the operator should know."""

    signalled: bool
    detail: str


def hub_password(paths: HubPaths) -> str:
    """The hub's broker password, created (0600) the first time."""
    if paths.hub_password.exists():
        return paths.hub_password.read_text(encoding="utf-8").strip()
    password = new_password()
    write_secret(paths.hub_password, password + "\n")
    return password


def write_broker_files(
    profile: BrokerProfile,
    paths: HubPaths,
    ca: CertificateAuthority,
    devices: Sequence[RegisteredDevice],
) -> BrokerFiles:
    """(Re)write mosquitto.conf, passwd, acl, crl.pem and, when due, the server certificate."""
    files = BrokerFiles(profile.out_dir)
    profile.out_dir.mkdir(parents=True, exist_ok=True)
    active = [d for d in devices if d.active]
    password_lines = [f"{profile.hub_username}:{hash_password(hub_password(paths))}"]
    password_lines += [f"{d.device_id}:{d.password_hash}" for d in active if d.password_hash]
    write_file(files.passwords, "\n".join(password_lines) + "\n", BROKER_SECRET_MODE)
    write_file(
        files.acl,
        render_acl(profile.hub_username, profile.share_group, devices),
        BROKER_SECRET_MODE,
    )
    write_file(files.ca_cert, ca.cert_pem)
    revoked = [d.cert_serial for d in devices if not d.active and d.cert_serial]
    write_file(files.crl, ca.crl(revoked))
    if _server_cert_due(files, ca, profile.hosts):
        issued = ca.issue_server(profile.hosts)
        write_file(files.server_key, issued.key_pem, BROKER_SECRET_MODE)
        write_file(files.server_cert, issued.cert_pem)
    write_file(files.config, render_config(profile, files))
    return files


def reload_broker(profile: BrokerProfile) -> Reload:
    """SIGHUP the broker named by the profile's pid file, if there is one."""
    if profile.pid_file is None:
        return Reload(False, "no pid file configured: reload the broker yourself (SIGHUP)")
    try:
        pid = int(profile.pid_file.read_text(encoding="ascii").strip())
    except (OSError, ValueError) as exc:
        return Reload(False, f"cannot read {profile.pid_file} ({exc}): is the broker running?")
    try:
        os.kill(pid, signal.SIGHUP)
    except ProcessLookupError:
        return Reload(False, f"no process {pid} (stale {profile.pid_file})")
    except PermissionError:
        return Reload(False, f"not allowed to signal process {pid}: reload the broker yourself")
    return Reload(True, f"sent SIGHUP to mosquitto (pid {pid})")


def _server_cert_due(files: BrokerFiles, ca: CertificateAuthority, hosts: list[str]) -> bool:
    """A server certificate is missing, from another CA, for other hosts, or expiring."""
    if not (files.server_cert.exists() and files.server_key.exists()):
        return True
    try:
        cert = x509.load_pem_x509_certificate(files.server_cert.read_bytes())
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (ValueError, x509.ExtensionNotFound):
        return True
    try:
        cert.verify_directly_issued_by(ca.cert)
    except (ValueError, TypeError, InvalidSignature):
        return True
    given = {str(n.value) for n in names}
    remaining = cert.not_valid_after_utc - utc_now()
    return given != set(hosts) or remaining.days < RENEW_BEFORE_DAYS
