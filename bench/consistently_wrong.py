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


def per_question(pop, what: str, i, k: int) -> np.ndarray:
    """(Q,) per question: model i's P(consistently wrong in k draws) (``what="wrong"``), or the contradiction
    of the pair ``i`` (``what="contradiction"``), of a classes fit's population (its layout questions, one per
    (question, class), summed back into the pilot's questions) or of an empirical one."""
    lay, mix, qw, _ = exact_layout(pop)
    eng = Engine(lay, [k] * lay.n_models, mix=mix)
    v = eng.contradiction(list(i), [k, k]) if what == "contradiction" else eng.consistently_wrong(i, k)
    if not hasattr(pop, "question_of_rows"):  # an empirical population: one layout question per question
        return v
    return np.bincount(pop.question_of_rows(), weights=v * qw, minlength=len(pop.questions)) * len(pop.questions)


def mean_value(pop, k: int) -> float:
    """Question-weighted P(k draws are one and the same named wrong answer) of a one-model population."""
    lay, mix, qw, _ = exact_layout(pop)
    return float(np.asarray(qw) @ Engine(lay, [k], mix=mix).consistently_wrong(0, k))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7")
    ap.add_argument("--k", default="2,4,7")
    a = ap.parse_args(argv)
    ks = [int(k) for k in a.k.split(",")]
    tab = load(a.data)
    pilot, held = tab.select(samples=slice(0, 3)), tab.select(samples=slice(3, None))
    fits = {kind: fit(pilot, kind, **AUTO_OPTIONS.get(kind, {})) for kind in KINDS}
    cls = fits["classes"]
    n, Q = len(tab.models), tab.n_questions
    c = pilot.codes
    w_cell = (c[:, :, 0] > 0) & (c == c[:, :, :1]).all(axis=2)
    state = np.where(w_cell, "W", (c == 0).sum(axis=2).astype(str))  # (Q, n)

    print(f"{a.data}: 1. P(k draws all one and the same wrong answer), points: observed held-out | " + " ".join(KINDS))
    err = np.zeros((len(KINDS), len(ks)))
    for i, m in enumerate(tab.models):
        cells = []
        for j, k in enumerate(ks):
            obs = mean_value(held.empirical([m]), k)
            pred = [mean_value(f.population([m]), k) for f in fits.values()]
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
            vals = [(per_question(held.empirical([m]), "wrong", 0, k)[sel],
                     per_question(cls.population([m]), "wrong", 0, k)[sel]) for k in (3, 7)]
            tot += [[o.sum(), p.sum()] for o, p in vals]
            print(f"  {m[:24]:24s} {sel.sum():3d} cells  " + "   ".join(
                f"k={k}: {100 * o.mean():5.1f} | {100 * p.mean():5.1f}" for k, (o, p) in zip((3, 7), vals)))
        print(f"  all {int(cells.sum())} {label} cells  " + "   ".join(
            f"k={k}: {100 * t[0] / cells.sum():5.1f} | {100 * t[1] / cells.sum():5.1f}" for k, t in zip((3, 7), tot)))

    print(f"{a.data}: 3. contradiction of each pair, change from k = 3 to k = 7 (points, per pair-question), "
          "by the pair's pilot states: predicted (classes) | observed; contribution to the mean extrapolation error")
    acc, by_w = defaultdict(lambda: np.zeros(3)), defaultdict(lambda: np.zeros(3))
    pop = cls.population()
    for i, j in itertools.combinations(range(n), 2):
        d_pred = per_question(pop, "contradiction", (i, j), 7) - per_question(pop, "contradiction", (i, j), 3)
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
