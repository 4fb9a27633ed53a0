#!/usr/bin/env bash
# Prove the edge installs and scans on arm64: a Debian arm64 root under qemu-user emulation.
#
#   sudo deploy/arm64-proof.sh [ROOTFS]      (default /var/tmp/gridgate-arm64/rootfs)
#
# 1. registers qemu-aarch64 with binfmt_misc (qemu-user-static's entry; mounts binfmt_misc
#    when needed: works in a privileged container);
# 2. debootstraps Debian bookworm arm64 (minbase + python3, python3-venv, libzbar0), reused
#    when ROOTFS already has one;
# 3. copies this checkout in and runs `deploy/install.sh install --root /` inside it (uv and
#    the aarch64 wheels from PyPI; the chroot has no init, so host steps are skipped);
# 4. renders a gate image on the host (a face photo and a door-plate QR code) and runs
#    `gridgate-edge scan` on it inside the arm64 root: zxing-cpp, OpenCV and dlib-bin, emulated.
# Needs root, network to deb.debian.org and PyPI, and about 2 GB. Delete ROOTFS afterwards.
set -euo pipefail

ROOT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
ROOTFS="$(realpath -m "${1:-/var/tmp/gridgate-arm64/rootfs}")"
MIRROR="${GRIDGATE_DEBIAN_MIRROR:-http://deb.debian.org/debian}"
say() { echo "arm64 proof: $*" >&2; }

[ "$(id -u)" -eq 0 ] || {
    say "run as root (binfmt_misc, debootstrap and chroot need it)"
    exit 2
}

# 1. emulation
missing=()
for pkg in qemu-user-static debootstrap; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi
BINFMT=/proc/sys/fs/binfmt_misc
if [ ! -e "$BINFMT/register" ]; then
    # a container (or a host without systemd's automount) has the directory but nothing mounted
    mount -t binfmt_misc binfmt_misc "$BINFMT" || {
        say "cannot mount binfmt_misc on $BINFMT (needs CAP_SYS_ADMIN and a kernel with binfmt_misc)"
        exit 1
    }
fi
if [ ! -e "$BINFMT/qemu-aarch64" ]; then
    # Register qemu-user-static's entry ourselves: binfmt-support (update-binfmts) is only a
    # Recommends, and systemd-binfmt (/lib/systemd, not on PATH) needs no running systemd but
    # would register every binfmt.d file. The line is qemu's own: flags OPF (F opens the
    # interpreter now, so it works inside the chroot, which has no qemu binary).
    conf=/usr/lib/binfmt.d/qemu-aarch64.conf
    if command -v update-binfmts >/dev/null; then
        update-binfmts --enable qemu-aarch64
    elif [ -f "$conf" ]; then
        grep -v '^#' "$conf" | head -1 >"$BINFMT/register"
    else
        say "no qemu-aarch64 binfmt definition ($conf) from qemu-user-static"
        exit 1
    fi
fi
grep -q '^enabled' "$BINFMT/qemu-aarch64" 2>/dev/null && grep -q '^enabled' "$BINFMT/status" || {
    say "qemu-aarch64 is not registered with binfmt_misc (or binfmt_misc is disabled)"
    exit 1
}
grep -q '^flags:.*F' "$BINFMT/qemu-aarch64" || say "warning: binfmt entry lacks the F flag"

# 2. the arm64 root
if [ ! -f "$ROOTFS/etc/debian_version" ]; then
    say "debootstrap bookworm arm64 into $ROOTFS"
    start=$(date +%s)
    mkdir -p "$ROOTFS"
    debootstrap --arch=arm64 --variant=minbase \
        --include=python3,python3-venv,libzbar0,ca-certificates bookworm "$ROOTFS" "$MIRROR"
    say "debootstrapped in $(($(date +%s) - start)) s"
fi
[ "$(chroot "$ROOTFS" uname -m)" = aarch64 ] || {
    say "the chroot does not run as aarch64"
    exit 1
}

mounted=()
cleanup() {
    for ((i = ${#mounted[@]} - 1; i >= 0; i--)); do umount -l "${mounted[$i]}" || true; done
}
trap cleanup EXIT
for fs in proc sys dev; do
    mountpoint -q "$ROOTFS/$fs" && continue
    case "$fs" in
    proc) mount -t proc proc "$ROOTFS/proc" ;;
    sys) mount -t sysfs sys "$ROOTFS/sys" ;;
    dev) mount --bind /dev "$ROOTFS/dev" ;;
    esac
    mounted+=("$ROOTFS/$fs")
done
cp -L /etc/resolv.conf "$ROOTFS/etc/resolv.conf"
# Local CAs (e.g. a TLS-inspecting proxy's) go with it, so TLS stays verified inside.
if compgen -G "/usr/local/share/ca-certificates/*.crt" >/dev/null; then
    cp /usr/local/share/ca-certificates/*.crt "$ROOTFS/usr/local/share/ca-certificates/"
    chroot "$ROOTFS" update-ca-certificates >/dev/null
fi
CHROOT_ENV=(PATH=/usr/local/bin:/usr/bin:/bin HOME=/root LANG=C.UTF-8
    SSL_CERT_FILE=/etc/ssl/certs/ca-certificates.crt PIP_CERT=/etc/ssl/certs/ca-certificates.crt)

# 3. install from a copy of this checkout
say "copying the checkout to $ROOTFS/src/gridgate"
rm -rf "$ROOTFS/src/gridgate"
mkdir -p "$ROOTFS/src/gridgate"
tar -C "$ROOT_DIR" --exclude=./.venv --exclude=./.tools --exclude=./.git --exclude=./var \
    --exclude='./.*_cache' --exclude=./.hypothesis --exclude=./test-artifacts -cf - . |
    tar -C "$ROOTFS/src/gridgate" -xf -
version="proof-$(git -C "$ROOT_DIR" rev-parse --short HEAD 2>/dev/null || echo local)"
say "install.sh install --root / --version $version (inside the arm64 root)"
start=$(date +%s)
chroot "$ROOTFS" /usr/bin/env -i "${CHROOT_ENV[@]}" \
    /src/gridgate/deploy/install.sh install --root / --no-compile --version "$version"
say "installed in $(($(date +%s) - start)) s"

# 4. a real gate image, scanned on arm64
say "rendering the sample gate image on the host"
"$ROOT_DIR/.venv/bin/python" - "$ROOTFS/tmp/gate.png" <<'EOF'
import sys
import cv2
from edge.sample_photos import face_photos
from edge.simulate.scenes import Scene, render
image = render(Scene(face=face_photos()["obama2.jpg"], codes=["GGDP1:310101001001"]))
cv2.imwrite(sys.argv[1], image)
EOF
say "gridgate-edge scan /tmp/gate.png (arm64)"
start=$(date +%s)
chroot "$ROOTFS" /usr/bin/env -i "${CHROOT_ENV[@]}" \
    sh -c 'uname -m; /opt/gridgate/current/venv/bin/python -c "import platform; print(platform.machine(), platform.python_version())"; gridgate-edge scan /tmp/gate.png' |
    tee "$ROOTFS/tmp/scan.out"
say "scanned in $(($(date +%s) - start)) s"
"$ROOT_DIR/.venv/bin/python" - "$ROOTFS/tmp/scan.out" <<'EOF'
import json
import sys
lines = open(sys.argv[1], encoding="utf-8").read().splitlines()
assert lines[0] == "aarch64", lines[0]
event = json.loads(lines[2])
faces = [o for o in event["observations"] if o.get("kind") == "face"]
plates = [o for o in event["observations"] if o.get("kind") == "door_plate"]
print(f"arm64 proof: ok: {len(faces)} face(s), 128-d: {[len(f['encoding']) for f in faces]}, "
      f"door plates: {[p['address_code'] for p in plates]}, decision: {event['decision']['action']}")
assert faces and plates, event
EOF
