#!/usr/bin/env bash
# Print the path of a usable `uv`, installing it into .tools/ (a private venv) when missing.
set -euo pipefail
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
if command -v uv >/dev/null 2>&1; then
    command -v uv
    exit 0
fi
if [ -x "$ROOT/.tools/bin/uv" ]; then
    echo "$ROOT/.tools/bin/uv"
    exit 0
fi
PY="$(command -v python3 || true)"
if [ -z "$PY" ]; then
    echo "gridgate setup: python3 (>= 3.11) is required; apt-get install python3 python3-venv" >&2
    exit 2
fi
if ! "$PY" -m venv "$ROOT/.tools" >&2; then
    echo "gridgate setup: cannot create a venv; apt-get install python3-venv" >&2
    exit 2
fi
"$ROOT/.tools/bin/pip" install --quiet --disable-pip-version-check uv >&2
echo "$ROOT/.tools/bin/uv"
