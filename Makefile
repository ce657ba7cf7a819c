# The two commands of the README: `make run` and `make test`. Both set up .venv themselves.
SHELL := /bin/bash
VENV := .venv
PY := $(VENV)/bin/python3
export TF_USE_LEGACY_KERAS := 0
export TF_CPP_MIN_LOG_LEVEL ?= 2

.PHONY: setup run test bench bench-peers lock clean
BENCH_SCRIPTS := bench/solvers.py bench/stiff.py bench/gradients.py bench/odenet.py bench/latent_ode.py

setup:
	@bash tools/setup.sh

# The local TFX pipeline on the embedded digits: trains, evaluates and pushes an ODE-Net.
run: setup
	$(VENV)/bin/odezoo run

# Two workers, one test file each (module fixtures such as a pipeline run stay in one process).
PYTEST_ARGS ?= -n 2 --dist loadfile --durations=30
test: setup
	$(PY) -m pytest $(PYTEST_ARGS)

# Benchmarks print ratios against peers measured in the same run; `make bench-peers` installs them.
bench: setup
	@set -e; for script in $(BENCH_SCRIPTS); do echo "== $$script"; $(PY) $$script; done

bench-peers: setup
	bash bench/install_peers.sh

# Re-resolves requirements.lock from pyproject.toml (for the pinned stack: CPython 3.11, glibc 2.39 wheels).
lock: setup
	$(VENV)/bin/uv pip compile pyproject.toml --extra test --python-version 3.11 \
	  --python-platform x86_64-manylinux_2_39 -o requirements.lock

clean:
	rm -rf $(VENV) .bench .pytest_cache build *.egg-info pipeline_output
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
