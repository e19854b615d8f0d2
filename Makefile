# The virtual environment is large (a CUDA build of torch), so it lives outside the clone, keyed by the
# hash of requirements.lock, and is reused by every clone and by CI on the same machine.
PYTHON ?= python3.11
LOCK_HASH := $(shell sha256sum requirements.lock | cut -c1-12)
TEST_HASH := $(shell sha256sum requirements-test.txt | cut -c1-12)
VENV ?= $(HOME)/.cache/fdan-bench/venv-$(LOCK_HASH)
BIN := $(VENV)/bin
PYTEST_ARGS ?=
# Test files run on 2 processes (pytest-xdist, whole files per process): the Ray tests spend much of their time
# waiting on process start-ups, so two at a time nearly halve the suite on 2 cores. PYTEST_WORKERS=0 runs serially.
PYTEST_WORKERS ?= 2

.PHONY: install test quickstart bench gpu-check clean-venv

$(VENV)/.complete:
	@command -v $(PYTHON) >/dev/null || { echo "error: $(PYTHON) not found (fdan-bench needs Python 3.11; set PYTHON=...)"; exit 1; }
	rm -rf $(VENV)
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip "setuptools>=77,<82" wheel
	$(BIN)/pip install --quiet -r requirements.lock
	touch $@

$(VENV)/.test-deps-$(TEST_HASH): $(VENV)/.complete
	$(BIN)/pip install --quiet -r requirements-test.txt
	touch $@

install: $(VENV)/.test-deps-$(TEST_HASH)
	$(BIN)/pip install --quiet --no-deps --no-build-isolation -e .

test: install
	$(BIN)/python -m pytest -n $(PYTEST_WORKERS) --dist loadfile $(PYTEST_ARGS)

quickstart: install
	$(BIN)/fdan-bench sweep experiments/quickstart.yaml --resume

BENCHES ?= $(sort $(wildcard bench/bench_*.py))

bench: install
	@set -e; for b in $(BENCHES); do echo "== $$b"; $(BIN)/python $$b; done

# CUDA end to end on one GPU (<= 5 min): no-host-sync tests, bf16 / fp16 + GradScaler, channels_last, deterministic
# mode, one trial of the default lmmd.yaml model at batch 32; figures in results/gpu_check.json (skips without a GPU)
gpu-check: install
	$(BIN)/python bench/gpu_check.py --out results/gpu_check.json

clean-venv:
	rm -rf $(VENV)
