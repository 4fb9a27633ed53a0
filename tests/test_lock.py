"""uv.lock installs from wheels on the fleet's platforms: linux x86_64 and aarch64.

No compiled dependency may fall back to a source build on either (dlib's would take an
hour on a Raspberry Pi), and ``dlib`` itself must be out of the install plan.
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
from packaging.markers import Marker
from packaging.tags import Tag
from packaging.utils import parse_wheel_filename

LOCK = Path(__file__).resolve().parents[1] / "uv.lock"
ARCHES = ("x86_64", "aarch64")
PYTHONS = ("3.11", "3.12", "3.13")
MUST_HAVE_WHEELS = ("dlib-bin", "opencv-python-headless", "numpy", "zxing-cpp", "pyzbar")
# Data-only distribution published as an sdist: nothing to compile.
SDIST_ONLY_PURE = {"face-recognition-models"}


def _packages() -> list[dict[str, Any]]:
    data = tomllib.loads(LOCK.read_text(encoding="utf-8"))
    packages: list[dict[str, Any]] = data["package"]
    return packages


def _env(python: str, arch: str) -> dict[str, str]:
    return {
        "python_version": python,
        "python_full_version": f"{python}.0",
        "platform_machine": arch,
        "sys_platform": "linux",
        "platform_system": "Linux",
        "os_name": "posix",
        "implementation_name": "cpython",
        "platform_python_implementation": "CPython",
        "extra": "",
    }


def _applies(package: dict[str, Any], python: str, arch: str) -> bool:
    markers = package.get("resolution-markers")
    if not markers:
        return True
    return any(Marker(m).evaluate(_env(python, arch)) for m in markers)


def _tag_fits(tag: Tag, python: str, arch: str) -> bool:
    cp = "cp" + python.replace(".", "")
    minor = int(python.split(".")[1])
    if tag.interpreter == cp and tag.abi in {cp, "abi3", "none"}:
        interp_ok = True
    elif tag.abi == "abi3" and tag.interpreter.startswith("cp3"):
        interp_ok = int(tag.interpreter[3:]) <= minor
    else:
        interp_ok = tag.interpreter in {"py3", "py2.py3", f"py3{minor}"} and tag.abi == "none"
    if not interp_ok:
        return False
    if tag.platform == "any":
        return True
    return bool(re.fullmatch(rf"(manylinux\w*|linux)_{arch}", tag.platform))


def _has_wheel(package: dict[str, Any], python: str, arch: str) -> bool:
    for wheel in package.get("wheels", []):
        filename = wheel["url"].rsplit("/", 1)[-1]
        _, _, _, tags = parse_wheel_filename(filename)
        if any(_tag_fits(tag, python, arch) for tag in tags):
            return True
    return False


def test_dlib_source_build_is_out_of_the_plan() -> None:
    names = {p["name"] for p in _packages()}
    assert "dlib" not in names
    assert "dlib-bin" in names
    face = next(p for p in _packages() if p["name"] == "face-recognition")
    assert "dlib" not in {d["name"] for d in face.get("dependencies", [])}


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("python", PYTHONS)
def test_every_package_installs_from_a_wheel(python: str, arch: str) -> None:
    missing = []
    for package in _packages():
        if package.get("source", {}).get("editable") or package.get("source", {}).get("virtual"):
            continue
        if not _applies(package, python, arch) or package["name"] in SDIST_ONLY_PURE:
            continue
        if not _has_wheel(package, python, arch):
            missing.append(f"{package['name']}=={package['version']}")
    assert missing == [], f"no wheel for cp{python} linux {arch}: {missing}"


@pytest.mark.parametrize("arch", ARCHES)
@pytest.mark.parametrize("name", MUST_HAVE_WHEELS)
def test_compiled_vision_stack_has_wheels_for_the_fleet(name: str, arch: str) -> None:
    candidates = [p for p in _packages() if p["name"] == name and _applies(p, "3.11", arch)]
    assert candidates, f"{name} is not in uv.lock for cp311 {arch}"
    assert all(_has_wheel(p, "3.11", arch) for p in candidates)


def test_the_sdist_only_exception_is_really_pure() -> None:
    for package in _packages():
        if package["name"] in SDIST_ONLY_PURE:
            assert package.get("wheels", []) == [] or _has_wheel(package, "3.11", "aarch64")
            assert not package.get("dependencies") or all(
                d["name"] in {"setuptools"} for d in package["dependencies"]
            )
