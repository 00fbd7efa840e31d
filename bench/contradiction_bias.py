"""Where the fits' contradiction bias comes from: cross-model pooling, and models locked on one wrong answer.

On the bundled jhu logs (9 models x 100 questions x 10 samples) each fit is made from the first 3 samples per
question (the pilot) and predicts, for every pair and triple of models at k = 2, 4, 7, the union and the
contradiction (robust level 1); the observed values are the exact ones of the held-out samples 4-10.  Printed:
mean signed error (pred - obs) and, in brackets, the MAE, in points, per k, for

* ``shrinkage`` (cross-model priors, the default) and ``shrinkage, own prior`` (``cross_model=False``);
* each of them with a *locked* state added: on each question, independently per model, model i is locked with
  probability pi_i -- it never answers correctly and every valid draw is one and the same wrong answer (it
  abstains at its pilot rate).  pi_i and each question's posterior ell_qi come from EM on the pilot of a
  mixture of the locked state and a one-class regular model (Beta-binomial correct count, binomial
  abstentions, the latent classes' attractor pattern); a question can be locked only if its pilot has no
  correct draw and its valid draws are one answer.  Union and contradiction combine per-model summaries of a
  question (P(>= 1 correct), P(consistently wrong)), which are linear in each model's law, so the locked
  prediction mixes them exactly: ``ell (1 - abstain)^k + (1 - ell) cw`` and ``(1 - ell) P(>= 1 correct)``.

Exploratory (not a predictor of the package): it measures how much of the bias each change removes.

Usage: python bench/contradiction_bias.py [--data jhu:0.7,jhu:0.3,jhu:1.0]
"""

from __future__ import annotations

import argparse
import itertools
import sys
from pathlib import Path

import numpy as np
from scipy.special import gammaln

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calibration import load  # noqa: E402
from muxsim.exact import combine  # noqa: E402
from muxsim.exact.engine import Engine  # noqa: E402
from muxsim.fit import fit  # noqa: E402
from muxsim.fit.classes import _component_ll, _m_step, _pilot_counts  # noqa: E402

KS = (2, 4, 7)


def locked_posterior(codes: np.ndarray, iters: int = 60) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``(pi (n,), ell (Q, n), abstain (n,))`` by EM per model (see module notes)."""
    d = _pilot_counts(codes)
    Q, n = d["c"].shape
    m = d["m"]
    compatible = (d["c"] == 0) & ((d["r"] <= 1) | (d["j"] == d["r"]))
    abstain = d["a"].sum(axis=0) / (Q * m)
    pi, ell = np.full(n, 0.1), np.zeros((Q, n))
    for i in range(n):
        di = {key: (v[:, i : i + 1] if isinstance(v, np.ndarray) else v) for key, v in d.items()}
        a, b, g = np.ones((1, 1)), np.ones((1, 1)), np.ones((Q, 1))
        ac = di["a"][:, 0]
        for _ in range(iters):
            a, b, ab, s = _m_step(di, g, a, b)
            regular = _component_ll(di, a, b, ab, s)[:, 0, 0]
            ab0 = float(np.clip(ab[0, 0], 1e-9, 1 - 1e-9))
            lock = gammaln(m + 1) - gammaln(ac + 1) - gammaln(m - ac + 1) + ac * np.log(ab0) + (m - ac) * np.log1p(-ab0)
            num = np.log(pi[i]) + np.where(compatible[:, i], lock, -np.inf)
            t = np.exp(num - np.logaddexp(num, np.log1p(-pi[i]) + regular))
            pi[i] = max(float(t.mean()), 1e-6)
            g = (1 - t)[:, None]
        ell[:, i] = t
    return pi, ell, abstain


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7,jhu:0.3,jhu:1.0")
    a = ap.parse_args(argv)
    for data in a.data.split(","):
        tab = load(data)
        pilot, held = tab.select(samples=slice(0, 3)), tab.select(samples=slice(3, None))
        pi, ell, abstain = locked_posterior(pilot.codes)
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
