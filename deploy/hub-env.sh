#!/usr/bin/env bash
# Run a gridgate-hub command with the hub's broker password taken from its data dir.
#
#   hub-env.sh gridgate-hub run
#
# `gridgate-hub broker config` keeps the hub's MQTT password in
# $GRIDGATE_HUB_DATA_DIR/broker/hub.password (0600); the hub reads settings only from
# GRIDGATE_HUB_* variables, so this exports GRIDGATE_HUB_MQTT_PASSWORD from that file
# (unless already set) and execs the command. Used by the systemd units and the container.
set -euo pipefail
if [ $# -eq 0 ]; then
    echo "usage: hub-env.sh COMMAND [ARG...]" >&2
    exit 2
fi
secret="${GRIDGATE_HUB_DATA_DIR:-var/hub}/broker/hub.password"
if [ -z "${GRIDGATE_HUB_MQTT_PASSWORD:-}" ] && [ -r "$secret" ]; then
    GRIDGATE_HUB_MQTT_PASSWORD="$(<"$secret")"
    export GRIDGATE_HUB_MQTT_PASSWORD
fi
exec "$@"
