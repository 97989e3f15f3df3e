#!/usr/bin/env bash
# Drift check: install the newest versions pyproject.toml allows into a fresh virtual
# environment and run the CI entry point (.ci/run) in it. Run it on a schedule (or before
# a release): a dependency release that breaks the suite shows here before it reaches a
# user's fresh install. The pinned day-to-day CI is .ci/run itself.
#
#   bash scripts/check-latest.sh [VENV_DIR]     (default: a new temporary folder, removed at the end)
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${1:-}"
if [ -z "$venv" ]; then
  venv="$(mktemp -d /tmp/swarmdesign-latest-XXXX)"
  trap 'rm -rf "$venv"' EXIT
fi
python3 -m venv "$venv" || { echo "could not create a virtual environment in $venv"; exit 1; }
# shellcheck disable=SC1091
source "$venv/bin/activate"
python -m pip install --quiet --upgrade pip
# --upgrade-strategy eager: every dependency at the newest version the bounds allow, not what a cache holds.
python -m pip install --upgrade --upgrade-strategy eager -e "$root[all]" || { echo "install failed"; exit 1; }
echo "== resolved versions"
python -m pip freeze | grep -v '^-e ' | sort
echo "== pip check"
python -m pip check || { echo "pip check failed: installed packages conflict"; exit 1; }
bash "$root/.ci/run"
