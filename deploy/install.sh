#!/usr/bin/env bash
# Install gridgate as versioned releases on Debian, Raspberry Pi OS and Ubuntu (arm64, x86_64).
#
#   deploy/install.sh install  [--role edge|hub] [--version V]   system packages, the `gridgate`
#                                      user, a release from this checkout, units, journald limits
#   deploy/install.sh upgrade  [--version V]   a release from this checkout, switch, restart
#                                      (and switch back if a running service fails to restart)
#   deploy/install.sh rollback [V]     switch back to the previous (or the named) release, restart
#   deploy/install.sh list             the releases; `current` and `previous` marked
#   deploy/install.sh prune [--keep N] delete old releases (never current or previous)
#
# Layout (PREFIX=/opt/gridgate):
#   PREFIX/releases/<V>/venv    the uv environment from uv.lock (dlib-bin wheels, no builds)
#   PREFIX/releases/<V>/bin     hub-env.sh;  .../share  units, example config, DEPLOY.md, uv.lock
#   PREFIX/releases/<V>/RELEASE version, commit, lock digest, build time
#   PREFIX/current, PREFIX/previous   relative symlinks into releases/, switched atomically
#
# Options: --prefix DIR (/opt/gridgate); --root DIR stages everything under DIR and skips apt,
# users, udev and systemctl (what tests/test_deploy.py uses); --offline (uv cache only);
# --source DIR (checkout to build from; default this script's); --python SPEC (uv's --python);
# --no-compile skips byte-compiling (the venv is read-only under the unit, so it is the default).
set -Eeuo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
SRC="$(cd "$SCRIPT_DIR/.." && pwd)"
PREFIX=/opt/gridgate
ROOT=""
ROLE=edge
VERSION=""
OFFLINE=()
COMPILE=(--compile-bytecode)
PYTHON=()
KEEP=3
COMMAND=""
TARGET=""
UNITS=(gridgate-edge.service gridgate-hub.service "gridgate-hub-ingest@.service")
LINKED_COMMANDS=(gridgate gridgate-edge gridgate-hub)

say() { echo "gridgate install: $*" >&2; }
die() {
    say "$*"
    exit 2
}
usage() {
    sed -n '2,/^set -E/p' "${BASH_SOURCE[0]}" | sed '$d' | sed 's/^# \{0,1\}//' >&2
    exit 2
}

while [ $# -gt 0 ]; do
    case "$1" in
    install | upgrade | rollback | list | prune) COMMAND="$1" ;;
    --role) ROLE="${2:?--role needs edge or hub}" && shift ;;
    --version) VERSION="${2:?--version needs a value}" && shift ;;
    --prefix) PREFIX="${2:?--prefix needs a directory}" && shift ;;
    --root) ROOT="$(realpath -m "${2:?--root needs a directory}")" && shift ;;
    --source) SRC="$(cd "${2:?--source needs a directory}" && pwd)" && shift ;;
    --python) PYTHON=(--python "${2:?--python needs a version}") && shift ;;
    --keep) KEEP="${2:?--keep needs a number}" && shift ;;
    --offline) OFFLINE=(--offline) ;;
    --no-compile) COMPILE=() ;;
    -h | --help) usage ;;
    -*) die "unknown option $1 (see --help)" ;;
    *)
        [ "$COMMAND" = rollback ] && [ -z "$TARGET" ] || die "unexpected argument $1 (see --help)"
        TARGET="$1"
        ;;
    esac
    shift
done
[ -n "$COMMAND" ] || usage
case "$ROLE" in edge | hub) ;; *) die "--role must be edge or hub, not $ROLE" ;; esac
[[ "$KEEP" =~ ^[1-9][0-9]*$ ]] || die "--keep must be a positive number"
[[ "$PREFIX" = /* ]] || die "--prefix must be absolute"

HOME_DIR="$ROOT$PREFIX"       # where the prefix is on this machine
RELEASES="$HOME_DIR/releases"
STAGING=$([ -n "$ROOT" ] && echo 1 || echo 0)
# upgrade and rollback install the units and files of the role chosen at install
if [ "$COMMAND" != install ] && [ -f "$HOME_DIR/role" ]; then
    ROLE="$(<"$HOME_DIR/role")"
fi

# -- helpers --------------------------------------------------------------------------------

host() {
    # Run a command that changes the host (apt, users, systemctl); staged installs skip it.
    if [ "$STAGING" = 1 ]; then
        say "staged: skipping: $*"
        return 0
    fi
    "$@"
}

need_root() {
    [ "$STAGING" = 1 ] || [ "$(id -u)" -eq 0 ] || die "run as root (sudo $0 $COMMAND ...), or stage with --root DIR"
}

default_version() {
    local version commit
    version="$(sed -n 's/^version = "\(.*\)"$/\1/p' "$SRC/pyproject.toml" | head -1)"
    commit="$(git -C "$SRC" rev-parse --short HEAD 2>/dev/null || true)"
    echo "${version:-0}${commit:+-$commit}"
}

release_of() {
    # The release name a symlink (current, previous) points at, or nothing.
    local link="$HOME_DIR/$1"
    [ -L "$link" ] && basename "$(readlink "$link")" || true
}

point() {
    # Atomically point PREFIX/<name> at releases/<version>.
    ln -sfn "releases/$2" "$HOME_DIR/.$1.new"
    mv -Tf "$HOME_DIR/.$1.new" "$HOME_DIR/$1"
}

switch_to() {
    local target="$1" was
    [ -f "$RELEASES/$target/RELEASE" ] || die "no complete release $target in $RELEASES"
    was="$(release_of current)"
    if [ "$was" = "$target" ]; then
        say "release $target is already current"
        return 0
    fi
    [ -n "$was" ] && point previous "$was"
    point current "$target"
    say "current -> $target${was:+ (previous -> $was)}"
}

find_uv() {
    if [ -n "${GRIDGATE_UV:-}" ]; then
        echo "$GRIDGATE_UV"
    else
        "$SRC/deploy/bootstrap-uv.sh"
    fi
}

build_release() {
    local version="$1" dir="$RELEASES/$1" uv
    [[ "$version" =~ ^[A-Za-z0-9][A-Za-z0-9._+-]*$ ]] || die "bad version name: $version"
    if [ -f "$dir/RELEASE" ]; then
        say "release $version exists; reusing it"
        return 0
    fi
    uv="$(find_uv)"
    rm -rf "$dir"
    mkdir -p "$dir/bin" "$dir/share"
    # The venv's scripts name their interpreter by absolute path, so build in place and mark
    # the release complete (RELEASE) last; a failed build is removed.
    trap 'rm -rf "$dir"' ERR
    say "building release $version from $SRC (uv.lock, no dev dependencies)"
    UV_PROJECT_ENVIRONMENT="$dir/venv" UV_PYTHON_INSTALL_DIR="$HOME_DIR/python" \
        "$uv" sync --project "$SRC" --frozen --no-dev --no-editable --quiet \
        "${OFFLINE[@]}" "${COMPILE[@]}" "${PYTHON[@]}"
    "$dir/venv/bin/gridgate-edge" --help >/dev/null
    "$dir/venv/bin/python" -c "import cv2, dlib, zxingcpp, pyzbar.pyzbar"  # native libraries load
    install -m 0755 "$SRC/deploy/hub-env.sh" "$dir/bin/hub-env.sh"
    cp -r "$SRC/deploy/systemd" "$SRC/deploy/journald" "$SRC/deploy/udev" "$dir/share/"
    cp "$SRC/deploy/config/edge.example.yaml" "$SRC/uv.lock" "$dir/share/"
    [ -f "$SRC/docs/DEPLOY.md" ] && cp "$SRC/docs/DEPLOY.md" "$dir/share/"
    {
        echo "version=$version"
        echo "commit=$(git -C "$SRC" rev-parse HEAD 2>/dev/null || echo unknown)"
        echo "lock_sha256=$(sha256sum "$SRC/uv.lock" | cut -d' ' -f1)"
        echo "python=$("$dir/venv/bin/python" -c 'import platform; print(platform.python_version(), platform.machine())')"
        echo "built=$(date -u +%Y-%m-%dT%H:%M:%SZ)"
    } >"$dir/RELEASE.new"
    mv "$dir/RELEASE.new" "$dir/RELEASE"
    trap - ERR
    say "release $version ready ($(du -sh "$dir" | cut -f1))"
}

render_unit() {
    # A unit from the current release with the prefix substituted.
    sed "s#/opt/gridgate#$PREFIX#g" "$HOME_DIR/current/share/systemd/$1" >"$ROOT/etc/systemd/system/$1"
}

install_files() {
    local cmd
    mkdir -p "$ROOT/etc/systemd/system" "$ROOT/etc/systemd/journald.conf.d" "$ROOT/usr/local/bin"
    for unit in "${UNITS[@]}"; do render_unit "$unit"; done
    cp "$HOME_DIR/current/share/journald/gridgate.conf" "$ROOT/etc/systemd/journald.conf.d/"
    for cmd in "${LINKED_COMMANDS[@]}"; do
        ln -sfn "$HOME_DIR/current/venv/bin/$cmd" "$ROOT/usr/local/bin/$cmd"
    done
    if [ "$ROLE" = edge ]; then
        mkdir -p "$ROOT/etc/udev/rules.d"
        cp "$HOME_DIR/current/share/udev/90-gridgate-gpio.rules" "$ROOT/etc/udev/rules.d/"
    fi
}

install_config() {
    # /etc/gridgate (root:gridgate 0750, files group-readable; for the edge 1770 with edge.yaml
    # the agent's own); existing files are kept.
    local etc="$ROOT/etc/gridgate"
    mkdir -p "$etc"
    chmod 0750 "$etc"
    if [ "$ROLE" = edge ] && [ ! -f "$etc/edge.yaml" ]; then
        install -m 0640 "$HOME_DIR/current/share/edge.example.yaml" "$etc/edge.yaml"
        say "wrote $etc/edge.yaml from the example: set device_id, site_id, capture, mqtt"
        FRESH_CONFIG=1
    fi
    if [ "$ROLE" = hub ] && [ ! -f "$etc/hub.env" ]; then
        (
            umask 077
            {
                echo "# gridgate hub settings (hub/config.py); see docs/DEPLOY.md"
                echo "GRIDGATE_HUB_SECRET_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')"
                echo "GRIDGATE_HUB_IDENTITY_KEY=$(head -c 32 /dev/urandom | base64 | tr -d '=+/\n')"
                echo "# GRIDGATE_HUB_DATABASE_URL=postgresql+psycopg://gridgate@localhost/gridgate"
                echo "GRIDGATE_HUB_MQTT_USERNAME=gridgate-hub"
                echo "GRIDGATE_HUB_API_HOST=127.0.0.1"
            } >"$etc/hub.env"
        )
        chmod 0640 "$etc/hub.env"
        say "wrote $etc/hub.env with new secret keys"
        FRESH_CONFIG=1
    fi
    # the agent reads its config and the device bundle's keys through the group
    chmod -R g+rX,o-rwx "$etc"
    host chown root:gridgate "$etc"
    host chgrp -R gridgate "$etc"
    if [ "$ROLE" = edge ]; then
        # A config the hub pushes replaces edge.yaml (keeping edge.yaml.prev): the agent may
        # create files here, and the sticky bit lets it rename over only the files it owns.
        chmod 1770 "$etc"
        host chown gridgate:gridgate "$etc/edge.yaml"
    fi
}

system_setup() {
    local packages=(libzbar0 python3 python3-venv ca-certificates) missing=() pkg
    [ "$ROLE" = hub ] && packages+=(mosquitto)
    for pkg in "${packages[@]}"; do
        dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" ||
            missing+=("$pkg")
    done
    if [ ${#missing[@]} -gt 0 ]; then
        host env DEBIAN_FRONTEND=noninteractive apt-get update -qq
        host env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
    fi
    if [ "$STAGING" = 0 ]; then
        getent group gpio >/dev/null || groupadd --system gpio
        getent group video >/dev/null || groupadd --system video
        getent passwd gridgate >/dev/null ||
            useradd --system --user-group --home-dir /var/lib/gridgate --no-create-home \
                --shell /usr/sbin/nologin --comment "gridgate services" gridgate
        usermod -a -G video,gpio gridgate
    fi
    local data="/var/lib/gridgate-$ROLE"
    mkdir -p "$ROOT$data"
    chmod 0700 "$ROOT$data"
    host chown gridgate:gridgate "$ROOT$data"
}

restart_services() {
    # Restart the gridgate units that are running; if one fails, go back and restart again.
    local failed_back="$1"
    [ "$STAGING" = 1 ] && {
        say "staged: not restarting services"
        return 0
    }
    systemctl daemon-reload
    if systemctl try-restart gridgate-edge.service gridgate-hub.service 'gridgate-hub-ingest@*.service'; then
        return 0
    fi
    if [ -n "$failed_back" ]; then
        say "a service failed to restart on $(release_of current); rolling back to $failed_back"
        switch_to "$failed_back"
        systemctl try-restart gridgate-edge.service gridgate-hub.service 'gridgate-hub-ingest@*.service' || true
    fi
    die "services failed to restart: journalctl -u 'gridgate-*' -n 50"
}

lock() {
    mkdir -p "$RELEASES"
    exec 9>"$HOME_DIR/.lock"
    flock -n 9 || die "another install.sh is running on $HOME_DIR"
}

# -- commands -------------------------------------------------------------------------------

FRESH_CONFIG=0
case "$COMMAND" in
install)
    need_root
    lock
    system_setup
    version="${VERSION:-$(default_version)}"
    build_release "$version"
    switch_to "$version"
    echo "$ROLE" >"$HOME_DIR/role"
    install_files
    install_config
    host systemctl daemon-reload
    host systemctl restart systemd-journald
    if [ "$ROLE" = edge ]; then
        host udevadm control --reload
        host udevadm trigger --subsystem-match=gpio
        host systemctl enable gridgate-edge.service
    else
        host systemctl enable gridgate-hub.service
    fi
    if [ "$FRESH_CONFIG" = 1 ]; then
        say "installed; edit the configuration, then: systemctl start gridgate-$ROLE"
    else
        host systemctl restart "gridgate-$ROLE.service"
        say "installed and (re)started gridgate-$ROLE"
    fi
    ;;
upgrade)
    need_root
    [ -L "$HOME_DIR/current" ] || die "nothing installed under $HOME_DIR: run install first"
    lock
    was="$(release_of current)"
    version="${VERSION:-$(default_version)}"
    build_release "$version"
    switch_to "$version"
    install_files
    restart_services "$was"
    say "upgraded to $(release_of current)"
    ;;
rollback)
    need_root
    lock
    target="${TARGET:-$(release_of previous)}"
    [ -n "$target" ] || die "no previous release to roll back to"
    switch_to "$target"
    install_files
    restart_services ""
    say "rolled back to $(release_of current)"
    ;;
list)
    current="$(release_of current)" previous="$(release_of previous)"
    [ -d "$RELEASES" ] || die "nothing installed under $HOME_DIR"
    for dir in $(ls -1tr "$RELEASES"); do
        mark=" "
        [ "$dir" = "$previous" ] && mark="p"
        [ "$dir" = "$current" ] && mark="*"
        echo "$mark $dir  $(sed -n 's/^built=//p' "$RELEASES/$dir/RELEASE" 2>/dev/null || echo incomplete)"
    done
    ;;
prune)
    need_root
    lock
    current="$(release_of current)" previous="$(release_of previous)"
    kept=0
    for dir in $(ls -1t "$RELEASES"); do
        if [ "$dir" = "$current" ] || [ "$dir" = "$previous" ] || [ "$kept" -lt "$KEEP" ]; then
            kept=$((kept + 1))
            continue
        fi
        rm -rf "${RELEASES:?}/$dir"
        say "deleted release $dir"
    done
    ;;
esac
