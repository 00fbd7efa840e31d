"""Where the fits' large-k contradiction bias comes from: consistently-wrong probabilities, per model and per pilot state.

On the bundled logs (``--data jhu:0.7`` by default; jhu: 9 models x 100 questions x 10 samples) each fit
family, with the options ``kind="auto"`` gives it (:data:`muxsim.fit.auto.AUTO_OPTIONS`), is fitted on the
first 3 samples per question (the pilot).  Observed values are the exact ones of the held-out samples 4-10
(k of 7 drawn without replacement; at k = 7 all of them).  Printed, in points:

1. per model, P(k draws are all one and the same named wrong answer) over all questions (the per-model part
   of the contradiction): observed | latent | classes | shrinkage, and each family's mean signed error;
2. the same restricted to the cells whose 3 pilot draws were one wrong answer ("W" cells), observed |
   classes: how often such a wrong answer persists, the part a 3-draw pilot can say least about; and
   to the cells with no correct pilot draw that are not W ("0" cells);
3. the contradiction of every pair, its change from k = 3 to k = 7 predicted by the classes fit and observed,
   split by the pair's pilot states (each model's state: ``W``, else its number of correct pilot draws):
   the states that contribute most to the extrapolation error pred(7) - pred(3) - (obs(7) - obs(3)), and
   the largest of them (one model W, the other right in all 3 pilot draws) split by the W model.

Usage: python bench/consistently_wrong.py [--data jhu:0.7] [--k 2,4,7]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from collections import defaultdict
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calibration import load  # noqa: E402
from muxsim.exact.engine import Engine  # noqa: E402
from muxsim.fit import fit  # noqa: E402
from muxsim.fit.auto import AUTO_OPTIONS  # noqa: E402
from muxsim.logs.evaluate import per_question_values  # noqa: E402
from muxsim.population import exact_layout  # noqa: E402

KINDS = ("latent", "classes", "shrinkage")


class Exact:
    """One exact engine on a population's layout, for every k <= ``k_max``: values per layout question (``eng``),
    their question-weighted mean, and (a classes fit's population, one layout question per (question, class);
    an empirical one, one per question) their sum back into the pilot's questions."""

    def __init__(self, pop, k_max: int):
        lay, mix, qw, _ = exact_layout(pop)
        self.pop, self.qw = pop, np.asarray(qw)
        self.eng = Engine(lay, [k_max] * lay.n_models, mix=mix)

    def mean(self, v: np.ndarray) -> float:
        return float(self.qw @ v)

    def per_question(self, v: np.ndarray) -> np.ndarray:
        if not hasattr(self.pop, "question_of_rows"):
            return v
        Q = len(self.pop.questions)
        return np.bincount(self.pop.question_of_rows(), weights=v * self.qw, minlength=Q) * Q


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7")
    ap.add_argument("--k", default="2,4,7")
    a = ap.parse_args(argv)
    ks = [int(k) for k in a.k.split(",")]
    tab = load(a.data)
    pilot, held = tab.select(samples=slice(0, 3)), tab.select(samples=slice(3, None))
    fits = {kind: fit(pilot, kind, **AUTO_OPTIONS.get(kind, {})) for kind in KINDS}
    n, Q = len(tab.models), tab.n_questions
    c = pilot.codes
    w_cell = (c[:, :, 0] > 0) & (c == c[:, :, :1]).all(axis=2)
    state = np.where(w_cell, "W", (c == 0).sum(axis=2).astype(str))  # (Q, n)

    k_max = max(ks + [7])
    held_ex = {m: Exact(held.empirical([m]), k_max) for m in tab.models}  # one engine per model and population
    fit_ex = {kind: {m: Exact(f.population([m]), k_max) for m in tab.models} for kind, f in fits.items()}

    print(f"{a.data}: 1. P(k draws all one and the same wrong answer), points: observed held-out | " + " ".join(KINDS))
    err = np.zeros((len(KINDS), len(ks)))
    for i, m in enumerate(tab.models):
        cells = []
        for j, k in enumerate(ks):
            obs = held_ex[m].mean(held_ex[m].eng.consistently_wrong(0, k))
            pred = [ex[m].mean(ex[m].eng.consistently_wrong(0, k)) for ex in fit_ex.values()]
            err[:, j] += np.array(pred) - obs
            cells.append(f"k={k}: {100 * obs:5.1f} | " + " ".join(f"{100 * p:5.1f}" for p in pred))
        print(f"  {m[:24]:24s} " + "   ".join(cells))
    err *= 100 / n
    for kind, e in zip(KINDS, err):
        print(f"  mean signed error {kind:9s} " + "  ".join(f"k={k}: {v:+.1f}" for k, v in zip(ks, e)))

    for label, cells in (("W", w_cell), ("0", state == "0")):
        print(f"{a.data}: 2{'ab'[label == '0']}. the same on the {label} cells ("
              + ("3 pilot draws one wrong answer" if label == "W" else "no correct pilot draw, not W")
              + "), points: observed | classes")
        tot = np.zeros((2, 2))
        for i, m in enumerate(tab.models):
            sel = cells[:, i]
            if not sel.any():
                continue
            pair = (held_ex[m], fit_ex["classes"][m])
            vals = [tuple(ex.per_question(ex.eng.consistently_wrong(0, k))[sel] for ex in pair) for k in (3, 7)]
            tot += [[o.sum(), p.sum()] for o, p in vals]
            print(f"  {m[:24]:24s} {sel.sum():3d} cells  " + "   ".join(
                f"k={k}: {100 * o.mean():5.1f} | {100 * p.mean():5.1f}" for k, (o, p) in zip((3, 7), vals)))
        print(f"  all {int(cells.sum())} {label} cells  " + "   ".join(
            f"k={k}: {100 * t[0] / cells.sum():5.1f} | {100 * t[1] / cells.sum():5.1f}" for k, t in zip((3, 7), tot)))

    print(f"{a.data}: 3. contradiction of each pair, change from k = 3 to k = 7 (points, per pair-question), "
          "by the pair's pilot states: predicted (classes) | observed; contribution to the mean extrapolation error")
    acc, by_w = defaultdict(lambda: np.zeros(3)), defaultdict(lambda: np.zeros(3))
    ex = Exact(fits["classes"].population(), 7)
    for i, j in itertools.combinations(range(n), 2):
        d_pred = ex.per_question(ex.eng.contradiction([i, j], [7, 7]) - ex.eng.contradiction([i, j], [3, 3]))
        ov = per_question_values(held, [tab.models[i], tab.models[j]], [3, 7], ["contradiction"])["contradiction"]
        d_obs = ov[1] - ov[0]
        for q in range(Q):
            key = tuple(sorted((state[q, i], state[q, j])))
            acc[key] += [d_pred[q], d_obs[q], 1]
            if key == ("3", "W"):  # the W model of a pair whose other model was right 3 times of 3
                by_w[tab.models[i if state[q, i] == "W" else j]] += [d_pred[q], d_obs[q], 1]
    cases = sum(v[2] for v in acc.values())
    total = sum(v[0] - v[1] for v in acc.values()) / cases
    print(f"  mean extrapolation error over {int(cases)} pair-questions: {100 * total:+.2f}")
    for key, (p, o, cnt) in sorted(acc.items(), key=lambda kv: kv[1][0] - kv[1][1])[:6]:
        print(f"  states {'+'.join(key):5s} {int(cnt):5d}: {100 * p / cnt:+6.2f} | {100 * o / cnt:+6.2f}  "
              f"contribution {100 * (p - o) / cases:+.3f}")
    print("  states 3+W by the W model: pair-questions, predicted | observed change, contribution")
    for mdl, (p, o, cnt) in sorted(by_w.items(), key=lambda kv: kv[1][0] - kv[1][1]):
        print(f"    {mdl[:24]:24s} {int(cnt):4d}: {100 * p / cnt:+6.2f} | {100 * o / cnt:+6.2f}  {100 * (p - o) / cases:+.3f}")


if __name__ == "__main__":
    main()
