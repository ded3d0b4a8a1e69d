#!/usr/bin/env bash
# seqpipe on Keras' PyTorch backend, in a virtualenv of its own (make test leaves torch
# out: too large for CI). Creates the virtualenv if absent, installs seqpipe's dev extras
# and a CPU build of torch into it (never into .venv), then runs with KERAS_BACKEND=torch
# the tests of the Keras step, its seeding and determinism, training state and
# checkpoints, the training meta-steps, streaming, global state, the backend choice,
# artifacts across backends (JAX to PyTorch and back) and serving (thread pools
# included). Prints "check_torch: PASS" or "check_torch: FAIL" last; exits with pytest's
# status.
#
# Run:  bash benchmarks/check_torch.sh [PYTEST ARGS...]
#   TORCH_VENV         the virtualenv (default: .venv-torch)
#   TORCH_REQUIREMENT  the torch to install (default: torch==2.13.0, whose CPU build lies
#                      in this workplace's local wheels; PyPI's Linux wheel of the same
#                      version pulls CUDA packages of several GB)
#   TORCH_INDEX_URL    an extra index to take torch from, e.g. PyTorch's CPU wheel index
#                      (where it is reachable: it is not from this project's machines)
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${TORCH_VENV:-.venv-torch}
REQUIREMENT=${TORCH_REQUIREMENT:-torch==2.13.0}
PYTHON=${PYTHON:-python3}

test -x "$VENV/bin/python" || "$PYTHON" -m venv "$VENV"
index=()
if [ -n "${TORCH_INDEX_URL:-}" ]; then index=(--extra-index-url "$TORCH_INDEX_URL"); fi
"$VENV/bin/python" -m pip install --quiet "${index[@]}" -e '.[dev]' "$REQUIREMENT"
"$VENV/bin/python" - <<'EOF'
import torch
build = f"CUDA {torch.version.cuda}" if torch.version.cuda else "CPU build"
print(f"check_torch: torch {torch.__version__} ({build}), {torch.get_num_threads()} threads")
EOF

# -o addopts=: without --doctest-modules, which would import the conftest.py files of
# tests/steps and tests/serving as two modules of one name (a collection error)
status=0
KERAS_BACKEND=torch TF_CPP_MIN_LOG_LEVEL=3 "$VENV/bin/python" -m pytest -q -p no:cacheprovider \
    -o addopts= -rs --durations=10 \
    tests/steps tests/test_streaming.py tests/test_persistence_backends.py \
    tests/test_global_state.py tests/test_backend.py tests/serving "$@" || status=$?
if [ "$status" -eq 0 ]; then echo "check_torch: PASS"; else echo "check_torch: FAIL"; fi
exit "$status"
