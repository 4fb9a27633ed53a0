"""Device provisioning without a broker: hashes, CA, ACL and config text, registry, bundles, CLI.

The broker itself judges the generated files in ``test_broker_security.py``.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from datetime import timedelta
from pathlib import Path

import pytest
from cryptography import x509
from pydantic import ValidationError
from sqlalchemy import select
from typer.testing import CliRunner

from edge.config import load_config
from edge.publish.config import MqttConfig
from hub.cli import app as hub_app
from hub.codes.keys import generate, public_path
from hub.devices.acl import render_acl
from hub.devices.bundle import BundleError, write_bundle
from hub.devices.credentials import IssuedCredential, method
from hub.devices.mosquitto_conf import BrokerFiles, render_config
from hub.devices.passwords import (
    PasswordHashError,
    hash_password,
    new_password,
    verify_password,
)
from hub.devices.pki import CertificateAuthority, PkiError
from hub.devices.profile import BrokerProfile
from hub.devices.registry import (
    DeviceError,
    DeviceKind,
    DuplicateDeviceError,
    RegisteredDevice,
    UnknownDeviceError,
    add_device,
    list_devices,
    revoke_device,
)
from hub.store.db import Store
from hub.store.device_tables import RegisteredDeviceRow
from models import topics
from models.base import utc_now
from models.topics import DeviceChannel

runner = CliRunner()
HASH_RE = re.compile(r"^\$7\$101\$[A-Za-z0-9+/]{16}\$[A-Za-z0-9+/]{86}==$")


def _device(device_id: str, site_id: str, *, revoked: bool = False) -> RegisteredDevice:
    now = utc_now()
    return RegisteredDevice(
        device_id=device_id,
        site_id=site_id,
        kind="gate",
        created_at=now,
        revoked_at=now if revoked else None,
        password_hash=hash_password("x"),
        cert_serial=None,
        cert_fingerprint=None,
    )


def _profile(tmp_path: Path, **extra: object) -> BrokerProfile:
    values: dict[str, object] = {"out_dir": tmp_path / "etc", "hosts": ["hub.example.internal"]}
    return BrokerProfile.model_validate(values | extra)


# -- password hashes --------------------------------------------------------------------------


def test_hashes_have_the_mosquitto_passwd_form_and_verify() -> None:
    password = new_password()
    hashed = hash_password(password)
    assert HASH_RE.match(hashed), hashed
    assert verify_password(password, hashed)
    assert not verify_password(password + "x", hashed)
    assert hash_password(password) != hashed  # a new salt every time


def test_hashes_written_by_mosquitto_passwd_verify(tmp_path: Path) -> None:
    binary = shutil.which("mosquitto_passwd")
    if binary is None:
        pytest.skip("mosquitto_passwd is not installed")
    path = tmp_path / "passwd"
    subprocess.run([binary, "-c", "-b", str(path), "gate-01", "s3cret"], check=True)
    hashed = path.read_text().strip().split(":", 1)[1]
    assert HASH_RE.match(hashed), hashed
    assert verify_password("s3cret", hashed)
    assert not verify_password("s3cret ", hashed)


@pytest.mark.parametrize(
    "bad",
    ["", "plain", "$6$abc$def", "$7$$c2FsdA==$aGFzaA==", "$7$101$***$aGFzaA==", "$7$101$c2FsdA=="],
)
def test_malformed_hashes_are_refused(bad: str) -> None:
    with pytest.raises(PasswordHashError):
        verify_password("anything", bad)


# -- the CA -----------------------------------------------------------------------------------


def test_the_ca_key_is_private_and_the_ca_is_reused(tmp_path: Path) -> None:
    ca = CertificateAuthority.load_or_create(tmp_path / "pki")
    assert (tmp_path / "pki" / "ca.key.pem").stat().st_mode & 0o777 == 0o600
    again = CertificateAuthority.load_or_create(tmp_path / "pki")
    assert again.cert == ca.cert


def test_issued_certificates_chain_to_the_ca(tmp_path: Path) -> None:
    ca = CertificateAuthority.load_or_create(tmp_path / "pki")
    client = ca.issue_client("gate-01")
    cert = x509.load_pem_x509_certificate(client.cert_pem)
    cert.verify_directly_issued_by(ca.cert)
    assert cert.subject.rfc4514_string() == "CN=gate-01"
    assert format(cert.serial_number, "x") == client.serial_hex
    server = x509.load_pem_x509_certificate(ca.issue_server(["hub.local", "10.0.0.5"]).cert_pem)
    names = server.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert {str(n.value) for n in names} == {"hub.local", "10.0.0.5"}
    crl = x509.load_pem_x509_crl(ca.crl([client.serial_hex]))
    assert crl.is_signature_valid(ca.key.public_key())
    assert crl.get_revoked_certificate_by_serial_number(cert.serial_number) is not None


def test_a_ca_with_a_foreign_key_is_refused(tmp_path: Path) -> None:
    CertificateAuthority.load_or_create(tmp_path / "a")
    CertificateAuthority.load_or_create(tmp_path / "b")
    shutil.copy(tmp_path / "b" / "ca.key.pem", tmp_path / "a" / "ca.key.pem")
    with pytest.raises(PkiError, match="is not the key of"):
        CertificateAuthority.load_or_create(tmp_path / "a")
    (tmp_path / "b" / "ca.cert.pem").unlink()
    with pytest.raises(PkiError, match="both exist or neither"):
        CertificateAuthority.load_or_create(tmp_path / "b")


# -- ACL and mosquitto.conf text --------------------------------------------------------------


def test_the_acl_spells_out_each_devices_site_and_leaves_out_revoked_ones() -> None:
    text = render_acl(
        "gridgate-hub",
        "hub",
        [
            _device("gate-01", "site-a"),
            _device("gate-02", "site-b"),
            _device("old", "site-a", revoked=True),
        ],
    )
    blocks = {b.splitlines()[1]: b.splitlines() for b in text.split("\n\n")[1:]}
    assert set(blocks) == {"user gridgate-hub", "user gate-01", "user gate-02"}
    gate = blocks["user gate-01"]
    assert f"topic write {topics.events('site-a', 'gate-01')}" in gate
    assert f"topic read {topics.cmd('site-a', 'gate-01')}" in gate
    assert f"topic read {topics.gallery('site-a')}" in gate
    assert f"topic read {topics.trust_list()}" in gate
    assert f"topic read {topics.config('site-a', 'gate-01')}" in gate  # pushed configs
    rules = [line for line in gate if line.startswith("topic ")]
    assert len(rules) == 8
    assert [rule for rule in rules if "site-b" in rule or "+" in rule or "#" in rule] == []
    hub = blocks["user gridgate-hub"]
    events = topics.all_devices(DeviceChannel.EVENTS)
    assert f"topic read {topics.shared(events)}" in hub
    assert f"topic write {topics.all_devices(DeviceChannel.CMD)}" in hub
    assert "\npattern " not in text and "%u" not in text


def test_the_config_is_locked_down_and_persists_often(tmp_path: Path) -> None:
    profile = _profile(tmp_path, pid_file=tmp_path / "m.pid", hub_port=1884)
    text = render_config(profile, BrokerFiles(profile.out_dir))
    lines = text.splitlines()
    for expected in (
        "allow_anonymous false",
        f"password_file {profile.out_dir / 'passwd'}",
        f"acl_file {profile.out_dir / 'acl'}",
        "persistence true",
        "autosave_interval 10",
        f"pid_file {tmp_path / 'm.pid'}",
        "listener 1884 127.0.0.1",
        "listener 8883",
        "listener 8884",
    ):
        assert expected in lines, expected
    assert lines.count("require_certificate true") == 1
    assert lines.index("require_certificate true") > lines.index("listener 8884")
    assert "allow_anonymous true" not in text
    assert "autosave_interval" in text.split("persistence true")[0]  # the comment says why


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"tls_port": None, "cert_port": None}, "need a listener"),
        ({"tls_port": 8883, "cert_port": 8883}, "must differ"),
        ({"hosts": []}, "at least 1"),
        ({"autosave_interval_s": 0}, "greater than or equal to 1"),
        ({"color": "red"}, "Extra inputs"),
    ],
)
def test_bad_profiles_are_refused(tmp_path: Path, extra: dict[str, object], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        _profile(tmp_path, **extra)


# -- registry (SQLite and PostgreSQL) ---------------------------------------------------------


def test_registry_adds_revokes_and_never_reuses_an_id(store: Store, tmp_path: Path) -> None:
    now = utc_now()
    ca = CertificateAuthority.load_or_create(tmp_path / "pki")
    credential = method("password").issue("gate-01", ca)
    with store.transaction() as session:
        add_device(session, "gate-01", "site-a", DeviceKind.GATE, credential, now)
    with store.transaction() as session, pytest.raises(DuplicateDeviceError, match="exists"):
        add_device(session, "gate-01", "site-b", DeviceKind.GATE, credential, now)
    with store.transaction() as session:
        revoked = revoke_device(session, "gate-01", now + timedelta(seconds=1))
    assert revoked.revoked_at is not None and not revoked.active
    with store.transaction() as session, pytest.raises(DuplicateDeviceError, match="not reused"):
        add_device(session, "gate-01", "site-a", DeviceKind.GATE, credential, now)
    with store.transaction() as session, pytest.raises(DeviceError, match="already revoked"):
        revoke_device(session, "gate-01", now)
    with store.transaction() as session, pytest.raises(UnknownDeviceError):
        revoke_device(session, "gate-99", now)
    with store.transaction() as session:
        (entry,) = list_devices(session)
        row = session.scalars(select(RegisteredDeviceRow)).one()
    assert entry.created_at == now
    assert row.credential == credential.password_hash
    assert verify_password(credential.mqtt["password"], row.credential or "")


@pytest.mark.parametrize("bad", ["site/a", "+", "#", "", "a b", "x" * 65])
def test_ids_that_break_topics_are_refused(store: Store, bad: str) -> None:
    credential = IssuedCredential(password_hash=hash_password("x"))
    with store.transaction() as session, pytest.raises(DeviceError, match="not valid"):
        add_device(session, "gate-01", bad, DeviceKind.GATE, credential, utc_now())


# -- bundles and the edge config --------------------------------------------------------------


def test_a_bundle_refuses_a_non_empty_directory_and_a_missing_listener(tmp_path: Path) -> None:
    ca = CertificateAuthority.load_or_create(tmp_path / "pki")
    credential = method("certificate").issue("gate-01", ca)
    out = tmp_path / "bundle"
    out.mkdir()
    (out / "left-over").write_text("x")
    for target, profile, message in (
        (out, _profile(tmp_path), "not an empty directory"),
        (tmp_path / "new", _profile(tmp_path, cert_port=None), "no client-certificate listener"),
    ):
        with pytest.raises(BundleError, match=message):
            write_bundle(
                target,
                device_id="gate-01",
                site_id="site-a",
                credential=credential,
                mutual_tls=True,
                profile=profile,
                ca_cert_pem=ca.cert_pem,
            )
    assert not (tmp_path / "new").exists()


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"tls_cert_file": "c.pem", "tls_ca_file": "ca.pem"}, "go together"),
        ({"tls_key_file": "k.pem", "tls_ca_file": "ca.pem"}, "go together"),
        ({"tls_cert_file": "c.pem", "tls_key_file": "k.pem"}, "needs TLS"),
    ],
)
def test_edge_client_certificate_settings_must_be_complete(
    extra: dict[str, str], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        MqttConfig.model_validate(extra)


# -- the CLI ----------------------------------------------------------------------------------


class Cli:
    """``gridgate-hub`` against one temporary data directory and SQLite file."""

    def __init__(self, tmp_path: Path) -> None:
        self.tmp = tmp_path
        self.common = [
            "--data-dir", str(tmp_path / "hub"),
            "--database-url", f"sqlite:///{tmp_path / 'hub.db'}",
        ]  # fmt: skip

    def run(self, *args: str) -> tuple[int, str]:
        result = runner.invoke(hub_app, [*args, *self.common])
        return result.exit_code, result.output

    def ok(self, *args: str) -> str:
        code, output = self.run(*args)
        assert code == 0, output
        return output

    def configure(self) -> None:
        self.ok(
            "broker", "config", "--out", str(self.tmp / "etc"), "--host", "hub.example.internal",
            "--persistence-dir", str(self.tmp / "data"),
        )  # fmt: skip


@pytest.fixture
def cli(tmp_path: Path) -> Cli:
    return Cli(tmp_path)


def test_add_writes_bundles_the_edge_loads_as_is(cli: Cli, tmp_path: Path) -> None:
    cli.configure()
    generate(tmp_path / "keys", "hub")
    hub_key = public_path(tmp_path / "keys", "hub")
    cli.ok("devices", "add", "gate-01", "--site", "xintang", "--out", str(tmp_path / "b1"),
           "--hub-public-key", str(hub_key))  # fmt: skip
    cli.ok("devices", "add", "kiosk-02", "--site", "xintang", "--kind", "kiosk", "--cert",
           "--out", str(tmp_path / "b2"), "--install-dir", "/opt/gridgate")  # fmt: skip

    password_config = load_config(tmp_path / "b1" / "edge.yaml")
    assert (password_config.device_id, password_config.site_id) == ("gate-01", "xintang")
    mqtt = password_config.mqtt
    assert (mqtt.host, mqtt.port, mqtt.username) == ("hub.example.internal", 8883, "gate-01")
    assert mqtt.tls_ca_file == Path("/etc/gridgate/ca.cert.pem")
    assert password_config.codes.hub_public_key == Path("/etc/gridgate/hub.pub.pem")
    assert (tmp_path / "b1" / "hub.pub.pem").read_text() == hub_key.read_text()
    assert (tmp_path / "b1" / "edge.yaml").stat().st_mode & 0o777 == 0o600
    assert (tmp_path / "b1").stat().st_mode & 0o777 == 0o700

    cert_config = load_config(tmp_path / "b2" / "edge.yaml")
    assert (cert_config.mqtt.port, cert_config.mqtt.username) == (8884, None)
    assert cert_config.mqtt.tls_cert_file == Path("/opt/gridgate/client.cert.pem")
    assert (tmp_path / "b2" / "client.key.pem").stat().st_mode & 0o777 == 0o600

    password = mqtt.password.get_secret_value() if mqtt.password else ""
    passwd = (tmp_path / "etc" / "passwd").read_text()
    assert password not in passwd and password not in (tmp_path / "hub.db").read_bytes().decode(
        "latin-1"
    )
    (line,) = [entry for entry in passwd.splitlines() if entry.startswith("gate-01:")]
    assert verify_password(password, line.split(":", 1)[1])
    assert "kiosk-02:" not in passwd  # certificate devices have no password
    assert "user kiosk-02" in (tmp_path / "etc" / "acl").read_text()

    listing = cli.ok("devices", "list")
    assert "gate-01" in listing and "kiosk-02" in listing and "certificate" in listing


def test_a_bundle_can_carry_the_hubs_gallery_url(cli: Cli, tmp_path: Path) -> None:
    cli.configure()
    cli.ok("devices", "add", "gate-03", "--site", "xintang", "--out", str(tmp_path / "b3"),
           "--hub-url", "https://hub.example.internal:8443")  # fmt: skip
    gallery = load_config(tmp_path / "b3" / "edge.yaml").gallery
    assert gallery is not None and str(gallery.hub_url) == "https://hub.example.internal:8443/"
    assert gallery.ca_file == Path("/etc/gridgate/ca.cert.pem")
    code, output = cli.run(
        "devices", "add", "kiosk-04", "--site", "xintang", "--cert",
        "--out", str(tmp_path / "b4"), "--hub-url", "https://hub:8443",
    )  # fmt: skip
    assert code == 2 and "password device" in output
    assert "kiosk-04" not in cli.ok("devices", "list")  # nothing registered


def test_revoke_rewrites_the_broker_files(cli: Cli, tmp_path: Path) -> None:
    cli.configure()
    cli.ok("devices", "add", "gate-01", "--site", "s1", "--out", str(tmp_path / "b1"))
    cli.ok("devices", "add", "gate-02", "--site", "s1", "--cert", "--out", str(tmp_path / "b2"))
    serial = x509.load_pem_x509_certificate((tmp_path / "b2" / "client.cert.pem").read_bytes())
    output = cli.ok("devices", "revoke", "gate-01")
    assert "no pid file configured" in output  # told to reload the broker by hand
    cli.ok("devices", "revoke", "gate-02")
    assert "gate-01:" not in (tmp_path / "etc" / "passwd").read_text()
    assert "user gate-0" not in (tmp_path / "etc" / "acl").read_text()
    crl = x509.load_pem_x509_crl((tmp_path / "etc" / "crl.pem").read_bytes())
    assert crl.get_revoked_certificate_by_serial_number(serial.serial_number) is not None
    assert "revoked" in cli.ok("devices", "list")


@pytest.mark.parametrize(
    ("args", "code", "message"),
    [
        (["devices", "add", "gate-01", "--site", "site/a"], 2, "site id 'site/a' is not valid"),
        (["devices", "add", "gate 1", "--site", "s1"], 2, "device id 'gate 1' is not valid"),
        (["devices", "add", "gridgate-hub", "--site", "s1"], 2, "the hub's broker user"),
        (["devices", "add", "gate-01", "--site", "s1"], 3, "device gate-01 exists"),
        (["devices", "revoke", "gate-99"], 4, "no device 'gate-99'"),
        (["devices", "add", "gate-02", "--site", "s1", "--kind", "robot"], 2, "robot"),
    ],
)
def test_cli_errors_are_clear(
    cli: Cli, tmp_path: Path, args: list[str], code: int, message: str
) -> None:
    cli.configure()
    cli.ok("devices", "add", "gate-01", "--site", "s1", "--out", str(tmp_path / "first"))
    out = ["--out", str(tmp_path / "again")] if args[1] == "add" else []
    exit_code, output = cli.run(*args, *out)
    assert exit_code == code, output
    assert message in " ".join(output.split()), output
    assert not (tmp_path / "again").exists()


def test_add_before_the_broker_is_configured_says_what_to_do(cli: Cli) -> None:
    code, output = cli.run("devices", "add", "gate-01", "--site", "s1")
    assert code == 2
    assert "gridgate-hub broker config" in output


def test_a_revoked_id_is_not_given_out_again(cli: Cli, tmp_path: Path) -> None:
    cli.configure()
    cli.ok("devices", "add", "gate-01", "--site", "s1", "--out", str(tmp_path / "b1"))
    cli.ok("devices", "revoke", "gate-01")
    code, output = cli.run("devices", "revoke", "gate-01")
    assert (code, "already revoked" in output) == (3, True)
    code, output = cli.run(
        "devices", "add", "gate-01", "--site", "s1", "--out", str(tmp_path / "b2")
    )
    assert (code, "not reused" in output) == (3, True)


def test_broker_config_refuses_bad_options(cli: Cli, tmp_path: Path) -> None:
    code, output = cli.run(
        "broker", "config", "--out", str(tmp_path / "etc"), "--host", "h",
        "--tls-port", "0", "--cert-port", "0",
    )  # fmt: skip
    assert code == 2 and "need a listener" in output
    assert not (tmp_path / "etc").exists()
