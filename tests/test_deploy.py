"""Deployment: scripts, systemd units, the release layout with upgrade and rollback, the
compose stack, and the agent's sd_notify readiness and watchdog over a real unix socket.

The release tests stage ``deploy/install.sh`` into a temp root (no apt, users or systemctl)
with ``uv sync --offline`` from uv's cache, as ``make setup`` leaves it; they skip when the
cache cannot provide the locked wheels.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import cv2
import pytest
import yaml

from edge.app import EdgeAgent
from edge.capture import CaptureConfig
from edge.config import EdgeConfig
from edge.decoders.faces.config import FaceConfig
from edge.notify import SystemdNotifier, socket_address, watchdog_interval
from edge.publish.config import MqttConfig
from edge.simulate.scenes import Scene, render
from tests.support.broker import MosquittoBroker

REPO = Path(__file__).resolve().parents[1]
DEPLOY = REPO / "deploy"
INSTALL = DEPLOY / "install.sh"
UNITS = DEPLOY / "systemd"
OFFLINE_MISS = "Network connectivity is disabled"
"""uv's message when --offline needs something its cache lacks."""


def _install(*args: str | Path, check: bool = True) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(INSTALL), *map(str, args)], capture_output=True, text=True, timeout=300
    )
    if check and result.returncode != 0:
        if OFFLINE_MISS in result.stderr:
            pytest.skip("uv's cache lacks the locked wheels (run `make setup` once)")
        pytest.fail(f"install.sh {' '.join(map(str, args))}: {result.stderr}")
    return result


def _stage(root: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return _install(*args, "--root", root, check=False)


def _target(link: Path) -> str:
    return link.readlink().name


@pytest.fixture(scope="module")
def staged() -> Iterator[Path]:
    """A staged edge install of release 1.0.0 upgraded to 1.0.1 (two real uv builds)."""
    root = Path(tempfile.mkdtemp(prefix="gridgate-stage-"))
    try:
        _install("install", "--root", root, "--offline", "--no-compile", "--version", "1.0.0")
        _install("upgrade", "--root", root, "--offline", "--no-compile", "--version", "1.0.1")
        yield root
    finally:
        shutil.rmtree(root, ignore_errors=True)


# --- scripts ---------------------------------------------------------------------------------


def test_every_script_parses() -> None:
    scripts = sorted(DEPLOY.rglob("*.sh"))
    assert INSTALL in scripts and len(scripts) >= 6
    for script in scripts:
        result = subprocess.run(["bash", "-n", str(script)], capture_output=True, text=True)
        assert result.returncode == 0, f"{script}: {result.stderr}"
        assert os.access(script, os.X_OK), f"{script} is not executable"


def test_hub_env_exports_the_broker_password(tmp_path: Path) -> None:
    (tmp_path / "broker").mkdir()
    (tmp_path / "broker" / "hub.password").write_text("s3cret\n", encoding="utf-8")
    env = {"PATH": os.environ["PATH"], "GRIDGATE_HUB_DATA_DIR": str(tmp_path)}
    command = [str(DEPLOY / "hub-env.sh"), "sh", "-c", 'echo "$GRIDGATE_HUB_MQTT_PASSWORD"']
    out = subprocess.run(command, env=env, capture_output=True, text=True, check=True)
    assert out.stdout == "s3cret\n"
    given = {**env, "GRIDGATE_HUB_MQTT_PASSWORD": "explicit"}
    out = subprocess.run(command, env=given, capture_output=True, text=True, check=True)
    assert out.stdout == "explicit\n"
    refused = subprocess.run([str(DEPLOY / "hub-env.sh")], capture_output=True, text=True)
    assert refused.returncode == 2


# --- systemd units ---------------------------------------------------------------------------


def _settings(unit: Path) -> dict[str, list[str]]:
    """Every ``Key=value`` of a unit (keys may repeat)."""
    found: dict[str, list[str]] = {}
    for line in unit.read_text(encoding="utf-8").splitlines():
        if "=" in line and not line.startswith(("#", "[")):
            key, value = line.split("=", 1)
            found.setdefault(key, []).append(value)
    return found


def test_edge_unit_is_hardened_with_a_watchdog() -> None:
    unit = _settings(UNITS / "gridgate-edge.service")
    assert unit["Type"] == ["notify"]
    assert unit["Restart"] == ["on-failure"]
    assert int(unit["WatchdogSec"][0]) >= 10
    assert unit["ProtectSystem"] == ["strict"]
    # /etc/gridgate for pushed configs (sticky, edge.yaml the agent's: see install.sh)
    assert unit["ReadWritePaths"] == ["/var/lib/gridgate-edge /etc/gridgate"]
    assert unit["NoNewPrivileges"] == unit["PrivateTmp"] == ["yes"]
    assert unit["User"] == ["gridgate"]
    assert set(unit["SupplementaryGroups"][0].split()) == {"video", "gpio"}
    assert unit["CapabilityBoundingSet"] == [""]
    assert unit["ExecStart"] == [
        "/opt/gridgate/current/venv/bin/gridgate-edge run /etc/gridgate/edge.yaml"
    ]


def test_hub_units_run_from_the_current_release() -> None:
    hub = _settings(UNITS / "gridgate-hub.service")
    worker = _settings(UNITS / "gridgate-hub-ingest@.service")
    assert hub["ExecStart"][0].endswith("/venv/bin/gridgate-hub run")
    assert worker["ExecStart"][0].endswith("gridgate-hub ingest --client-id hub-ingest-%i")
    for unit in (hub, worker):
        assert unit["ExecStart"][0].startswith("/opt/gridgate/current/bin/hub-env.sh ")
        assert unit["EnvironmentFile"] == ["/etc/gridgate/hub.env"]
        assert unit["ReadWritePaths"] == ["/var/lib/gridgate-hub"]
        assert unit["ProtectSystem"] == ["strict"]
        assert unit["Restart"] == ["on-failure"]
    # a dead worker's session stops taking a share of events within a minute (SCALING.md)
    assert "GRIDGATE_HUB_SESSION_EXPIRY_S=60" in worker["Environment"]
    assert not any("SESSION_EXPIRY" in line for line in hub.get("Environment", []))


def _rendered_units(staged: Path, tmp_path: Path) -> list[Path]:
    """The units as install.sh renders them, pointing at the staged prefix."""
    prefix = staged / "opt" / "gridgate"
    out = []
    for template in sorted(UNITS.glob("*.service")):
        text = template.read_text(encoding="utf-8").replace("/opt/gridgate", str(prefix))
        name = template.name.replace("@.service", "@2.service")
        (tmp_path / template.name).write_text(text, encoding="utf-8")
        out.append(tmp_path / name)
    return out


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_verify_cleanly(staged: Path, tmp_path: Path) -> None:
    units = _rendered_units(staged, tmp_path)
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", *map(str, units)],
        capture_output=True,
        text=True,
        cwd=tmp_path,
    )
    assert result.returncode == 0 and not result.stdout + result.stderr, result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_unit_verification_catches_a_typo(staged: Path, tmp_path: Path) -> None:
    edge = next(u for u in _rendered_units(staged, tmp_path) if u.name.startswith("gridgate-edge"))
    edge.write_text(edge.read_text().replace("ProtectSystem=", "ProtectSystm="), encoding="utf-8")
    result = subprocess.run(
        ["systemd-analyze", "verify", "--man=no", str(edge)], capture_output=True, text=True
    )
    assert "Unknown key 'ProtectSystm'" in result.stderr


@pytest.mark.skipif(shutil.which("systemd-analyze") is None, reason="no systemd-analyze")
def test_units_exposure_stays_low(staged: Path, tmp_path: Path) -> None:
    for unit in _rendered_units(staged, tmp_path):
        result = subprocess.run(
            ["systemd-analyze", "security", "--offline=true", "--threshold=25", str(unit)],
            capture_output=True,
            text=True,
            cwd=tmp_path,
        )
        score = re.search(r"Overall exposure level for \S+: ([\d.]+)", result.stdout)
        assert result.returncode == 0 and score is not None, result.stdout + result.stderr
        assert float(score.group(1)) <= 2.5, f"{unit.name}: exposure {score.group(1)}"


# --- the release layout: install, upgrade, rollback -----------------------------------------


def test_install_stages_the_release_layout(staged: Path) -> None:
    prefix = staged / "opt" / "gridgate"
    release = prefix / "releases" / "1.0.0"
    facts = dict(line.split("=", 1) for line in (release / "RELEASE").read_text().splitlines())
    assert facts["version"] == "1.0.0"
    lock = subprocess.run(["sha256sum", str(REPO / "uv.lock")], capture_output=True, text=True)
    assert facts["lock_sha256"] == lock.stdout.split()[0]
    assert (release / "bin" / "hub-env.sh").is_file()
    unit = (staged / "etc/systemd/system/gridgate-edge.service").read_text()
    assert "/opt/gridgate/current/venv/bin/gridgate-edge run" in unit
    assert (staged / "etc/systemd/journald.conf.d/gridgate.conf").is_file()
    assert (staged / "etc/udev/rules.d/90-gridgate-gpio.rules").is_file()
    assert yaml.safe_load((staged / "etc/gridgate/edge.yaml").read_text())["device_id"]
    assert (staged / "var/lib/gridgate-edge").stat().st_mode & 0o777 == 0o700
    assert (staged / "etc/gridgate").stat().st_mode & 0o7777 == 0o1770  # pushed configs
    # the commands on PATH run the current release, non-editable (its own copy of edge/)
    command = staged / "usr/local/bin/gridgate-edge"
    run = subprocess.run(
        [str(command), "check-config", str(staged / "etc/gridgate/edge.yaml")],
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0 and run.stdout.startswith("ok: xintang/gate-"), run.stderr
    origin = subprocess.run(
        [str(prefix / "current/venv/bin/python"), "-I", "-c", "import edge; print(edge.__file__)"],
        capture_output=True,
        text=True,
        check=True,
        cwd=staged,
    )
    assert Path(origin.stdout.strip()).resolve().is_relative_to(prefix / "releases")


def test_upgrade_then_rollback_switch_current(staged: Path) -> None:
    prefix = staged / "opt" / "gridgate"
    assert (_target(prefix / "current"), _target(prefix / "previous")) == ("1.0.1", "1.0.0")
    assert "* 1.0.1" in _stage(staged, "list").stdout

    rolled = _stage(staged, "rollback")
    assert rolled.returncode == 0, rolled.stderr
    assert (_target(prefix / "current"), _target(prefix / "previous")) == ("1.0.0", "1.0.1")
    assert str((prefix / "current").readlink()) == "releases/1.0.0"  # relative: survives a move

    again = _stage(staged, "rollback", "1.0.1")
    assert again.returncode == 0, again.stderr
    assert (_target(prefix / "current"), _target(prefix / "previous")) == ("1.0.1", "1.0.0")


def test_rollback_to_a_missing_release_changes_nothing(staged: Path) -> None:
    prefix = staged / "opt" / "gridgate"
    before = _target(prefix / "current")
    result = _stage(staged, "rollback", "9.9.9")
    assert result.returncode == 2
    assert "no complete release 9.9.9" in result.stderr
    assert _target(prefix / "current") == before


def test_bad_options_are_refused(staged: Path, tmp_path: Path) -> None:
    releases = staged / "opt" / "gridgate" / "releases"
    before = sorted(p.name for p in releases.iterdir())
    cases = [
        (("upgrade", "--version", "../escape"), "bad version name"),
        (("install", "--role", "printer"), "--role must be edge or hub"),
        (("upgrade", "--frobnicate"), "unknown option --frobnicate"),
        (("prune", "--keep", "0"), "--keep must be a positive number"),
    ]
    for args, message in cases:
        result = _stage(staged, *args)
        assert result.returncode == 2 and message in result.stderr, (args, result.stderr)
    assert sorted(p.name for p in releases.iterdir()) == before
    nothing = _stage(tmp_path, "upgrade")
    assert nothing.returncode == 2 and "run install first" in nothing.stderr
    assert not any(tmp_path.iterdir())


def test_reinstall_keeps_the_edited_config(staged: Path) -> None:
    config = staged / "etc/gridgate/edge.yaml"
    edited = config.read_text().replace("gate-01", "gate-77")
    config.write_text(edited, encoding="utf-8")
    result = _stage(staged, "install", "--version", "1.0.1")  # exists: reused, not rebuilt
    assert result.returncode == 0, result.stderr
    assert "reusing it" in result.stderr
    assert config.read_text() == edited


def test_prune_keeps_current_and_previous(staged: Path) -> None:
    releases = staged / "opt" / "gridgate" / "releases"
    for old in ("0.8.0", "0.9.0"):
        (releases / old).mkdir()
        (releases / old / "RELEASE").write_text(f"version={old}\n")
        os.utime(releases / old, (1_000_000, 1_000_000))  # older than the real ones
    result = _stage(staged, "prune", "--keep", "1")
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in releases.iterdir()) == ["1.0.0", "1.0.1"]


# --- the compose stack -----------------------------------------------------------------------


def _compose() -> dict[str, Any]:
    data: dict[str, Any] = yaml.safe_load((DEPLOY / "compose" / "compose.yaml").read_text())
    return data


def test_compose_names_the_three_services_with_healthchecks() -> None:
    services = _compose()["services"]
    for name in ("hub", "mosquitto", "postgres"):
        check = services[name]["healthcheck"]
        assert check["test"] and not check.get("disable"), name
    assert services["hub"]["build"]["dockerfile"] == "deploy/compose/Dockerfile"
    assert services["hub"]["network_mode"] == "service:mosquitto"  # hub listener is loopback
    assert services["mosquitto"]["command"][-1] == "/mosquitto/gridgate/mosquitto.conf"
    assert services["hub"]["depends_on"]["mosquitto"]["condition"] == "service_healthy"
    assert "broker config" in services["hub-init"]["command"][-1]
    url = services["hub"]["environment"]["GRIDGATE_HUB_DATABASE_URL"]
    assert url.startswith("postgresql+psycopg://") and "@postgres:5432/" in url


def test_compose_scale_profile_adds_a_second_ingest_worker() -> None:
    services = _compose()["services"]
    worker = services["ingest-worker"]
    assert worker["profiles"] == ["scale"]  # only with `docker compose --profile scale up`
    assert worker["command"][:2] == ["gridgate-hub", "ingest"]
    client_id = worker["command"][worker["command"].index("--client-id") + 1]
    assert client_id != "gridgate-hub" and client_id.startswith("hub-ingest-")
    assert worker["network_mode"] == "service:mosquitto"  # the hub listener is loopback
    assert (
        worker["environment"]["GRIDGATE_HUB_DATABASE_URL"]
        == (services["hub"]["environment"]["GRIDGATE_HUB_DATABASE_URL"])
    )  # the same PostgreSQL
    assert worker["environment"]["GRIDGATE_HUB_SESSION_EXPIRY_S"] == "60"
    assert worker["healthcheck"]["disable"]  # no API: the image's check would probe the hub's
    assert worker["depends_on"]["hub"]["condition"] == "service_healthy"
    assert worker["build"] == services["hub"]["build"]  # the same image
    assert all("profiles" not in services[name] for name in ("hub", "mosquitto", "postgres"))


def test_dockerfile_installs_from_the_lock() -> None:
    text = (DEPLOY / "compose" / "Dockerfile").read_text()
    syncs = re.findall(r"uv sync ([^\n]+)", text)
    assert len(syncs) == 2 and all("--frozen" in s and "--no-dev" in s for s in syncs)
    assert "libzbar0" in text and "--gid 1883" in text and "--uid 1883" in text


# --- sd_notify -------------------------------------------------------------------------------


@pytest.fixture
def listener() -> Iterator[tuple[socket.socket, str]]:
    """A unix datagram socket standing in for systemd's NOTIFY_SOCKET."""
    folder = Path(tempfile.mkdtemp(prefix="gg-notify-"))  # short: unix paths max 107 bytes
    path = str(folder / "notify")
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind(path)
    sock.settimeout(10)
    yield sock, path
    sock.close()
    shutil.rmtree(folder)


def test_notifier_sends_ready_and_rate_limits_watchdog(
    listener: tuple[socket.socket, str],
) -> None:
    sock, path = listener
    now = [100.0]
    notifier = SystemdNotifier(path, watchdog_interval_s=5.0, clock=lambda: now[0])
    assert notifier.ready()
    assert sock.recv(64) == b"READY=1"
    assert notifier.watchdog()
    assert not notifier.watchdog()  # within half the period: no second ping
    now[0] += 5.0
    assert notifier.watchdog()
    assert sock.recv(64) == b"WATCHDOG=1"
    assert sock.recv(64) == b"WATCHDOG=1"
    sock.setblocking(False)
    with pytest.raises(BlockingIOError):
        sock.recv(64)  # exactly two pings arrived


def test_notifier_uses_abstract_sockets() -> None:
    name = f"gridgate-test-{os.getpid()}"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind("\0" + name)
        sock.settimeout(10)
        notifier = SystemdNotifier.from_env({"NOTIFY_SOCKET": "@" + name})
        assert notifier.ready()
        assert sock.recv(64) == b"READY=1"


def test_notifier_environment_parsing() -> None:
    pid = os.getpid()
    assert socket_address("@x") == "\0x" and socket_address("/run/n") == "/run/n"
    assert watchdog_interval({"WATCHDOG_USEC": "30000000"}, pid) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": str(pid)}, pid) == 15.0
    assert watchdog_interval({"WATCHDOG_USEC": "30000000", "WATCHDOG_PID": "1"}, pid) is None
    assert watchdog_interval({"WATCHDOG_USEC": "soon"}, pid) is None
    assert watchdog_interval({"WATCHDOG_USEC": "0"}, pid) is None
    assert watchdog_interval({}, pid) is None
    off = SystemdNotifier.from_env({"WATCHDOG_USEC": "30000000"})  # no socket: nothing to do
    assert not off.enabled and not off.ready() and not off.watchdog()


def test_notifier_survives_a_missing_socket(tmp_path: Path) -> None:
    notifier = SystemdNotifier(str(tmp_path / "gone"), watchdog_interval_s=1.0)
    assert not notifier.ready()  # logged once as a warning, never raised
    assert not notifier.watchdog()


def test_agent_reports_ready_then_pings_the_watchdog(
    listener: tuple[socket.socket, str],
    broker: MosquittoBroker,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    sock, path = listener
    frames = tmp_path / "frames"
    frames.mkdir()
    for i in range(3):
        cv2.imwrite(str(frames / f"{i:03d}.png"), render(Scene()))
    monkeypatch.setenv("NOTIFY_SOCKET", path)
    monkeypatch.setenv("WATCHDOG_USEC", "100000")  # a ping every 50 ms
    monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
    config = EdgeConfig(
        device_id="gate-01",
        site_id="site-a",
        data_dir=tmp_path / "data",
        capture=CaptureConfig(source=str(frames)),
        faces=FaceConfig(enabled=False),
        mqtt=MqttConfig(host=broker.host, port=broker.port),
    )
    agent = EdgeAgent(config)
    agent.start()
    received: list[bytes] = []
    try:
        while b"READY=1" not in received or received.count(b"WATCHDOG=1") < 2:
            received.append(sock.recv(64))  # each waits at most the socket's timeout
            assert len(received) < 1000, "no READY=1 among the pings"
    finally:
        agent.stop()
    assert set(received) == {b"READY=1", b"WATCHDOG=1"}
    assert received.count(b"READY=1") == 1
