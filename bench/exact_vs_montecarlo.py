"""Exact engine vs Monte Carlo on a 500-question x 5-model empirical population.

The population has shared wrong answers (X for every model, Y for some
questions), a tail of unique wrong answers and abstentions.  Both engines
evaluate SC (each model), MUX (per_k), vote, union and contradiction for
k = 1..9 in this process; Monte Carlo runs until every value's standard error
is at most 0.1 accuracy points (a pilot sizes the run).  Last line:
``speedup: <N>x`` (Monte Carlo time / median exact time over a few runs after
one warm-up run, which pays one-off set-up: imports, the allocator growing its
heap, the cached credit grids).
"""

from __future__ import annotations

import argparse
import math
import sys
import time

import numpy as np

from muxsim import simulate
from muxsim.laws import AnswerLaw
from muxsim.population import Empirical, evaluate

TARGET_SE = 0.001
KS = list(range(1, 10))
REPEATS = 5


def population(n_questions: int = 500, n_models: int = 5, seed: int = 0) -> Empirical:
    rng = np.random.default_rng(seed)
    strength = np.linspace(1.2, -0.4, n_models)
    qs = []
    for _ in range(n_questions):
        hard = rng.normal()
        two_attractors = rng.random() < 0.3
        row = []
        for i in range(n_models):
            c = 1 / (1 + np.exp(-(strength[i] - 1.3 * hard + 0.5 * rng.normal())))
            abstain = 0.15 * rng.random()
            wrong = (1 - c) * (1 - abstain)
            share_x = rng.uniform(0.2, 0.7)
            share_y = rng.uniform(0.0, 0.3) if two_attractors else 0.0
            labels = {"X": wrong * share_x}
            if share_y > 0:
                labels["Y"] = wrong * share_y
            tail = wrong * (1 - share_x - share_y)
            row.append(AnswerLaw(c * (1 - abstain), labels, tail, 1 - c * (1 - abstain) - wrong))
        qs.append(row)
    return Empirical(qs, tuple(f"model{i}" for i in range(n_models)))


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--floor", type=float, default=None, help="exit 1 if the speedup is below this (CI's bench stage)")
    args = ap.parse_args()
    pop = population()
    methods = [f"sc[{m}]" for m in pop.models] + ["mux", "vote", "union", "contradiction"]
    print(f"population: {len(pop.questions)} questions x {len(pop.models)} models; k = 1..9; methods: {', '.join(methods)}")

    evaluate(pop, KS, methods=methods, with_paper=False)  # warm-up: imports, allocator, credit grids
    times = []
    for _ in range(REPEATS):  # each a fresh engine
        t0 = time.perf_counter()
        ex = evaluate(pop, KS, methods=methods, with_paper=False)
        times.append(time.perf_counter() - t0)
    t_exact = float(np.median(times))
    print(f"exact:       {t_exact:8.3f} s  (median of {REPEATS} runs: {', '.join(f'{t:.3f}' for t in times)})")

    rng = np.random.default_rng(1)
    t0 = time.perf_counter()
    pilot_n = 20
    pilot = simulate.evaluate(pop, KS, n_draws=pilot_n, rng=rng, methods=methods, with_paper=False)
    worst = max(float(np.max(s)) for s in pilot.se.values())
    n_draws = max(pilot_n, math.ceil(pilot_n * (worst / TARGET_SE) ** 2 * 1.1))
    sim = simulate.evaluate(pop, KS, n_draws=n_draws, rng=rng, methods=methods, with_paper=False)
    t_mc = time.perf_counter() - t0
    worst_se = max(float(np.max(s)) for s in sim.se.values())
    print(f"monte carlo: {t_mc:8.3f} s  ({n_draws} replicates per question, {n_draws * len(pop.questions) * len(KS):,} simulated questions; largest SE {100 * worst_se:.3f} points)")

    dev = max(float(np.max(np.abs(ex.values[m] - sim.values[m]) / sim.se[m].clip(1e-12))) for m in methods)
    print(f"largest |exact - monte carlo| / SE over methods x k: {dev:.2f}")
    print(f"{'method':<16}" + "".join(f"{'k=' + str(k):>9}" for k in KS))
    for m in methods:
        print(f"{m:<16}" + "".join(f"{v:9.4f}" for v in ex.values[m]))
    print(f"speedup: {t_mc / t_exact:.0f}x")
    if args.floor is not None and t_mc / t_exact < args.floor:
        print(f"FAIL: speedup {t_mc / t_exact:.0f}x is below the floor {args.floor:g}x", file=sys.stderr)
        sys.exit(1)


if __name__ == "__main__":
    main()
