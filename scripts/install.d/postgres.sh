#!/usr/bin/env bash
# The PostgreSQL server packages (Debian) for the distributed-run tests; idempotent.
# The tests start their own server with scripts/postgres.sh on a free 127.0.0.1 port.
set -euo pipefail
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1; then
  echo "postgresql: already installed ($(ls -d /usr/lib/postgresql/*/ | xargs -n1 basename | sort -V | tail -n 1))"
  exit 0
fi
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null 2>&1 || { echo "postgresql: need root (or sudo) to apt-get install postgresql" >&2; exit 1; }
  sudo="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends postgresql >/dev/null
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { echo "postgresql: install finished but initdb is missing" >&2; exit 1; }
echo "postgresql: installed"
