#!/usr/bin/env bash
# CI stage: the speed benches, each with a floor well below its target (the ratio is
# measured in one process, so machine speed cancels; a drop below the floor is a regression).
#   exact engine vs Monte Carlo: target >= 100x, floor 50x
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PY:-.venv/bin/python}
"$PY" bench/exact_vs_montecarlo.py --floor 50
