#!/usr/bin/env bash
# Start a throwaway PostgreSQL cluster for the test suite: Debian's `postgresql`
# package (installed when missing), a fresh data dir owned by the postgres user,
# listening on 127.0.0.1 only, trust auth, durability off (test data only).
# Usage: .ci/postgres.sh start|stop   (PG_PORT, PG_DIR override the defaults)
# `start` prints the URL to put in OMNIDOC_TEST_DATABASE_URL on its last line.
set -euo pipefail
PG_PORT=${PG_PORT:-54329}
PG_DIR=${PG_DIR:-/tmp/omnidoc-ci-postgres}

pg_bin() {
  local dir
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
  [ -n "$dir" ] || { echo "PostgreSQL binaries not found under /usr/lib/postgresql" >&2; exit 1; }
  echo "$dir"
}

as_postgres() { runuser -u postgres -- "$@"; }

case "${1:-start}" in
  start)
    if ! ls -d /usr/lib/postgresql/*/bin >/dev/null 2>&1; then
      apt-get update -qq
      DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends postgresql >/dev/null
    fi
    bin=$(pg_bin)
    if [ -f "$PG_DIR/postmaster.pid" ] && as_postgres "$bin/pg_ctl" -D "$PG_DIR" status >/dev/null 2>&1; then
      echo "PostgreSQL already running in $PG_DIR" >&2
    else
      rm -rf "$PG_DIR"
      install -d -o postgres -g postgres -m 700 "$PG_DIR"
      as_postgres "$bin/initdb" -D "$PG_DIR" -U postgres -A trust -E UTF8 --locale=C.UTF-8 >/dev/null
      as_postgres "$bin/pg_ctl" -D "$PG_DIR" -l "$PG_DIR/server.log" -w -t 60 start \
        -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c max_connections=200 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" >/dev/null \
        || { echo "PostgreSQL did not start:" >&2; tail -30 "$PG_DIR/server.log" >&2; exit 1; }
    fi
    echo "postgresql+psycopg://postgres@127.0.0.1:$PG_PORT/postgres"
    ;;
  stop)
    if [ -d "$PG_DIR" ]; then
      as_postgres "$(pg_bin)/pg_ctl" -D "$PG_DIR" -m fast -w stop >/dev/null 2>&1 || true
      rm -rf "$PG_DIR"
    fi
    ;;
  *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
