"""``kind="auto"``: choose the fit family from the pilot alone, by cross-validation over its samples.

For each of the pilot's m samples j: fit every candidate family on the other
m - 1 samples and predict, at k = 1, SC of every model and MUX, vote and union
of the first ``max_pairs`` pairs of models (tie-break order); compare with the
exact values of the left-out sample j on the same questions.  The families'
weights minimise the mean absolute error of their weighted prediction over the
m folds (stacking on a grid of 0.05); each family is fitted on the whole pilot
first (the folds' latent classes keep its number of classes, chosen there by
AIC), and the families of weight > 0 are mixed with those weights (:class:`muxsim.fit.mixture.MixtureFit`;
one family alone is returned as itself).  The scores and weights are in
``fit.selection`` (saved in the fit file) and a diagnostic line.  Held-out data
is never used.

Assumptions and limits: k = 1 is what one left-out sample can check, so the
criterion rewards fits that get each question's single-draw accuracies and the
pairwise agreement right; how a fit extrapolates to large k is not tested by
it.  Mixing hedges: where the families disagree, the mixture's intervals
(draws from the mixture) hold the disagreement.  Cost: m + 1 fits per family.
"""

from __future__ import annotations

import itertools
from typing import Callable, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit, check_table

__all__ = ["fit_auto", "cv_predictions", "cv_scores", "stacking_weights", "CANDIDATES"]

#: families tried by default
CANDIDATES = ("latent", "classes", "shrinkage")


def _targets(models: Sequence[str], max_pairs: int) -> list[tuple[list[str], list[str]]]:
    out = [([m], [f"sc[{m}]"]) for m in models]
    out += [(list(p), ["mux", "vote", "union"]) for p in list(itertools.combinations(models, 2))[:max_pairs]]
    return out


def cv_predictions(table, kinds: Sequence[str] = CANDIDATES, *, max_pairs: int = 6, options: dict | None = None,
                   progress: Callable[[int], None] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Leave-one-sample-out predictions at k = 1 (see module notes): ``({kind: predictions}, observed)``,
    one entry per (left-out sample, target model set, method).  ``progress(1)`` after each of the
    ``K * len(kinds)`` fits."""
    from muxsim.fit import fit
    from muxsim.logs.evaluate import per_question_values

    check_table(table)
    if table.K < 2:
        raise MuxsimError(f"kind='auto' needs a pilot of at least 2 samples per question, got K={table.K}")
    options = options or {}
    targets = _targets(list(table.models), max_pairs)
    pred: dict[str, list[float]] = {k: [] for k in kinds}
    obs: list[float] = []
    for j in range(table.K):
        train = table.select(samples=[i for i in range(table.K) if i != j])
        test = table.select(samples=[j])
        for sel, meths in targets:
            vals = per_question_values(test, sel, [1], meths)
            obs += [float(vals[m].mean()) for m in meths]
        for kind in kinds:
            f = fit(train, kind, **options.get(kind, {}))
            for sel, meths in targets:
                c = f.predict([1], models=sel, methods=meths, level=None, with_paper=False)
                pred[kind] += [float(c.values[m][0]) for m in meths]
            if progress:
                progress(1)
    return {k: np.asarray(v) for k, v in pred.items()}, np.asarray(obs)


def cv_scores(table, kinds: Sequence[str] = CANDIDATES, *, max_pairs: int = 6,
              options: dict | None = None) -> dict[str, float]:
    """{kind: mean absolute error (points)} of leave-one-sample-out predictions at k = 1 (see module notes)."""
    pred, obs = cv_predictions(table, kinds, max_pairs=max_pairs, options=options)
    return {k: 100 * float(np.mean(np.abs(v - obs))) for k, v in pred.items()}


def stacking_weights(pred: dict[str, np.ndarray], obs: np.ndarray, *, step: float = 0.05) -> dict[str, float]:
    """Weights on the simplex (a grid of ``step``) minimising the mean absolute error of the weighted
    prediction ``sum_j w_j pred_j`` against ``obs`` (stacking, Yao et al. 2018, with absolute error).

    Ties go to the grid point with the fewest components, then the earlier ones (a single family
    wins a tie with any mixture that contains it)."""
    kinds = list(pred)
    P = np.stack([pred[k] for k in kinds])  # (J, n)
    steps = int(round(1 / step))
    best, best_key = None, None
    for combo in itertools.product(range(steps + 1), repeat=len(kinds) - 1):
        if sum(combo) > steps:
            continue
        w = np.array(list(combo) + [steps - sum(combo)], dtype=float) / steps
        err = float(np.mean(np.abs(w @ P - obs)))
        key = (round(err, 12), int((w > 0).sum()), tuple(-w))
        if best_key is None or key < best_key:
            best, best_key = w, key
    return dict(zip(kinds, best.tolist()))


def fit_auto(table, *, kinds: Sequence[str] = CANDIDATES, max_pairs: int = 6, options: dict | None = None,
             mix: bool = True, progress: Callable[[int], None] | None = None) -> Fit:
    """The families weighted by leave-one-sample-out stacking (``mix=True``), or the single family with the
    lowest leave-one-sample-out error (``mix=False``), fitted on the whole pilot.

    A mixture (:class:`~muxsim.fit.mixture.MixtureFit`) holds only the families of weight > 0;
    a single family is returned as itself.  ``options`` maps a family to its fitting options
    (e.g. ``{"shrinkage": {"max_labels": 2}}``); the folds' latent-class fits keep the whole pilot's
    number of classes and use one EM start unless ``options`` says otherwise.  ``progress(n)``
    after each of the ``(K + 1) * len(kinds)`` fits.  ``fit.selection`` records the criterion, each
    family's cross-validated error, the weights and the error of the weighted prediction."""
    from muxsim.fit import KINDS_BY_NAME, fit
    from muxsim.fit.mixture import MixtureFit

    kinds = list(kinds)
    bad = [k for k in kinds if k not in KINDS_BY_NAME]
    if bad or not kinds or len(set(kinds)) != len(kinds):
        raise MuxsimError(f"kinds={kinds!r} must be distinct names among {sorted(KINDS_BY_NAME)}")
    options = options or {}
    full = {k: fit(table, k, **options.get(k, {})) for k in kinds}  # the whole pilot, first
    if progress:
        progress(len(kinds))
    folds = {k: dict(options.get(k, {})) for k in kinds}
    if "classes" in full:  # the folds keep the whole pilot's number of classes (chosen there by AIC), one start
        folds["classes"].setdefault("n_classes", (full["classes"].n_classes,))
        folds["classes"].setdefault("starts", 1)
    pred, obs = cv_predictions(table, kinds, max_pairs=max_pairs, options=folds, progress=progress)
    scores = {k: 100 * float(np.mean(np.abs(v - obs))) for k, v in pred.items()}
    if mix:
        weights = stacking_weights(pred, obs)
    else:
        chosen = min(kinds, key=lambda k: scores[k])  # ties: the first candidate
        weights = {k: float(k == chosen) for k in kinds}
    used = [k for k in kinds if weights[k] > 0]
    mixed = 100 * float(np.mean(np.abs(sum(weights[k] * pred[k] for k in kinds) - obs)))
    fits = [full[k] for k in used]
    if len(fits) == 1:
        f = fits[0]
    else:  # the components' diagnostics, each named by its family
        f = MixtureFit(tuple(fits), np.array([weights[k] for k in used]),
                       [f"{k}: {d}" for k, c in zip(used, fits) for d in c.diagnostics])
    criterion = (f"leave-one-sample-out over the pilot's {table.K} samples: MAE of k = 1 predictions "
                 f"(SC of every model; MUX, vote, union of up to {max_pairs} pairs)")
    f.selection = {"chosen": "+".join(used), "weights": weights, "cv_mae_points": scores, "mixed_cv_mae_points": mixed,
                   "criterion": criterion + (", weights by stacking on a 0.05 grid" if mix else ", the lowest one")}
    how = ("mixed " + ", ".join(f"{k} {weights[k]:.2f}" for k in used)) if len(used) > 1 else f"chose {used[0]}"
    f.diagnostics = list(f.diagnostics) + [
        f"auto: {how} by {f.selection['criterion']} -- " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
        + f" points; weighted {mixed:.2f}"]
    return f
