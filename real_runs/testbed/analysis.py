"""Calibrate from a pilot, predict, observe on held-out samples, select models.

The testbed's log has ``K`` samples per question and model.  The first ``m``
(the *pilot*) feed three fits; the remaining ``K - m`` (held out, never seen by
the fits) are evaluated exactly with
:func:`muxsim.logs.evaluate.per_question_values` for ``k = 1..K-m``.  Models
are in tie-break order by pilot accuracy for all of them.  The fits:

* the headline, ``muxsim.fit.fit(pilot, "classes")`` (questions in latent
  classes, per-question posteriors given the pilot);
* ``fit(pilot, "latent")`` (the parametric LatentDifficulty family,
  population-level);
* ``fit(pilot, "shrinkage")`` (empirical Bayes with a Polya urn for
  wrong answers).

Each is predicted through the one interface, ``Fit.predict`` (:func:`predict_fit`).

Methods per subset of models: SC for a single model (with its union and
contradiction, the latter 0 by definition); MUX (both scores), pooled vote,
union and contradiction for two or more models.  The paper's binomial
approximations, fed with the pilot's per-sample accuracies, sit beside the
exact predictions for the methods they approximate (SC: ``A(k, p_i)``; MUX:
``A(k, p_max)``; vote: ``A(k, mean p)``).

Model selection (:func:`select`): for each subset size, the subset that
maximises ``union - lam * contradiction`` at one k.

numpy + muxsim only.
"""

from __future__ import annotations

import itertools
import logging
import time
from typing import Sequence

import numpy as np

from muxsim import paper
from muxsim.fit import Fit, fit
from muxsim.logs.evaluate import AnswerTable, per_question_values
from muxsim.population import evaluate

from real_runs.testbed.tasks import TestbedError

MULTI = ("mux", "mux_valid", "vote", "union", "contradiction")
SINGLE = ("sc", "union", "contradiction")
PAPER = {"sc", "mux", "mux_valid", "vote"}

log = logging.getLogger(__name__)

Key = tuple[tuple[str, ...], str]  # (subset in tie-break order, method)


def methods_for(subset: Sequence[str]) -> tuple[str, ...]:
    return SINGLE if len(subset) == 1 else MULTI


def _engine_name(method: str, subset: Sequence[str]) -> str:
    return f"sc[{subset[0]}]" if method == "sc" else method


def split(table: AnswerTable, m: int) -> tuple[AnswerTable, AnswerTable]:
    """(pilot, held-out) tables, models in tie-break order by pilot accuracy (stable)."""
    if isinstance(m, bool) or not isinstance(m, int) or not 1 <= m < table.K:
        raise TestbedError(f"pilot m={m!r} must be an integer in 1..K-1={table.K - 1}")
    acc = table.select(samples=slice(0, m)).accuracy()
    order = [table.models[i] for i in np.argsort(-acc, kind="stable")]
    t = table.select(order)
    return t.select(samples=slice(0, m)), t.select(samples=slice(m, t.K))


def subsets(models: Sequence[str], sizes: Sequence[int] | None = None) -> list[tuple[str, ...]]:
    """Every subset (of the given sizes), each in the models' (tie-break) order."""
    sizes = range(1, len(models) + 1) if sizes is None else sizes
    return [s for r in sizes for s in itertools.combinations(models, r)]


def observe(held: AnswerTable, subs: Sequence[tuple[str, ...]], ks: Sequence[int]) -> dict[Key, tuple[np.ndarray, np.ndarray]]:
    """Held-out values and their SE over questions, ``{(subset, method): (values, se)}``.

    Exact expectations over k of the K-m held-out answers (without
    replacement), every method, the pooled vote included.
    """
    out = {}
    Q = held.n_questions
    for sub in subs:
        meths = methods_for(sub)
        pq = per_question_values(held, list(sub), ks, [_engine_name(x, sub) for x in meths])
        for x in meths:
            v = pq[_engine_name(x, sub)]
            out[(sub, x)] = (v.mean(axis=1), v.std(axis=1, ddof=1) / np.sqrt(Q) if Q > 1 else np.full(len(ks), np.nan))
    return out


def predict(pop_of, subs: Sequence[tuple[str, ...]], ks: Sequence[int], *, chunk: int | None = None,
            n_questions: int | None = None) -> dict[Key, np.ndarray]:
    """Predicted values of every subset and method: ``pop_of(models, questions)`` gives the population.

    With ``chunk``, the ``n_questions`` questions are evaluated ``chunk`` at a time
    (bounded memory) and averaged; else ``questions`` is None (the whole population).
    """
    parts = [None] if chunk is None else [np.arange(s, min(n_questions, s + chunk)) for s in range(0, n_questions, chunk)]
    out: dict[Key, np.ndarray] = {}
    for sub in subs:
        meths = methods_for(sub)
        names = [_engine_name(x, sub) for x in meths]
        acc = {x: np.zeros(len(ks)) for x in meths}
        for qs in parts:
            c = evaluate(pop_of(list(sub), qs), ks, methods=names, with_paper=False)
            for x, nm in zip(meths, names):
                acc[x] += (1 if qs is None else len(qs) / n_questions) * np.asarray(c.values[nm])
        for x in meths:
            out[(sub, x)] = acc[x]
    return out


def predict_fit(f: Fit, subs: Sequence[tuple[str, ...]], ks: Sequence[int]) -> dict[Key, np.ndarray]:
    """Point predictions of every subset and method through ``Fit.predict`` (no intervals)."""
    out: dict[Key, np.ndarray] = {}
    for sub in subs:
        meths = methods_for(sub)
        names = [_engine_name(x, sub) for x in meths]
        c = f.predict(ks, models=list(sub), methods=names, level=None, with_paper=False)
        for x, nm in zip(meths, names):
            out[(sub, x)] = np.asarray(c.values[nm], dtype=float)
    return out


def predict_paper(pilot_acc: dict[str, float], subs: Sequence[tuple[str, ...]], ks: Sequence[int]) -> dict[Key, np.ndarray]:
    """The paper's approximations from the pilot's per-sample accuracies."""
    out: dict[Key, np.ndarray] = {}
    for sub in subs:
        ps = [pilot_acc[x] for x in sub]
        if len(sub) == 1:
            out[(sub, "sc")] = np.array([paper.binomial_majority(int(k), ps[0]) for k in ks])
        else:
            mx = np.array([paper.mux_approx(ps, int(k)) for k in ks])
            out[(sub, "mux")] = mx
            out[(sub, "mux_valid")] = mx
            out[(sub, "vote")] = np.array([paper.agent_forest_approx(ps, int(k)) for k in ks])
    return out


def mae(obs: dict[Key, tuple[np.ndarray, np.ndarray]], pred: dict[Key, np.ndarray], keys: Sequence[Key] | None = None) -> dict:
    """Mean absolute error in points (100 x accuracy) over (subset, method, k), overall and by method."""
    keys = [k for k in obs if k in pred] if keys is None else list(keys)
    if not keys:
        return {"mae": float("nan"), "n": 0, "by_method": {}, "max": float("nan")}
    err = {k: np.abs(pred[k] - obs[k][0]) for k in keys}
    allv = np.concatenate(list(err.values()))
    by = {}
    for meth in dict.fromkeys(k[1] for k in keys):
        e = np.concatenate([v for k, v in err.items() if k[1] == meth])
        s = np.concatenate([pred[k] - obs[k][0] for k in keys if k[1] == meth])
        by[meth] = {"mae": 100 * float(e.mean()), "bias": 100 * float(s.mean()), "n": int(e.size)}
    return {"mae": 100 * float(allv.mean()), "max": 100 * float(allv.max()), "n": int(allv.size), "by_method": by}


def select(values: dict[Key, np.ndarray], models: Sequence[str], ks: Sequence[int], k: int, lam: float = 1.0) -> list[dict]:
    """For each subset size, the subset maximising ``union - lam * contradiction`` at ``k``.

    ``values`` maps (subset, method) to values over ``ks`` (predicted, or the
    observed values' first element).  Ties go to the earlier subset in
    tie-break order.  Returns one row per size with the best subset, its
    objective, union and contradiction, and every subset's objective.
    """
    ks = list(ks)
    if k not in ks:
        raise TestbedError(f"select k={k} is not among the evaluated k={ks}")
    j = ks.index(k)
    rows = []
    for r in range(1, len(models) + 1):
        cands = []
        for sub in itertools.combinations(models, r):
            u, c = (sub, "union"), (sub, "contradiction")
            if u not in values or c not in values:
                raise TestbedError(f"select: no union/contradiction for subset {sub}")
            cands.append((sub, float(values[u][j]) - lam * float(values[c][j]), float(values[u][j]), float(values[c][j])))
        best = max(cands, key=lambda t: t[1])  # max keeps the first of equal objectives
        rows.append({"size": r, "best": list(best[0]), "objective": best[1], "union": best[2], "contradiction": best[3],
                     "all": {"+".join(s): o for s, o, _, _ in cands}})
    return rows


def analyse(table: AnswerTable, *, m: int, k_max: int | None = None, lam: float = 1.0, select_k: int = 3,
            chunk: int = 20, max_labels: int = 2) -> dict:
    """The whole comparison: fit on the pilot, predict, observe, score, select.

    ``max_labels`` named wrong answers per question are kept in the shrinkage
    fit's population (the lighter ones join the tail of unique answers): its
    exact pooled vote of four models at k = 7 costs (2*28+1)^L cells per
    question and node, so L = 2 instead of the calibration's default 3 makes
    that prediction about thirty times faster.  ``chunk`` is kept for callers; the
    shrinkage fit evaluates its own questions 20 at a time (``Fit.predict``).
    """
    pilot, held = split(table, m)
    ks = list(range(1, (held.K if k_max is None else k_max) + 1))
    if ks[-1] > held.K:
        raise TestbedError(f"k_max={ks[-1]} exceeds the K-m={held.K} held-out samples")
    models = list(pilot.models)
    subs = subsets(models)
    notes: list[str] = []
    t0 = time.perf_counter()
    obs = observe(held, subs, ks)
    t1 = time.perf_counter()
    log.info("observed %d subsets x k=1..%d on the held-out samples in %.0f s", len(subs), ks[-1], t1 - t0)
    cfit = fit(pilot, "classes")
    pred = predict_fit(cfit, subs, ks)
    t2 = time.perf_counter()
    log.info("latent-class fit (%d classes) and prediction in %.0f s", cfit.n_classes, t2 - t1)
    lfit = fit(pilot, "latent")
    pred_lat = predict_fit(lfit, subs, ks)
    t3 = time.perf_counter()
    log.info("parametric (LatentDifficulty) fit and prediction in %.0f s", t3 - t2)
    sfit = fit(pilot, "shrinkage", max_labels=max_labels)
    pred_shr = predict_fit(sfit, subs, ks)
    t4 = time.perf_counter()
    log.info("empirical-Bayes (shrinkage) fit and prediction in %.0f s", t4 - t3)
    pilot_acc = dict(zip(models, (float(x) for x in pilot.accuracy())))
    pap = predict_paper(pilot_acc, subs, ks)
    paper_keys = [k for k in obs if k in pap]
    obs_vals = {k: v[0] for k, v in obs.items()}
    return {
        "ks": ks, "models": models, "subsets": subs, "pilot_m": m, "held_K": held.K, "questions": held.n_questions,
        "pilot_accuracy": pilot_acc, "notes": notes,
        "timings": {"observe_s": round(t1 - t0, 1), "class_fit_predict_s": round(t2 - t1, 1),
                    "latent_fit_predict_s": round(t3 - t2, 1), "shrinkage_fit_predict_s": round(t4 - t3, 1)},
        "fit": cfit, "predicted": pred, "latent_fit": lfit, "predicted_latent": pred_lat,
        "shrinkage_fit": sfit, "predicted_shrinkage": pred_shr,
        "held_accuracy": dict(zip(models, (float(x) for x in held.accuracy()))),
        "observed": obs, "paper": pap,
        "score": {"exact": mae(obs, pred), "exact_on_paper_methods": mae(obs, pred, paper_keys),
                  "paper": mae(obs, pap, paper_keys), "latent": mae(obs, pred_lat), "shrinkage": mae(obs, pred_shr)},
        "selection": {"k": select_k, "lambda": lam, "predicted": select(pred, models, ks, select_k, lam),
                      "observed": select(obs_vals, models, ks, select_k, lam),
                      "predicted_latent": select(pred_lat, models, ks, select_k, lam)},
    }
