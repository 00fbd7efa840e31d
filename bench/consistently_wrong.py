"""Where the fits' large-k bias comes from: each model's P(all k draws are one and the same wrong answer).

On the bundled jhu logs (``--data jhu:0.7`` by default; 9 models x 100 questions x 10 samples) each fit
family is fitted on the first 3 samples per question (the pilot) and predicts, per model, the probability
that k draws are all one and the same named wrong answer (the per-model part of the contradiction); the
observed value is the exact one of the held-out samples 4-10 (k of 7 drawn without replacement; at k = 7
all of them).  Printed in points, per model and k, observed | latent | classes | shrinkage, and the mean
signed error of each family at each k.

Usage: python bench/consistently_wrong.py [--data jhu:0.7] [--k 2,4,7]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from calibration import load  # noqa: E402
from muxsim.exact.engine import Engine  # noqa: E402
from muxsim.fit import fit  # noqa: E402

KINDS = ("latent", "classes", "shrinkage")


def consistently_wrong(pop, k: int) -> float:
    """Question-weighted P(k draws are one and the same named wrong answer) of a one-model population."""
    lay, mix, qw = pop.layout()
    return float(np.asarray(qw) @ Engine(lay, [k], mix=mix).consistently_wrong(0, k))


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7")
    ap.add_argument("--k", default="2,4,7")
    a = ap.parse_args(argv)
    ks = [int(k) for k in a.k.split(",")]
    tab = load(a.data)
    pilot, held = tab.select(samples=slice(0, 3)), tab.select(samples=slice(3, None))
    fits = {kind: fit(pilot, kind) for kind in KINDS}
    print(f"{a.data}: P(k draws all one and the same wrong answer), points: observed held-out | "
          + " ".join(KINDS))
    err = np.zeros((len(KINDS), len(ks)))
    for m in tab.models:
        cells = []
        for j, k in enumerate(ks):
            obs = consistently_wrong(held.empirical([m]), k)
            pred = [consistently_wrong(f.population([m]), k) for f in fits.values()]
            err[:, j] += np.array(pred) - obs
            cells.append(f"k={k}: {100 * obs:5.1f} | " + " ".join(f"{100 * p:5.1f}" for p in pred))
        print(f"  {m[:24]:24s} " + "   ".join(cells))
    err *= 100 / len(tab.models)
    for kind, e in zip(KINDS, err):
        print(f"  mean signed error {kind:9s} " + "  ".join(f"k={k}: {v:+.1f}" for k, v in zip(ks, e)))


if __name__ == "__main__":
    main()
