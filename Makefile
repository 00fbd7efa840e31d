# Two commands do all set-up on a fresh machine: `make demo` (main job) and `make test`.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

.PHONY: demo test test-vllm bench
demo: $(VENV)/.installed
	$(VENV)/bin/muxsim demo

test: $(VENV)/.installed
	$(PY) -m pytest -q

test-vllm: $(VENV)/.installed
	bash .ci/vllm_stage.sh

bench: $(VENV)/.installed
	$(PY) bench/exact_vs_montecarlo.py
