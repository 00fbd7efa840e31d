"""Adaptive sampling: accuracy against expected draws per question, policies beside fixed k.

Two figures, exact values (``muxsim.adaptive_population``), drawn by ``muxsim.plots.fig_adaptive``:
the latent-difficulty example (examples/latent.json: models strong, confused) and the bundled jhu logs at
T = 0.7 (mistral-large, gpt-35-turbo, in that tie-break order; expectation over the order of the 10 logged
answers).  Policies: decided (exact: fixed-k SLM-MUX's accuracy with fewer draws), run2_each, run3_each.
Writes paper_figures/out/adaptive_latent.{png,pdf} and adaptive_jhu.{png,pdf} (or OUT_latent / OUT_jhu).

    python paper_figures/fig_adaptive.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from muxsim import adaptive_population as ap
from muxsim.adaptive_mux import Decided, RunEach
from muxsim.calibrate_cli import read_logs
from muxsim.logs.evaluate import answer_table
from muxsim.plots import fig_adaptive, save
from muxsim.spec import load

ROOT = Path(__file__).resolve().parent.parent
JHU = ROOT / "real_runs/logs/jhu-llm-temperature"
POLICIES = [Decided(), RunEach(2), RunEach(3)]


def main(out: str | None = None) -> list[Path]:
    base = Path(out) if out else Path(__file__).resolve().parent / "out" / "adaptive"
    paths = []
    pop = load(ROOT / "examples/latent.json").population
    res = ap.evaluate(pop, POLICIES, range(1, 8), models=["strong", "confused"])
    paths += save(fig_adaptive(res, "examples/latent.json (latent difficulty, 24-node quadrature)"), f"{base}_latent")
    models = ["mistral-large", "gpt-35-turbo"]
    table = answer_table(read_logs([str(JHU / f"{m}__temp-0.7.csv.gz") for m in models]), models=models)
    res = ap.evaluate_log(table, POLICIES, range(1, 7), models=models)
    paths += save(fig_adaptive(res, "bundled jhu-llm-temperature logs, T = 0.7, 10 samples per question"), f"{base}_jhu")
    return paths


if __name__ == "__main__":
    print(*main(sys.argv[1] if len(sys.argv) > 1 else None))
