"""The worked examples of SEMANTICS.md and one parametric population: exact, Monte Carlo, paper."""

from __future__ import annotations

import numpy as np

from muxsim import exact, paper, simulate
from muxsim.laws import AnswerLaw
from muxsim.population import LatentDifficulty, ModelParams, evaluate


def worked_examples(n_draws: int = 100_000, seed: int = 0) -> list[dict]:
    """Rows (case, k, exact, monte carlo ± se, paper) for the SEMANTICS.md examples."""
    rng = np.random.default_rng(seed)
    A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
    C = AnswerLaw(0.4, {"W": 0.6})
    rows = []
    for k in (3, 5):
        for name, ex, sim, pap in (
            ("SC(A)", exact.self_consistency(A, k), simulate.self_consistency(A, k, n_draws=n_draws, rng=rng), paper.binomial_majority(k, 0.7)),
            ("SC(B)", exact.self_consistency(B, k), simulate.self_consistency(B, k, n_draws=n_draws, rng=rng), paper.binomial_majority(k, 0.2)),
            ("MUX per_k (A,B)", exact.mux([A, B], k), simulate.mux([A, B], k, n_draws=n_draws, rng=rng), paper.mux_approx([0.7, 0.2], k)),
            ("vote (A,B)", exact.vote([A, B], k), simulate.vote([A, B], k, n_draws=n_draws, rng=rng), paper.agent_forest_approx([0.7, 0.2], k)),
        ):
            rows.append({"case": name, "k": k, "exact": ex, "mc": sim.value, "se": sim.se, "paper": pap})
    for k in (2, 4):
        sim = simulate.self_consistency(C, k, n_draws=n_draws, rng=rng)
        rows.append({"case": "SC(c=.4, one wrong)", "k": k, "exact": exact.self_consistency(C, k), "mc": sim.value, "se": sim.se, "paper": paper.binomial_majority(k, 0.4)})
    return rows


def demo_population() -> LatentDifficulty:
    """Three models: a strong one, a weak one with a shared misconception, a middling abstainer."""
    return LatentDifficulty(
        (
            ModelParams("strong", a=4.0, b=2.0, abstain=0.02, attractor=0.5, loading=0.6),
            ModelParams("confused", a=2.0, b=3.0, abstain=0.0, attractor=0.9, loading=0.6),
            ModelParams("abstainer", a=3.0, b=2.0, abstain=0.25, attractor=0.3, loading=0.6),
        )
    )


def run(n_draws: int = 100_000, seed: int = 0) -> str:
    lines = ["Worked examples (SEMANTICS.md §3): exact vs Monte Carlo vs the paper's binomial approximation", ""]
    lines.append(f"{'case':<22}{'k':>3}{'exact':>10}{'monte carlo':>22}{'paper':>10}")
    for r in worked_examples(n_draws, seed):
        lines.append(f"{r['case']:<22}{r['k']:>3}{r['exact']:>10.4f}{r['mc']:>13.4f} ±{r['se']:.4f}{r['paper']:>10.4f}")
    pop = demo_population()
    ks = [1, 3, 5, 7, 9]
    methods = ["sc[strong]", "mux", "mux_valid", "vote", "union", "contradiction"]
    ex = evaluate(pop, ks, methods=methods + ["single[strong]", "single[confused]", "single[abstainer]"])
    sim = simulate.evaluate(pop, ks, methods=methods, n_draws=max(n_draws // 5, 2), rng=np.random.default_rng(seed + 1))
    lines += ["", "Parametric population (latent difficulty, Beta marginals, loading .6, shared misconception):", ""]
    lines.append(f"{'method':<16}" + "".join(f"{'k=' + str(k):>24}" for k in ks))
    for m in methods + ["paper_mux", "paper_vote"]:
        cells = []
        for j in range(len(ks)):
            if m in sim.values:
                cells.append(f"{ex.values[m][j]:.4f} / {sim.values[m][j]:.4f}±{sim.se[m][j]:.4f}")
            else:
                cells.append(f"{ex.values[m][j]:.4f}")
        lines.append(f"{m:<16}" + "".join(f"{c:>24}" for c in cells))
    lines.append("(cells: exact / monte carlo ± SE; paper rows: A(k, p_max) and A(k, mean p))")
    return "\n".join(lines)
