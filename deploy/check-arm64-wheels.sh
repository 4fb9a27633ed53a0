#!/usr/bin/env bash
# Check that every locked runtime dependency installs on linux aarch64 from wheels alone.
#
#   deploy/check-arm64-wheels.sh                 resolve for CPython 3.11, 3.12, 3.13 (metadata only)
#   deploy/check-arm64-wheels.sh --target DIR    also install the 3.11 wheels into DIR (~200 MB)
#
# Exports uv.lock's runtime pins (no dev group), then asks uv to install exactly those pins
# for aarch64-unknown-linux-gnu with --only-binary :all: (no source builds, no re-resolution).
# face-recognition-models is left out: pure data, published only as an sdist (as in
# tests/test_lock.py). Needs the package index; the emulated end-to-end proof is arm64-proof.sh.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TARGET=""
case "${1:-}" in
--target) TARGET="$(realpath -m "${2:?--target needs a directory}")" ;;
"") ;;
*)
    echo "usage: check-arm64-wheels.sh [--target DIR]" >&2
    exit 2
    ;;
esac
UV="$("$ROOT/deploy/bootstrap-uv.sh")"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$UV" export --project "$ROOT" --frozen --no-dev --no-emit-project --no-hashes --quiet |
    grep -E '^[A-Za-z0-9]' | grep -v '^face-recognition-models==' >"$work/requirements.txt"
echo "arm64 wheels: $(wc -l <"$work/requirements.txt") locked runtime packages" >&2

for python in 3.11 3.12 3.13; do
    args=(--no-deps --only-binary :all: --python-platform aarch64-unknown-linux-gnu
        --python-version "$python" -r "$work/requirements.txt")
    if [ -n "$TARGET" ] && [ "$python" = 3.11 ]; then
        "$UV" pip install --quiet --target "$TARGET" "${args[@]}"
        echo "arm64 wheels: cp311 installed into $TARGET; compiled modules:" >&2
        find "$TARGET" -name '*.so' -printf '%P\n' | grep -E 'aarch64|\.abi3\.so' | sort | head -40
    else
        "$UV" pip install --dry-run --quiet --target "$work/target" "${args[@]}"
    fi
    echo "arm64 wheels: cp${python/./}: every package has an aarch64 or pure wheel" >&2
done
