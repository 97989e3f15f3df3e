#!/usr/bin/env bash
# Install everything the whole test suite needs on a bare machine (idempotent):
# the package with all extras (frameworks, litellm, report tools, PostgreSQL driver)
# plus the system and model parts installed by the scripts next to this one.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(dirname "$here")"
python -m pip install --upgrade pip >/dev/null
python -m pip install -e "$root[all]"
for part in "$here"/install.d/*.sh; do
  [ -e "$part" ] || continue
  echo "== $(basename "$part")"
  bash "$part"
done
