#!/usr/bin/env bash
# Start a private PostgreSQL for the test suite on its own port and print its URL.
#
#   deploy/dev-postgres.sh          start (or reuse) and print the SQLAlchemy URL
#   deploy/dev-postgres.sh stop     stop it
#
# Uses Debian's server binaries (package `postgresql`, installed by `make setup-test`);
# the cluster lives under $GRIDGATE_PG_DIR (default /tmp/gridgate-pg-<port>), trust auth,
# listening on 127.0.0.1 only. Never touches a system cluster.
set -euo pipefail
PORT="${GRIDGATE_PG_PORT:-55432}"
DIR="${GRIDGATE_PG_DIR:-/tmp/gridgate-pg-$PORT}"
URL="postgresql+psycopg://postgres@127.0.0.1:$PORT/test"

PGBIN="$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)"
if [ -z "$PGBIN" ]; then
    echo "gridgate: PostgreSQL server binaries not found; run deploy/setup-system.sh postgresql" >&2
    exit 2
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

if [ "${1:-start}" = "stop" ]; then
    [ -d "$DIR/data" ] && as_owner "$PGBIN/pg_ctl" -D "$DIR/data" stop -m fast >&2 || true
    exit 0
fi

if "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$PORT"; then
    echo "$URL"
    exit 0
fi

mkdir -p "$DIR"
if [ "$(id -u)" -eq 0 ]; then
    chown postgres:postgres "$DIR"
fi
if [ ! -f "$DIR/data/PG_VERSION" ]; then
    as_owner "$PGBIN/initdb" -D "$DIR/data" -A trust -U postgres --no-sync >/dev/null
fi
as_owner "$PGBIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w start \
    -o "-p $PORT -k $DIR -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=200 \
    -c shared_buffers=1GB -c max_wal_size=4GB" >&2
if ! "$PGBIN/psql" -h 127.0.0.1 -p "$PORT" -U postgres -tAc "select 1 from pg_database where datname='test'" | grep -q 1; then
    "$PGBIN/createdb" -h 127.0.0.1 -p "$PORT" -U postgres test
fi
echo "$URL"
