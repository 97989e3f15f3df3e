#!/usr/bin/env bash
# A throw-away local PostgreSQL server for distributed runs and their tests, from the Debian packages.
#
#   scripts/postgres.sh start  [--data DIR] [--port N] [--user U] [--password P] [--db NAME] [--durable]
#   scripts/postgres.sh stop   [--data DIR]
#   scripts/postgres.sh status [--data DIR]
#   scripts/postgres.sh url    [--port N] [--user U] [--password P] [--db NAME]
#
# start: initdb into DIR (once), start the server on 127.0.0.1:PORT only (its socket in DIR),
# create the user and the database if missing, and print the storage URL on stdout.
# Idempotent: starting a running server only makes sure the user and database exist.
# The server is for tests and trials: it skips fsync (a commit costs ~0.3 ms instead of one disk
# flush, ~5 ms here), so a machine crash can lose its data. --durable keeps PostgreSQL's defaults.
# Defaults come from SWARMDESIGN_PG_DATA, SWARMDESIGN_PG_PORT, ... (see below).
# PostgreSQL refuses to run as root: as root, the server runs as the 'postgres' system user
# (created by the Debian package), so DIR must be reachable by that user (e.g. under /tmp).
# Install the packages with scripts/install.d/postgres.sh.
set -euo pipefail

cmd="${1:-}"
[ -n "$cmd" ] && shift
data="${SWARMDESIGN_PG_DATA:-/tmp/swarmdesign-postgres}"
port="${SWARMDESIGN_PG_PORT:-55432}"
user="${SWARMDESIGN_PG_USER:-swarmdesign}"
password="${SWARMDESIGN_PG_PASSWORD:-swarmdesign}"
db="${SWARMDESIGN_PG_DB:-swarmdesign}"
durability="-c fsync=off -c synchronous_commit=off -c full_page_writes=off"

die() { echo "postgres.sh: $*" >&2; exit 2; }

while [ $# -gt 0 ]; do
  case "$1" in
    --data) data="$2"; shift 2 ;;
    --port) port="$2"; shift 2 ;;
    --user) user="$2"; shift 2 ;;
    --password) password="$2"; shift 2 ;;
    --db) db="$2"; shift 2 ;;
    --durable) durability=""; shift ;;
    *) die "unknown option '$1'; expected --data, --port, --user, --password, --db or --durable" ;;
  esac
done
[[ "$port" =~ ^[0-9]+$ ]] || die "--port: expected a number, got '$port'"
[[ "$user" =~ ^[a-z_][a-z0-9_]*$ ]] || die "--user: expected lower-case letters, digits and _, got '$user'"
[[ "$db" =~ ^[a-z_][a-z0-9_]*$ ]] || die "--db: expected lower-case letters, digits and _, got '$db'"
[[ "$password" != *"'"* ]] || die "--password: must not contain a single quote"

url="postgresql://$user:$password@127.0.0.1:$port/$db"

bindir() {
  local dir
  # The newest installed major version; Debian keeps the server binaries off PATH.
  dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
  if [ -z "$dir" ] && command -v pg_config >/dev/null 2>&1; then dir=$(pg_config --bindir); fi
  [ -n "$dir" ] && [ -x "$dir/pg_ctl" ] && [ -x "$dir/initdb" ] \
    || die "no PostgreSQL server binaries found; install them with scripts/install.d/postgres.sh"
  echo "$dir"
}

# Run a server binary as the right user: PostgreSQL refuses root.
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then
    id postgres >/dev/null 2>&1 || die "running as root needs the 'postgres' system user (apt-get install postgresql)"
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

running() { [ -f "$data/PG_VERSION" ] && as_owner "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; }

psql_admin() {
  as_owner "$bin/psql" -X -q -v ON_ERROR_STOP=1 -h "$data" -p "$port" -U postgres -d postgres "$@"
}

case "$cmd" in
  start)
    bin=$(bindir)
    mkdir -p "$data"
    if [ "$(id -u)" -eq 0 ]; then
      chown postgres: "$data"
      runuser -u postgres -- test -w "$data" \
        || die "--data $data: not reachable by the 'postgres' user (a parent folder is private); use a folder under /tmp"
    fi
    chmod 700 "$data"
    if [ ! -f "$data/PG_VERSION" ]; then
      # Local socket connections trust the OS user (admin tasks below); TCP needs the password.
      log=$(mktemp)
      as_owner "$bin/initdb" -D "$data" -U postgres -A trust --auth-host=scram-sha-256 -E UTF8 >"$log" 2>&1 \
        || { cat "$log" >&2; rm -f "$log"; die "initdb failed"; }
      rm -f "$log"
    fi
    if ! running; then
      as_owner "$bin/pg_ctl" -D "$data" -l "$data/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -p $port -c unix_socket_directories='$data' -c max_connections=200 $durability" start >/dev/null \
        || { tail -n 20 "$data/server.log" >&2 || true; die "the server did not start (port $port in use?)"; }
    fi
    if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_roles WHERE rolname = '$user'")" != "1" ]; then
      psql_admin -c "CREATE ROLE $user LOGIN PASSWORD '$password'"
    fi
    if [ "$(psql_admin -tA -c "SELECT 1 FROM pg_database WHERE datname = '$db'")" != "1" ]; then
      psql_admin -c "CREATE DATABASE $db OWNER $user"
    fi
    echo "$url"
    ;;
  stop)
    bin=$(bindir)
    if running; then
      as_owner "$bin/pg_ctl" -D "$data" -m fast -w -t 60 stop >/dev/null
    fi
    ;;
  status)
    bin=$(bindir)
    if running; then echo "running: $data"; else echo "stopped: $data"; exit 3; fi
    ;;
  url)
    echo "$url"
    ;;
  *)
    die "usage: scripts/postgres.sh start|stop|status|url [--data DIR] [--port N] [--user U] [--password P] [--db NAME] [--durable]"
    ;;
esac
