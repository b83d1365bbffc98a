# SegFormer teaching kit. Two commands are enough on a fresh clone: `make run` and `make test`.
# Both build the pinned environment first (once; it is reused while requirements.lock is unchanged).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON_BOOT ?= python3.11
SEGKIT_HOME ?= $(HOME)/.cache/segkit
LOCK_HASH := $(shell cat requirements.lock requirements-bootstrap.lock | sha256sum | cut -c1-12)
# the venv lives outside the clone, keyed by the lock files' hash: reruns and fresh clones reuse it
VENV ?= $(SEGKIT_HOME)/venv-$(LOCK_HASH)
PY := $(VENV)/bin/python
STAMP := $(VENV)/.segkit-installed
BYTECODE := $(VENV)/.segkit-bytecode
PROFILE ?= smoke
LANGS ?= en zh
JOBS ?= 2
# extra papermill parameters for `make run`, e.g. PARAMS="-p dataset my_data -p split train"
PARAMS ?=

# the package is used from this checkout (no install into the shared venv, which other clones reuse)
export PYTHONPATH := $(CURDIR)$(if $(PYTHONPATH),:$(PYTHONPATH))
export HF_HUB_OFFLINE ?= 1
export HF_DATASETS_OFFLINE ?= $(HF_HUB_OFFLINE)
export PYDEVD_DISABLE_FILE_VALIDATION := 1

.PHONY: help setup test test-unit test-notebooks run notebooks script lab clean prefetch bench lock book colab-check

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "  variables: PROFILE=$(PROFILE) (smoke|guide|full)  VENV=$(VENV)"

setup: $(STAMP) $(BYTECODE) ## build the pinned venv (idempotent; reused while requirements.lock is unchanged)

# no file prerequisites: the folder name already encodes the locks' content (a fresh clone's newer
# mtimes must not trigger a rebuild); the stamp only says the build completed
$(STAMP):
	@echo ">> building $(VENV) from requirements.lock"
	@mkdir -p $(SEGKIT_HOME)
	@# an interrupted build has no stamp, so the next run starts it again from scratch
	@rm -rf $(VENV)
	$(PYTHON_BOOT) -m venv $(VENV)
	$(VENV)/bin/pip install --quiet --require-hashes --no-deps -r requirements-bootstrap.lock
	$(VENV)/bin/uv pip install --quiet --python $(PY) --require-hashes -r requirements.lock
	@touch $(STAMP)
	@echo ">> environment ready: $(VENV)"

# Kernels here run with PYTHONDONTWRITEBYTECODE=1, so a venv without .pyc files recompiles every module it
# imports in every kernel (TensorFlow + transformers' TF SegFormer: seconds each time). Compiled once, here.
# Exit status ignored: a few packages ship data files named *.py that are not Python 3 (compileall lists them).
$(BYTECODE): $(STAMP)
	@echo ">> precompiling the venv's bytecode (once)"
	@$(PY) -m compileall -q -j 0 $(VENV)/lib > /dev/null 2>&1 || true
	@touch $(BYTECODE)

test: setup ## unit tests, notebook hygiene, then run all 18 notebooks (smoke) with papermill and check them with nbval
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-notebooks

# The notebook-chain tests run their notebooks in kernels (subprocesses, private caches, one thread each) and
# mostly wait on them, so they run beside the rest of the suite: two pytest processes on two cores. Their
# report is printed after the rest's; the target fails if either fails.
CHAIN_TESTS := tests/test_hub_replica.py tests/test_own_data_notebooks.py

test-unit: setup ## only the pytest suite (no notebook execution)
	@mkdir -p build
	@start=$$(date +%s); \
	$(PY) -m pytest -q -p no:cacheprovider $(CHAIN_TESTS) > build/test-chains.log 2>&1 & chains=$$!; \
	trap 'kill $$chains 2>/dev/null' INT TERM; \
	$(PY) -m pytest -q $(addprefix --ignore=,$(CHAIN_TESTS)) tests; rest=$$?; \
	wait $$chains; chained=$$?; \
	echo ">> notebook-chain tests ($(CHAIN_TESTS)), run alongside:"; cat build/test-chains.log; \
	echo ">> pytest suite: $$(( $$(date +%s) - start )) s wall"; \
	exit $$(( rest || chained ))

test-notebooks: setup ## execute every notebook with the smoke profile, then nbval-check the executed copies
	OMP_NUM_THREADS=1 $(PY) notebooks/run_all.py --profile smoke --out build/executed --jobs $(JOBS) --langs $(LANGS)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_executed_notebooks.py
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg build/executed
	@# the book from the notebooks just executed, then its browser test (system Chromium, headless)
	$(PY) book/build.py --no-execute --langs $(LANGS)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_book.py

run: setup ## run the whole collection through papermill (PROFILE=smoke|guide|full) into build/executed/
	$(PY) notebooks/run_all.py --profile $(PROFILE) --out build/executed --jobs $(JOBS) --langs $(LANGS) $(PARAMS)

book: setup ## render the executed course (both languages, PT/TF tabs, every figure) as a static site in build/book/
	@# reuses build/executed when it matches notebooks/{en,zh}; otherwise executes them first (smoke profile)
	OMP_NUM_THREADS=1 $(PY) book/build.py --jobs $(JOBS) --langs $(LANGS)

notebooks: setup ## regenerate notebooks/{en,zh}/*.ipynb from notebooks/src/
	$(PY) notebooks/generate.py
	$(PY) notebooks/update_readme.py

script: setup ## export the PyTorch training notebook as build/scripts/04_train_pytorch.py (torchrun / accelerate launch)
	$(PY) notebooks/export_script.py notebooks/en/04_train_pytorch.ipynb build/scripts/04_train_pytorch.py

lab: setup ## JupyterLab with the project's environment
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks

prefetch: setup ## cache only what the guide profile needs (mit-b0's files, the first 50 rows of the data); run online
	@# PREFETCH_ARGS="--split train[:200] --frameworks pt" etc.; see python -m seghelpers.prefetch --help
	HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 $(PY) -m seghelpers.prefetch $(PREFETCH_ARGS)

bench: setup ## measure the kit's fast paths against the guide's code; writes benchmarks/RESULTS.md
	USE_TF=0 $(PY) -m benchmarks.run $(BENCH_ARGS)
	$(PY) notebooks/update_readme.py

colab-check: setup ## a Colab-like venv (Python 3.12, TF 2.20): the install cell, then 04 -> 05 in PyTorch and TensorFlow
	@# minutes (first run downloads ~4 GB of wheels); report in build/colab-check/SUMMARY.md; COLAB_ARGS="--python 3.13" etc.
	env -u PYTHONPATH $(PY) tests/colab/check_colab.py --venv $(SEGKIT_HOME)/colab-check-venv $(COLAB_ARGS)

lock: ## re-resolve requirements.in into requirements.lock (exact pins + hashes; needs uv)
	uv pip compile requirements.in --python-version 3.11 --python-platform x86_64-manylinux_2_28 --generate-hashes --no-header -o requirements.lock

clean: ## remove build outputs (the shared venv stays; rm -rf $(SEGKIT_HOME) to drop it)
	rm -rf build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
