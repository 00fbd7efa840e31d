"""``kind="auto"``: choose the fit family from the pilot alone, by cross-validation over its samples.

For each of the pilot's m samples j: fit every candidate family on the other
m - 1 samples and predict, at k = 1, SC of every model and MUX, vote and union
of the first ``max_pairs`` pairs of models (tie-break order); score the mean
absolute error against the exact values of the left-out sample j on the same
questions.  The family with the lowest mean error over the m folds is refitted
on the whole pilot and returned, with the scores in ``fit.selection`` (saved in
the fit file) and a diagnostic line.  Held-out data is never used.

Assumptions and limits: k = 1 is what one left-out sample can check, so the
criterion rewards fits that get each question's single-draw accuracies and the
pairwise agreement right; how a fit extrapolates to large k is not tested by
it.  Cost: m + 1 fits per family.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit, check_table

__all__ = ["fit_auto", "CANDIDATES"]

#: families tried by default
CANDIDATES = ("latent", "classes", "shrinkage")


def _targets(models: Sequence[str], max_pairs: int) -> list[tuple[list[str], list[str]]]:
    out = [([m], [f"sc[{m}]"]) for m in models]
    out += [(list(p), ["mux", "vote", "union"]) for p in list(itertools.combinations(models, 2))[:max_pairs]]
    return out


def cv_scores(table, kinds: Sequence[str] = CANDIDATES, *, max_pairs: int = 6,
              options: dict | None = None) -> dict[str, float]:
    """{kind: mean absolute error (points)} of leave-one-sample-out predictions at k = 1 (see module notes)."""
    from muxsim.fit import fit
    from muxsim.logs.evaluate import per_question_values

    check_table(table)
    if table.K < 2:
        raise MuxsimError(f"kind='auto' needs a pilot of at least 2 samples per question, got K={table.K}")
    options = options or {}
    targets = _targets(list(table.models), max_pairs)
    err: dict[str, list[float]] = {k: [] for k in kinds}
    for j in range(table.K):
        train = table.select(samples=[i for i in range(table.K) if i != j])
        test = table.select(samples=[j])
        obs = {}
        for sel, meths in targets:
            vals = per_question_values(test, sel, [1], meths)
            for m in meths:
                obs[(tuple(sel), m)] = float(vals[m].mean())
        for kind in kinds:
            f = fit(train, kind, **options.get(kind, {}))
            for sel, meths in targets:
                c = f.predict([1], models=sel, methods=meths, level=None, with_paper=False)
                for m in meths:
                    err[kind].append(abs(float(c.values[m][0]) - obs[(tuple(sel), m)]))
    return {k: 100 * float(np.mean(v)) for k, v in err.items()}


def fit_auto(table, *, kinds: Sequence[str] = CANDIDATES, max_pairs: int = 6, options: dict | None = None) -> Fit:
    """The candidate family with the lowest leave-one-sample-out error, refitted on the whole pilot.

    ``options`` maps a family to its fitting options (e.g. ``{"shrinkage": {"max_labels": 2}}``)."""
    from muxsim.fit import KINDS_BY_NAME, fit

    bad = [k for k in kinds if k not in KINDS_BY_NAME]
    if bad or not kinds:
        raise MuxsimError(f"kinds={list(kinds)!r} must be some of {sorted(KINDS_BY_NAME)}")
    scores = cv_scores(table, kinds, max_pairs=max_pairs, options=options)
    chosen = min(kinds, key=lambda k: scores[k])  # ties: the first candidate
    f = fit(table, chosen, **(options or {}).get(chosen, {}))
    f.selection = {"chosen": chosen, "cv_mae_points": scores,
                   "criterion": f"leave-one-sample-out over the pilot's {table.K} samples: MAE of k = 1 predictions "
                                f"(SC of every model; MUX, vote, union of up to {max_pairs} pairs)"}
    f.diagnostics = list(f.diagnostics) + [
        f"auto: chose {chosen} by " + f.selection["criterion"] + " — "
        + ", ".join(f"{k} {v:.2f}" for k, v in scores.items()) + " points"]
    return f
