"""Where the paper's binomial approximation holds and where it fails (figure).

Left: the SEMANTICS.md example (A: c=.7 with one wrong answer; B: c=.2, confidently
wrong): exact SC(A), SLM-MUX (both scores) and pooled vote against the paper's
A(k, p_max) and A(k, mean p), k = 1..15.  Right: the demo latent-difficulty
population.  Writes ``paper_figures/out/approximation_gap.png`` (or the path given).

    python paper_figures/approximation_gap.py [OUT.png]
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt

from muxsim import exact, paper
from muxsim.demo import demo_population
from muxsim.laws import AnswerLaw
from muxsim.population import evaluate

KS = list(range(1, 16))


def main(out: str | None = None) -> Path:
    path = Path(out or Path(__file__).parent / "out" / "approximation_gap.png")
    path.parent.mkdir(parents=True, exist_ok=True)
    A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), sharey=True)
    ax = axes[0]
    ax.plot(KS, [exact.self_consistency(A, k) for k in KS], "k-o", ms=3, label="SC(A) exact")
    ax.plot(KS, [exact.mux([A, B], k) for k in KS], "C0-o", ms=3, label="MUX per_k exact")
    ax.plot(KS, [exact.vote([A, B], k) for k in KS], "C1-o", ms=3, label="vote exact")
    ax.plot(KS, [paper.mux_approx([0.7, 0.2], k) for k in KS], "C0--", label="paper A(k, p_max)")
    ax.plot(KS, [paper.agent_forest_approx([0.7, 0.2], k) for k in KS], "C1--", label="paper A(k, mean p)")
    ax.set_title("A (c=.7) + confidently wrong B (c=.2)")
    ax.set_xlabel("k (samples per model)")
    ax.set_ylabel("accuracy")
    ax.legend(fontsize=8)
    pop = demo_population()
    cur = evaluate(pop, KS, methods=["sc[strong]", "mux", "mux_valid", "vote", "single[strong]", "single[confused]", "single[abstainer]"])
    ax = axes[1]
    for name, style in [("sc[strong]", "k-o"), ("mux", "C0-o"), ("mux_valid", "C2-o"), ("vote", "C1-o"), ("paper_mux", "C0--"), ("paper_vote", "C1--")]:
        ax.plot(KS, cur.values[name], style, ms=3, label=name)
    ax.set_title("latent-difficulty population (muxsim demo)")
    ax.set_xlabel("k (samples per model)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    return path


if __name__ == "__main__":
    print(main(sys.argv[1] if len(sys.argv) > 1 else None))
