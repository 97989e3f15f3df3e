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
# The installs above run as separate pip commands, which do not see each other's bounds:
# fail here, not in a confusing import later, if one of them broke another's requirements.
python "$here/pip_check_project.py" || { echo "pip check: installed packages conflict (see above)" >&2; exit 1; }
