"""Where the fits' contradiction bias comes from: cross-model pooling, and models locked on one wrong answer.

On the bundled jhu logs (9 models x 100 questions x 10 samples) each fit is made from the first 3 samples per
question (the pilot) and predicts, for every pair and triple of models at k = 2, 4, 7, the union and the
contradiction (robust level 1); the observed values are the exact ones of the held-out samples 4-10.  Printed:
mean signed error (pred - obs) and, in brackets, the MAE, in points, per k, for

* ``shrinkage`` (cross-model priors, the default) and ``shrinkage, own prior`` (``cross_model=False``);
* each of them with the *locked* state (``locked=True``, :mod:`muxsim.fit.locked`: on each question,
  independently per model, model i is locked with probability pi_i -- it never answers correctly and every
  valid draw is one and the same wrong answer; fitted by EM inside the shrinkage likelihood).

Exploratory: it measures how much of these two methods' bias each change removes; ``bench/calibration.py
--kinds shrinkage:locked=1`` scores the fit that carries the state on every method.

Also printed: how many (question, model) cells had every pilot draw on one wrong answer, and the share of
them that gave that answer in every held-out draw.

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
from muxsim.exact.engine import Engine  # noqa: E402
from muxsim.fit import fit  # noqa: E402

KS = (2, 4, 7)


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7,jhu:0.3,jhu:1.0")
    a = ap.parse_args(argv)
    for data in a.data.split(","):
        tab = load(data)
        pilot, held = tab.select(samples=slice(0, 3)), tab.select(samples=slice(3, None))
        fits = {(name, lk): fit(pilot, "shrinkage", cross_model=own, locked=bool(lk))
                for name, own in (("shrinkage", True), ("shrinkage, own prior", False)) for lk in (0, 1)}
        pi = fits["shrinkage", 1].lock_share
        print(f"{data}: locked share pi per model: " + ", ".join(f"{m[:12]} {p:.3f}" for m, p in zip(tab.models, pi)))
        pc, hc = pilot.codes, held.codes
        one = (pc > 0).all(axis=2) & (pc == pc[:, :, :1]).all(axis=2)  # every pilot draw one and the same wrong answer
        kept = (hc == pc[:, :, :1]).all(axis=2) & one
        print(f"  cells whose {pc.shape[2]} pilot draws were one wrong answer: {int(one.sum())}; of them "
              f"{100 * kept.sum() / max(one.sum(), 1):.0f}% gave it in all {hc.shape[2]} held-out draws")
        err = {(f, lk, meth): np.zeros((2, len(KS))) for f, lk in fits for meth in ("contradiction", "union")}
        n_sub = 0
        for size in (2, 3):
            for S in itertools.combinations(range(len(tab.models)), size):
                names, loc = [tab.models[i] for i in S], list(range(size))
                hl, hm, hq = held.empirical(names).layout()
                he = Engine(hl, max(KS), mix=hm)
                n_sub += 1
                for (fname, lk), f in fits.items():
                    lay, mix, qw = f.population(names).layout()
                    eng = Engine(lay, max(KS), mix=mix)
                    for j, k in enumerate(KS):
                        for meth in ("contradiction", "union"):
                            d = 100 * (qw @ getattr(eng, meth)(loc, [k] * size) - hq @ getattr(he, meth)(loc, [k] * size))
                            err[fname, lk, meth][:, j] += [d, abs(d)]
        for (fname, lk, meth), e in err.items():
            e /= n_sub
            cells = "  ".join(f"k={k}: {s:+.2f} ({m:.2f})" for k, s, m in zip(KS, e[0], e[1]))
            print(f"  {meth:13s} {fname + (' + locked' if lk else ''):31s} {cells}")


if __name__ == "__main__":
    main()
