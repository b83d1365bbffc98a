# SegFormer teaching kit. Two commands are enough on a fresh clone: `make run` and `make test`.
# Both build the pinned environment first (once; it is reused while requirements.lock is unchanged).
SHELL := /bin/bash
.DEFAULT_GOAL := help

# Set-up is scripts/setup_env.py (standard library only; Windows learners run it directly with `py -3.11`): it
# keys the venv by the lock files' hash, picks a Python 3.11 and builds it. Any python3 can start it (macOS's
# own included); SETUP_PYTHON=/path/to/python3.11 names the interpreter that builds the venv.
PYTHON_BOOT ?= python3
SEGKIT_HOME ?= $(HOME)/.cache/segkit
SETUP = $(PYTHON_BOOT) scripts/setup_env.py --home "$(SEGKIT_HOME)" --venv "$(VENV)"$(if $(SETUP_PYTHON), --python "$(SETUP_PYTHON)")
# the venv lives outside the clone, keyed by the lock files' hash: reruns and fresh clones reuse it
ifndef VENV
VENV := $(shell $(PYTHON_BOOT) scripts/setup_env.py --home "$(SEGKIT_HOME)" venv)
endif
ifeq ($(VENV),)
$(error $(PYTHON_BOOT) could not run scripts/setup_env.py: install Python 3 (python.org), or pass PYTHON_BOOT=/path/to/python3)
endif
PY := $(VENV)/bin/python
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

.PHONY: help setup test test-unit test-notebooks test-lab test-env run notebooks script lab clean prefetch bench lock book colab-check

help: ## list the targets
	@grep -hE '^[a-z-]+:.*## ' $(MAKEFILE_LIST) | awk -F':.*## ' '{printf "  make %-15s %s\n", $$1, $$2}'
	@echo "  variables: PROFILE=$(PROFILE) (smoke|workshop|guide|full)  VENV=$(VENV)"

setup: ## build the pinned venv (idempotent; reused while requirements.lock is unchanged)
	@# builds once (a stamp in the venv marks a complete build; an interrupted one starts again), then
	@# precompiles the venv's bytecode (kernels here run with PYTHONDONTWRITEBYTECODE=1)
	@$(SETUP) setup

# `make test` reads and writes no cache outside the clone: the Hugging Face hub and datasets caches, the kit's
# own cache, matplotlib's, IPython's and Jupyter's user folders all live in build/test-home, emptied first,
# so no state left on the machine (by a learner or another program) changes a result, and none is left
# behind. `make run`, `make lab` and `make prefetch` keep using the learner's caches.
TEST_HOME := $(CURDIR)/build/test-home
HERMETIC_ENV := HF_HOME=$(TEST_HOME)/huggingface SEGHELPERS_CACHE=$(TEST_HOME)/seghelpers \
	MPLCONFIGDIR=$(TEST_HOME)/matplotlib IPYTHONDIR=$(TEST_HOME)/ipython JUPYTER_CONFIG_DIR=$(TEST_HOME)/jupyter \
	JUPYTER_DATA_DIR=$(TEST_HOME)/jupyter-data JUPYTER_RUNTIME_DIR=$(TEST_HOME)/jupyter-runtime \
	TORCH_HOME=$(TEST_HOME)/torch KERAS_HOME=$(TEST_HOME)/keras SEGKIT_TEST_HOME=$(TEST_HOME)
$(foreach v,$(HERMETIC_ENV),$(eval test test-unit test-notebooks test-lab: export $(v)))

test: setup ## unit tests, notebook hygiene, then run all 18 notebooks (smoke) with papermill, nbval, the book and JupyterLab in a browser
	@rm -rf $(TEST_HOME) && mkdir -p $(TEST_HOME)
	$(MAKE) --no-print-directory test-unit
	$(MAKE) --no-print-directory test-notebooks

test-env: ## print the environment `make test` runs in (its private caches)
	@for v in $(HERMETIC_ENV); do echo "$$v"; done

# The notebook-chain tests run their notebooks in kernels (subprocesses, private caches, one thread each) and
# mostly wait on them, so they run beside the rest of the suite: two pytest processes on two cores. Their
# report is printed after the rest's; the target fails if either fails.
CHAIN_TESTS := tests/test_hub_replica.py tests/test_own_data_notebooks.py tests/test_exercises.py \
	tests/test_workshop_profile.py tests/test_own_data_meta_notebooks.py

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
	@# the 04 notebooks of one framework write the same model and checkpoint folders (shared by both languages,
	@# as in a learner's JupyterLab; TF's checkpoint.h5 is locked while written): they re-run one at a time, after the rest
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider -n $(JOBS) --dist loadfile --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg build/executed --ignore-glob='build/executed/*/04_train_*.ipynb'
	OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider --nbval-lax --nbval-current-env --nbval-sanitize-with tests/nbval_sanitize.cfg build/executed/*/04_train_*.ipynb
	@# the book from the notebooks just executed, then its browser test (system Chromium, headless)
	$(PY) book/build.py --no-execute --langs $(LANGS)
	$(PY) -m pytest -q -p no:cacheprovider tests/test_book.py
	$(MAKE) --no-print-directory test-lab

test-lab: setup ## JupyterLab in headless Chromium: Run All on 04 -> 05 per language and framework, 01-03 per language
	SEGKIT_LAB_TEST=1 OMP_NUM_THREADS=1 $(PY) -m pytest -q -p no:cacheprovider tests/test_lab.py

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

# LAB_ARGS="--ip=0.0.0.0 --no-browser" to reach it from outside a container or VM
LAB_ARGS ?=
LAB_DIR ?= notebooks
lab: setup ## JupyterLab with the project's environment (prints the URL it serves; starts as root too, e.g. in Docker)
	$(VENV)/bin/jupyter lab --notebook-dir=$(LAB_DIR) $$([ "$$(id -u)" = 0 ] && echo --allow-root) $(LAB_ARGS)

prefetch: setup ## cache only what a profile reads (PROFILE=workshop|guide|full; default the guide's: mit-b0, 50 rows); run online
	@# PREFETCH_ARGS="--split train[:200] --frameworks pt" etc.; see python -m seghelpers.prefetch --help
	HF_HUB_OFFLINE=0 HF_DATASETS_OFFLINE=0 $(PY) -m seghelpers.prefetch $(if $(filter-out smoke,$(PROFILE)),--profile $(PROFILE)) $(PREFETCH_ARGS)

bench: setup ## measure the kit's fast paths against the guide's code; writes benchmarks/RESULTS.md
	USE_TF=0 $(PY) -m benchmarks.run $(BENCH_ARGS)
	$(PY) notebooks/update_readme.py

colab-check: setup ## a Colab-like venv (Python 3.12, TF 2.20): the install cell, then 04 -> 05 in PyTorch and TensorFlow
	@# minutes (first run downloads ~4 GB of wheels); report in build/colab-check/SUMMARY.md; COLAB_ARGS="--python 3.13" etc.
	env -u PYTHONPATH $(PY) tests/colab/check_colab.py --venv $(SEGKIT_HOME)/colab-check-venv $(COLAB_ARGS)

lock: ## re-resolve requirements.in into requirements.lock: one lock for every platform, exact pins + hashes (needs the index)
	$(SETUP) lock

clean: ## remove build outputs (the shared venv stays; rm -rf $(SEGKIT_HOME) to drop it)
	rm -rf build .pytest_cache
	find . -name __pycache__ -type d -prune -exec rm -rf {} +
