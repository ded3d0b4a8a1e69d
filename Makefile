# The two set-up commands of the README: `make run` and `make test`.
# Each creates .venv if absent and installs seqpipe with its dev extras.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.seqpipe-installed
export TF_CPP_MIN_LOG_LEVEL ?= 3
export PYTHONUNBUFFERED := 1

.PHONY: run test lint bench docs clean

$(STAMP): setup.cfg pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet -e '.[dev]'
	touch $(STAMP)

run: $(STAMP)
	$(PY) -m seqpipe run exercise1 --output runs/exercise1

test: $(STAMP)
	$(PY) -m ruff check --no-cache seqpipe tests benchmarks examples
	$(PY) -m pytest -n 2 --durations=10 -q
	# the Keras step, streaming and serving also on TensorFlow (the suite runs on JAX)
	KERAS_BACKEND=tensorflow $(PY) -m pytest -n 2 -q -o addopts= \
		tests/steps/test_keras_model.py tests/test_streaming.py tests/serving/test_app.py

lint: $(STAMP)
	$(PY) -m ruff check --no-cache seqpipe tests benchmarks examples

bench: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,bench]'
	command -v wrk >/dev/null || (apt-get update -qq && apt-get install -y -qq wrk) || \
		echo "wrk not installed: bench_serving.py drives its 32 clients with httpx"
	$(PY) benchmarks/bench_windowing.py
	$(PY) benchmarks/bench_training.py
	$(PY) benchmarks/bench_search.py
	$(PY) benchmarks/bench_serving.py
	$(PY) benchmarks/bench_quality.py

.PHONY: mutation
# mutmut over the modules that guard correctness, each against its own tests (not in
# CI; one core, low priority): the score per module and the surviving mutants
mutation: $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,mutation]'
	$(PY) benchmarks/mutation.py

# The documentation site (Sphinx) into docs/_build/html; CI adds -W --keep-going.
DOCS_STAMP := $(VENV)/.seqpipe-docs-installed
SPHINXOPTS ?=

$(DOCS_STAMP): $(STAMP)
	$(PY) -m pip install --quiet -e '.[dev,docs]'
	touch $(DOCS_STAMP)

docs: $(DOCS_STAMP)
	$(PY) -m sphinx -b html $(SPHINXOPTS) docs docs/_build/html

clean:
	rm -rf $(VENV) runs examples/runs build *.egg-info .mutation mutants docs/_build \
		docs/api/generated docs/auto_examples docs/sg_execution_times.rst
