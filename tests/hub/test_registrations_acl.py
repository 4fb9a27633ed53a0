"""Broker rights for self-registration: a kiosk publishes only its own registrations topic and
reads only its own acks; gates get neither; the hub reads them all (shared) and writes acks."""

from __future__ import annotations

from hub.devices.acl import render_acl
from hub.devices.passwords import hash_password
from hub.devices.registry import RegisteredDevice
from models import topics
from models.base import utc_now
from models.topics import DeviceChannel
from tests.hub.test_broker_security import SITE_A, SITE_B, Peer, Secured, secured

__all__ = ["secured"]  # the real broker with the generated configuration


def _device(device_id: str, site_id: str, kind: str) -> RegisteredDevice:
    return RegisteredDevice(
        device_id=device_id,
        site_id=site_id,
        kind=kind,
        created_at=utc_now(),
        revoked_at=None,
        password_hash=hash_password("x"),
        cert_serial=None,
        cert_fingerprint=None,
    )


def test_the_acl_gives_registration_rights_to_kiosks_only() -> None:
    text = render_acl(
        "gridgate-hub",
        "hub",
        [_device("kiosk-01", "site-a", "kiosk"), _device("g", "site-a", "gate")],
    )
    blocks = {b.splitlines()[1]: b.splitlines() for b in text.split("\n\n")[1:]}
    kiosk, gate, hub = blocks["user kiosk-01"], blocks["user g"], blocks["user gridgate-hub"]
    assert f"topic write {topics.registrations('site-a', 'kiosk-01')}" in kiosk
    assert f"topic read {topics.registration_ack('site-a', 'kiosk-01')}" in kiosk
    assert not [line for line in gate if "registrations" in line]
    assert not [r for r in kiosk if r.startswith("topic") and ("+" in r or "#" in r)]
    wanted = topics.all_devices(DeviceChannel.REGISTRATIONS)
    assert f"topic read {topics.shared(wanted)}" in hub
    assert f"topic write {topics.all_devices(DeviceChannel.REGISTRATION_ACK)}" in hub


def test_on_the_real_broker_only_the_kiosk_may_send_registrations(secured: Secured) -> None:
    bundle = secured.tmp / "kiosk-a2-bundle"
    kiosk = Peer(
        secured.cert_port,
        ca=bundle / "ca.cert.pem",
        cert=bundle / "client.cert.pem",
        key=bundle / "client.key.pem",
    )
    gate, hub = secured.device("gate-a1"), secured.hub()
    assert kiosk.accepted() and gate.accepted() and hub.accepted()
    hub.subscribe(topics.shared(topics.all_devices(DeviceChannel.REGISTRATIONS)))
    kiosk.subscribe(
        topics.registration_ack(SITE_A, "kiosk-a2"),
        topics.all_devices(DeviceChannel.REGISTRATION_ACK),
    )
    own = topics.registrations(SITE_A, "kiosk-a2")
    assert str(gate.publish(topics.registrations(SITE_A, "gate-a1"))) == "Not authorized"
    assert str(kiosk.publish(topics.registrations(SITE_B, "kiosk-a2"))) == "Not authorized"
    assert str(kiosk.publish(topics.registration_ack(SITE_A, "kiosk-a2"))) == "Not authorized"
    assert not kiosk.publish(own, b"1").is_failure
    assert hub.topics_until({own}) == [own]
    assert not hub.publish(topics.registration_ack(SITE_A, "gate-a1")).is_failure
    assert not hub.publish(topics.registration_ack(SITE_A, "kiosk-a2")).is_failure
    assert kiosk.topics_until({topics.registration_ack(SITE_A, "kiosk-a2")}) == [
        topics.registration_ack(SITE_A, "kiosk-a2")
    ]  # the gate's ack, published first, was not delivered to the kiosk
    for peer in (kiosk, gate, hub):
        peer.close()
