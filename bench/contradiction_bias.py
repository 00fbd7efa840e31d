"""Where the fits' contradiction bias comes from: cross-model pooling, and models locked on one wrong answer.

On the bundled jhu logs (9 models x 100 questions x 10 samples) each fit is made from the first 3 samples per
question (the pilot) and predicts, for every pair and triple of models at k = 2, 4, 7, the union and the
contradiction (robust level 1); the observed values are the exact ones of the held-out samples 4-10.  Printed:
mean signed error (pred - obs) and, in brackets, the MAE, in points, per k, for

* ``shrinkage`` (cross-model priors, the default) and ``shrinkage, own prior`` (``cross_model=False``);
* each of them with a *locked* state added (:mod:`muxsim.fit.locked`: on each question, independently per
  model, model i is locked with probability pi_i -- it never answers correctly and every valid draw is one and
  the same wrong answer; pi_i and each question's posterior ell_qi by EM on the pilot), mixed in here by hand
  from the fits without it (``fit_shrinkage(locked=True)`` does it in the population).  Union and
  contradiction combine per-model summaries of a
  question (P(>= 1 correct), P(consistently wrong)), which are linear in each model's law, so the locked
  prediction mixes them exactly: ``ell (1 - abstain)^k + (1 - ell) cw`` and ``(1 - ell) P(>= 1 correct)``.

Exploratory: it measures how much of these two methods' bias each change removes; ``bench/calibration.py
--kinds shrinkage:locked=1:cross_model=0`` scores the fit that carries the state on every method.

Usage: python bench/contradiction_bias.py [--data jhu:0.7,jhu:0.3,jhu:1.0]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calibration import load  # noqa: E402
from muxsim.exact import combine  # noqa: E402
from muxsim.exact.engine import Engine  # noqa: E402
from muxsim.fit import fit  # noqa: E402
from muxsim.fit.locked import locked_posterior  # noqa: E402

KS = (2, 4, 7)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7,jhu:0.3,jhu:1.0")
    a = ap.parse_args(argv)
    for data in a.data.split(","):
        tab = load(data)
        pilot, held = tab.select(samples=slice(0, 3)), tab.select(samples=slice(3, None))
        st = locked_posterior(pilot.codes)
        pi, ell, abstain = st.share, st.post, st.abstain
        print(f"{data}: locked share pi per model: " + ", ".join(f"{m[:12]} {p:.3f}" for m, p in zip(tab.models, pi)))
        fits = {"shrinkage": fit(pilot, "shrinkage"), "shrinkage, own prior": fit(pilot, "shrinkage", cross_model=False)}
        err = {(f, lk, meth): np.zeros((2, len(KS))) for f in fits for lk in (0, 1) for meth in ("contradiction", "union")}
        n_sub = 0
        for size in (2, 3):
            for S in itertools.combinations(range(len(tab.models)), size):
                names, loc = [tab.models[i] for i in S], list(range(size))
                hl, hm, hq = held.empirical(names).layout()
                he = Engine(hl, max(KS), mix=hm)
                n_sub += 1
                for fname, f in fits.items():
                    lay, mix, qw = f.population(names).layout()
                    eng = Engine(lay, max(KS), mix=mix)
                    for j, k in enumerate(KS):
                        obs = {"contradiction": hq @ he.contradiction(loc, [k] * size), "union": hq @ he.union(loc, [k] * size)}
                        cw = [eng.consistently_wrong(i, k) for i in loc]
                        right = [eng._at_least(i, k, 1) for i in loc]
                        e = [ell[:, S[i]] for i in loc]
                        cw_l = [e[i] * (1 - abstain[S[i]]) ** k + (1 - e[i]) * cw[i] for i in loc]
                        right_l = [(1 - e[i]) * right[i] for i in loc]
                        for lk, (A, B) in enumerate([(cw, right), (cw_l, right_l)]):
                            pred = {"contradiction": qw @ combine.contradiction(A, B), "union": qw @ combine.union(B)}
                            for meth, v in pred.items():
                                d = 100 * (v - obs[meth])
                                err[fname, lk, meth][:, j] += [d, abs(d)]
        for (fname, lk, meth), e in err.items():
            e /= n_sub
            cells = "  ".join(f"k={k}: {s:+.2f} ({m:.2f})" for k, s, m in zip(KS, e[0], e[1]))
            print(f"  {meth:13s} {fname + (' + locked' if lk else ''):31s} {cells}")


if __name__ == "__main__":
    main()
