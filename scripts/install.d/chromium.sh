#!/usr/bin/env bash
# Headless Chromium (Debian) for the report screenshot test, and a python3 Jupyter kernel for the notebooks.
set -euo pipefail
if ! command -v chromium >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
python -m jupyter kernelspec list 2>/dev/null | grep -q python3 || python -m ipykernel install --sys-prefix
echo "chromium: $(chromium --version 2>/dev/null || echo missing)"
