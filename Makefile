# Parley: every target installs what it needs on a fresh machine (Debian packages included).
SHELL := /bin/bash
.DEFAULT_GOAL := help

PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
INSTALLED := $(VENV)/.installed
EVAL_DIR ?= ../shared/eval
EVAL_REPEATS ?= 4
export PARLEY_EVAL_DIR := $(abspath $(EVAL_DIR))
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
APT_PACKAGES := chromium fonts-noto-core fonts-noto-cjk build-essential cmake

.PHONY: help install run test lint unit integration browser bench eval lock system-deps clean

help:
	@echo "make run    - serve the demo store on http://127.0.0.1:8000 (/demo, /console, /admin)"
	@echo "make test   - lint, type-check, unit, integration and browser tests"
	@echo "make bench  - benchmarks; figures printed and written to bench-results/"
	@echo "make eval   - evaluations on $(EVAL_DIR)"
	@echo "make lint   - ruff and mypy --strict"

# Debian packages: Chromium for browser tests, Noto fonts so CJK/Thai/Arabic render,
# compilers for llama.cpp.
system-deps:
	@missing=""; for p in $(APT_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing Debian packages:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi

$(INSTALLED): pyproject.toml constraints.txt | system-deps
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install -qq --upgrade pip
	# The CPU build of torch lies on this machine; pin it first so nothing pulls CUDA wheels.
	$(BIN)/pip install -qq torch==2.13.0
	# llama-cpp-python builds from source (~6 min on 2 idle cores; pip caches the wheel).
	# GGML_NATIVE=OFF keeps that build portable across x86-64 CPUs.
	CMAKE_ARGS="-DGGML_NATIVE=OFF" $(BIN)/pip install -qq -c constraints.txt -e '.[dev,st,local]'
	touch $@

install: system-deps $(INSTALLED)

lint: $(INSTALLED)
	$(BIN)/ruff check bot knowledge tests evals
	$(BIN)/ruff format --check bot knowledge tests evals
	$(BIN)/mypy

unit: $(INSTALLED)
	$(BIN)/pytest tests/unit -q

integration: $(INSTALLED)
	$(BIN)/pytest tests/integration -q

browser: system-deps $(INSTALLED)
	$(BIN)/pytest tests/browser -q

test: system-deps $(INSTALLED) lint
	$(BIN)/pytest tests/unit tests/integration tests/browser -q

run: system-deps $(INSTALLED)
	$(BIN)/parley serve --demo

bench: $(INSTALLED)
	@mkdir -p bench-results
	@set -e; for f in tests/bench/bench_*.py; do \
	  name=$$(basename $$f .py); name=$${name#bench_}; \
	  echo "== $$name"; \
	  $(BIN)/python -m tests.bench.bench_$$name --out bench-results/$$name.json --eval-dir $(EVAL_DIR); \
	done

eval: $(INSTALLED)
	@mkdir -p bench-results
	$(BIN)/parley eval tau2-replay --tasks $(EVAL_DIR)/tau2_retail/tasks_train.json --expected $(EVAL_DIR)/tau2_retail/expected
	$(BIN)/parley eval retrieval --data $(EVAL_DIR)/xquad_r --out bench-results/retrieval.json
	# The same without the hub penalty (PARLEY_RETRIEVAL__HUB_WEIGHT=0), for comparison.
	$(BIN)/parley eval retrieval --data $(EVAL_DIR)/xquad_r --hub-weight 0 --out bench-results/retrieval-no-hub.json
	# The conversation suite with the real local model; pass^k needs repeated plays.
	$(BIN)/parley eval agent --llm local --repeats $(EVAL_REPEATS) --out bench-results/agent-eval.json
	# Stores and attacks Parley was never tuned on: only their test halves are scored here.
	$(BIN)/parley eval agent --llm local --suite tests/data/suites/unseen-store/test --out bench-results/unseen-store-test.json
	$(BIN)/parley eval agent --llm local --suite tests/data/suites/attacks/test --out bench-results/attacks-test.json
	# Translation both ways through English with the local model (chrF, facts kept, seconds).
	$(BIN)/parley eval translation --llm local --data $(EVAL_DIR)/xquad_r --out bench-results/translation-eval.json

# Regenerate the pinned versions after changing dependencies in pyproject.toml.
lock: $(INSTALLED)
	$(BIN)/pip freeze --exclude-editable | sed -e 's/^torch==.*/torch==2.13.0/' \
	  -e 's|^llama_cpp_python @ .*|llama_cpp_python==0.3.36|' > constraints.txt

clean:
	rm -rf $(VENV) .mypy_cache .ruff_cache .pytest_cache bench-results
