#!/usr/bin/env bash
# Install the system packages gridgate needs on Debian, Ubuntu and Raspberry Pi OS.
#
#   libzbar0   the zbar library pyzbar loads at import time
#   mosquitto  the MQTT broker the demo and the tests start on their own ports
#
# Packages already present are left alone. Without root (and without sudo) the script
# prints the exact command to run and exits with status 2.
set -euo pipefail

PACKAGES=(libzbar0 mosquitto)
EXTRA=("$@")   # optional extra packages, e.g. `setup-system.sh postgresql chromium`

missing=()
for pkg in "${PACKAGES[@]}" "${EXTRA[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
        missing+=("$pkg")
    fi
done

if [ ${#missing[@]} -eq 0 ]; then
    echo "gridgate setup: system packages present (${PACKAGES[*]} ${EXTRA[*]})"
    exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
    echo "gridgate setup: missing ${missing[*]} and no apt-get on this system." >&2
    echo "Install them with your package manager (zbar shared library, mosquitto broker)." >&2
    exit 2
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then
        SUDO="sudo -n"
    else
        echo "gridgate setup: missing system packages: ${missing[*]}" >&2
        echo "Run as root:  apt-get update && apt-get install -y ${missing[*]}" >&2
        exit 2
    fi
fi

echo "gridgate setup: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}"
# Debian enables a system-wide broker on 1883; gridgate never relies on it and starts its own.
