"""``kind="auto"``: choose the fit family from the pilot alone, by cross-validation over its samples
and a posterior predictive check at k <= m.

Two parts, on the same targets (SC of every model; MUX, vote, union and
contradiction of every pair of models, or of ``max_pairs`` of them spread evenly over the list of
pairs).  The targets are built on the models in a canonical order -- the pilot's accuracy, highest
first (SLM-MUX's tie-break order), ties by name -- so the criterion, and with it the weights, do not
depend on the order in which the table lists the models:

* **leave one sample out, k = 1**: for each of the pilot's m samples j, every
  candidate family is fitted on the other m - 1 samples and predicts the
  targets at k = 1, compared with the exact values of the left-out sample j on
  the same questions;
* **posterior predictive check, k = 2..m**: each family fitted on the whole
  pilot predicts the targets at k = 2..m for fresh draws, compared with the
  pilot's own exact values at those k (k of its m samples without replacement).
  Under a fit whose model is right, the prediction of a fresh k-draw statistic
  and the statistic of the observed draws have the same expectation (the draws
  are exchangeable), so a fit is penalised only for getting the repeats wrong:
  how often a question's answers agree, which drives vote, MUX and
  contradiction at large k.  A one-sample-out fit cannot be checked beyond
  k = 1, and a plug-in fit (each question's own frequencies) is not rewarded
  here: its fresh 3-draw majority is not the observed one.

The families' weights minimise the mean absolute error of their weighted
prediction over both parts pooled (stacking on a grid of 0.05); each family is
fitted on the whole pilot first (the folds' latent classes keep its number of
classes, chosen there by AIC), and the families of weight > 0 are mixed with
those weights (:class:`muxsim.fit.mixture.MixtureFit`; one family alone is
returned as itself).  The scores and weights are in ``fit.selection`` (saved in
the fit file) and a diagnostic line.  Held-out data is never used.

Assumptions and limits: the check at k <= m is in-sample (the same draws fit
and check), so it tests the fits' repeat structure up to k = m, not their
extrapolation beyond; with m = 2 only k = 2 is checked.  Mixing hedges: where
the families disagree, the mixture's intervals (draws from the mixture) hold
the disagreement.  Cost: m + 1 fits per family, each predicting every pair at k <= m (on the bundled
jhu logs, 9 models and 36 pairs, about 15% more time than 6 pairs).
"""

from __future__ import annotations

import itertools
from typing import Callable, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit, check_table

__all__ = ["fit_auto", "canonical_order", "cv_predictions", "cv_scores", "ppc_predictions", "stacking_weights",
           "CANDIDATES", "AUTO_OPTIONS"]

#: families tried by default
CANDIDATES = ("latent", "classes", "shrinkage")
#: each family's fitting options inside ``auto`` unless ``options`` says otherwise: the latent classes with
#: their locked state and each question's own abstention rate (``bench/calibration.py``: the lock better or equal
#: on all four bundled data sets inside ``auto``; the abstention spread lowers the classes' AIC on the jhu pilot
#: at T = 0.7 from 2811 to 2679 and the mean MAE over the four from 1.76 to 1.73 points, see the README)
AUTO_OPTIONS = {"classes": {"locked": True, "abstain_spread": True}}


def canonical_order(table) -> list[str]:
    """The table's models by the pilot's accuracy, highest first (SLM-MUX's tie-break order), ties by name."""
    acc = table.accuracy()
    return [m for _, m in sorted(zip(-acc, table.models), key=lambda t: (round(float(t[0]), 12), t[1]))]


def _targets(table, max_pairs: int | None) -> list[tuple[list[str], list[str]]]:
    """SC of every model; the pair methods of every pair, or of ``max_pairs`` spread evenly over the pairs
    (both in :func:`canonical_order`)."""
    models = canonical_order(table)
    pairs = list(itertools.combinations(models, 2))
    if max_pairs is not None and max_pairs < len(pairs):
        pairs = [pairs[i] for i in np.linspace(0, len(pairs) - 1, max_pairs).round().astype(int)]
    return ([([m], [f"sc[{m}]"]) for m in models]
            + [(list(p), ["mux", "vote", "union", "contradiction"]) for p in pairs])


def cv_predictions(table, kinds: Sequence[str] = CANDIDATES, *, max_pairs: int | None = None,
                   options: dict | None = None,
                   progress: Callable[[int], None] | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Leave-one-sample-out predictions at k = 1 (see module notes): ``({kind: predictions}, observed)``,
    one entry per (left-out sample, target model set, method).  ``progress(1)`` after each of the
    ``K * len(kinds)`` fits."""
    from muxsim.fit import KINDS_BY_NAME
    from muxsim.logs.evaluate import per_question_values

    check_table(table)
    if table.K < 2:
        raise MuxsimError(f"kind='auto' needs a pilot of at least 2 samples per question, got K={table.K}")
    options = options or {}
    targets = _targets(table, max_pairs)
    pred: dict[str, list[float]] = {k: [] for k in kinds}
    obs: list[float] = []
    for j in range(table.K):
        train = table.select(samples=[i for i in range(table.K) if i != j])
        test = table.select(samples=[j])
        for sel, meths in targets:
            vals = per_question_values(test, sel, [1], meths)
            obs += [float(vals[m].mean()) for m in meths]
        for kind in kinds:
            f = KINDS_BY_NAME[kind](train, **options.get(kind, {}))
            for sel, meths in targets:
                c = f.predict([1], models=sel, methods=meths, level=None, with_paper=False)
                pred[kind] += [float(c.values[m][0]) for m in meths]
            if progress:
                progress(1)
    return {k: np.asarray(v) for k, v in pred.items()}, np.asarray(obs)


def ppc_predictions(table, fits: dict, *, max_pairs: int | None = None) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """Posterior predictive check at k = 2..m (see module notes): each fit of the whole pilot (``{kind: fit}``)
    predicts the targets at k = 2..m; ``({kind: predictions}, the pilot's own exact values)``, one entry per
    (k, target model set, method)."""
    from muxsim.logs.evaluate import per_question_values

    ks = list(range(2, table.K + 1))
    pred: dict[str, list[float]] = {k: [] for k in fits}
    obs: list[float] = []
    for sel, meths in _targets(table, max_pairs):
        vals = per_question_values(table, sel, ks, meths)
        obs += [float(v) for m in meths for v in vals[m].mean(axis=1)]
        for kind, f in fits.items():
            c = f.predict(ks, models=sel, methods=meths, level=None, with_paper=False)
            pred[kind] += [float(v) for m in meths for v in c.values[m]]
    return {k: np.asarray(v) for k, v in pred.items()}, np.asarray(obs)


def _criterion(table, full: dict, max_pairs: int | None, folds: dict, progress=None):
    """Both parts pooled (see module notes): ``(pred, obs, {kind: MAE of part 1}, {kind: MAE of part 2})``."""
    cv, cv_obs = cv_predictions(table, list(full), max_pairs=max_pairs, options=folds, progress=progress)
    pp, pp_obs = ppc_predictions(table, full, max_pairs=max_pairs)
    return ({k: np.concatenate([cv[k], pp[k]]) for k in full}, np.concatenate([cv_obs, pp_obs]),
            {k: _mae(cv[k], cv_obs) for k in full}, {k: _mae(pp[k], pp_obs) for k in full})


def _mae(pred: np.ndarray, obs: np.ndarray) -> float:
    return 100 * float(np.mean(np.abs(pred - obs)))


def cv_scores(table, kinds: Sequence[str] = CANDIDATES, *, max_pairs: int | None = None,
              options: dict | None = None) -> dict[str, float]:
    """{kind: mean absolute error (points)} of ``kind="auto"``'s criterion, both parts pooled (see module notes):
    ``fit.selection["cv_mae_points"]`` of :func:`fit_auto`."""
    return fit_auto(table, kinds=kinds, max_pairs=max_pairs, options=options, mix=False).selection["cv_mae_points"]


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


def fit_auto(table, *, kinds: Sequence[str] = CANDIDATES, max_pairs: int | None = None, options: dict | None = None,
             mix: bool = True, progress: Callable[[int], None] | None = None) -> Fit:
    """The families weighted by stacking on the pilot's criterion (``mix=True``; module notes), or the single
    family with the lowest error on it (``mix=False``), fitted on the whole pilot.

    A mixture (:class:`~muxsim.fit.mixture.MixtureFit`) holds only the families of weight > 0;
    a single family is returned as itself.  ``options`` maps a family to its fitting options
    (e.g. ``{"shrinkage": {"max_labels": 2}}``), over :data:`AUTO_OPTIONS` (the classes' locked state, unless
    ``{"classes": {"locked": False}}``); the folds' latent-class fits keep the whole pilot's
    number of classes and use one EM start unless ``options`` says otherwise.  ``progress(n)``
    after each of the ``(K + 1) * len(kinds)`` fits.  ``fit.selection`` records the criterion, each
    family's error on it (``cv_mae_points``; each part alone: ``loo_k1_mae_points``, ``ppc_mae_points``),
    the weights and the error of the weighted prediction."""
    from muxsim.fit import KINDS_BY_NAME
    from muxsim.fit.mixture import MixtureFit

    kinds = list(kinds)
    if max_pairs is not None and (isinstance(max_pairs, bool) or not isinstance(max_pairs, (int, np.integer))
                                  or max_pairs < 0):
        raise MuxsimError(f"max_pairs={max_pairs!r} must be None (every pair) or an integer >= 0")
    bad = [k for k in kinds if k not in KINDS_BY_NAME]
    if bad or not kinds or len(set(kinds)) != len(kinds):
        raise MuxsimError(f"kinds={kinds!r} must be distinct names among {sorted(KINDS_BY_NAME)}")
    options = {k: {**AUTO_OPTIONS.get(k, {}), **(options or {}).get(k, {})} for k in kinds}
    full = {k: KINDS_BY_NAME[k](table, **options[k]) for k in kinds}  # the whole pilot, first
    if progress:
        progress(len(kinds))
    folds = {k: dict(options[k]) for k in kinds}
    if "classes" in full:  # the folds keep the whole pilot's number of classes (chosen there by AIC), one start
        folds["classes"].setdefault("n_classes", (full["classes"].n_classes,))
        folds["classes"].setdefault("starts", 1)
    pred, obs, cv_mae, ppc_mae = _criterion(table, full, max_pairs, folds, progress)
    scores = {k: _mae(pred[k], obs) for k in kinds}
    if mix:
        weights = stacking_weights(pred, obs)
    else:
        chosen = min(kinds, key=lambda k: scores[k])  # ties: the first candidate
        weights = {k: float(k == chosen) for k in kinds}
    used = [k for k in kinds if weights[k] > 0]
    mixed = _mae(sum(weights[k] * pred[k] for k in kinds), obs)
    fits = [full[k] for k in used]
    if len(fits) == 1:
        f = fits[0]
    else:  # the components' diagnostics, each named by its family
        f = MixtureFit(tuple(fits), np.array([weights[k] for k in used]),
                       [f"{k}: {d}" for k, c in zip(used, fits) for d in c.diagnostics])
    criterion = (f"MAE of leave-one-sample-out k = 1 predictions over the pilot's {table.K} samples and of the "
                 f"whole-pilot fit's k = 2..{table.K} predictions against the pilot's own values, pooled "
                 f"(SC of every model; MUX, vote, union, contradiction of "
                 + ("every pair" if max_pairs is None else f"up to {max_pairs} pairs") + ", models by pilot accuracy)")
    f.selection = {"chosen": "+".join(used), "weights": weights, "cv_mae_points": scores, "mixed_cv_mae_points": mixed,
                   "loo_k1_mae_points": cv_mae, "ppc_mae_points": ppc_mae,
                   "criterion": criterion + (", weights by stacking on a 0.05 grid" if mix else ", the lowest one")}
    how = ("mixed " + ", ".join(f"{k} {weights[k]:.2f}" for k in used)) if len(used) > 1 else f"chose {used[0]}"
    f.diagnostics = list(f.diagnostics) + [
        f"auto: {how} by {f.selection['criterion']} -- " + ", ".join(f"{k} {v:.2f}" for k, v in scores.items())
        + " points (k = 1 left out: " + ", ".join(f"{k} {v:.2f}" for k, v in cv_mae.items())
        + "; k >= 2 predictive check: " + ", ".join(f"{k} {v:.2f}" for k, v in ppc_mae.items())
        + f"); weighted {mixed:.2f}"]
    return f
