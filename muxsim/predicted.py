"""The ``predicted`` search objective: subsets ranked by a fit's (or population's) exact accuracy of one method at k.

The values come from :class:`muxsim.subset_eval.SubsetEvaluator`: per-model work (the count
tables of every model at k) is built once per chunk of questions by one exact engine over the
whole pool wherever the fit allows (populations, the latent-difficulty fit, the latent
classes), and each subset only combines its models' tables; a joint-dependent fit
(shrinkage with cross-model priors), and the vote where each subset is its own population, are evaluated
subset by subset after a screen (see :func:`predicted_search`).
Every reported value equals ``Fit.predict(k, models=subset, methods=[method], level=None)``.

Uncertainty: on a fit, the best subset of each size (``intervals="best"``), or every
reported one (``"top"``), gets the ``level`` predictive interval of ``Fit.predict`` for that
subset (:mod:`muxsim.fit.intervals`: draws from the fit, the accuracy on these questions);
on an empirical population each value has its standard error over questions.  Within a
subset, models are in the pool's order, which is the tie-break order: descending predicted
single-draw accuracy.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.exact.engine import check_k
from muxsim.population import check_names
from muxsim.search import Ranked, SearchResult, SizeResult, check_sizes
from muxsim.subset_eval import SubsetEvaluator, is_fit

__all__ = ["predicted_search", "METHODS", "INTERVALS"]

METHODS = ("mux", "mux_valid", "vote")
INTERVALS = ("best", "top", "none")


def predicted_search(source, sizes: Sequence[int], k: int, *, method: str = "mux", top: int = 5, r: int = 1,
                     progress: Callable[[float], None] | None = None, max_subsets: int = 2_000_000,
                     models: Sequence[str] | None = None, intervals: str = "best", level: float = 0.9,
                     draws: int = 40, seed: int = 0, screen: int = 20) -> SearchResult:
    """Every subset of each size of ``models`` (default: all of ``source``'s), ranked by the exact ``method``
    accuracy at ``k`` of ``source``: a :class:`~muxsim.fit.Fit` or a population.

    Each row's ``objective`` is that predicted accuracy; ``union`` and ``contradiction`` (robust
    level ``r``, per question) are predicted values too.  Ties: higher union, then the earlier
    subset.  On a fit, ``intervals`` rows (``"best"``: the first of each size; ``"top"``: all
    reported; ``"none"``) get ``lower``/``upper`` from ``source.predict(k, models=..., level=level,
    draws=draws, seed=seed)``.

    Where the fit has no per-model work to share across subsets (:meth:`SubsetEvaluator.shares_work`),
    every subset is first ranked by a proxy that has, and the best ``screen`` of each size are
    rescored exactly; their values are the fit's own, and the result says ``optimal: not proven``:

    * a joint-dependent fit (``fit.joint_dependent``: the shrinkage fit's cross-model priors): the
      fit's pool form (:meth:`Fit.pool_form`: each model's prior from all the other models, one
      population for the pool);
    * the pooled vote where each subset is its own population (the joint-dependent fits, and the
      latent classes with shared wrong answers, whose sharing patterns depend on the subset: a
      5-model vote takes seconds there): the predicted MUX at k (of the pool form where joint).
      On jhu T = 0.7 and 0.3 (latent classes of a 3-sample pilot, k = 3) the best vote subset of
      size 2 and 3 was MUX's 1st, 6th, 2nd and 14th of 36 / 84; with shrinkage (T = 0.7, sizes
      2-4) the 1st, 4th and 11th of 36 / 84 / 126.
    """
    if method not in METHODS:
        raise MuxsimError(f"method={method!r} must be one of {METHODS}")
    k = check_k(k, 1)[0]
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise MuxsimError(f"top={top!r} must be an integer >= 1")
    if intervals not in INTERVALS:
        raise MuxsimError(f"intervals={intervals!r} must be one of {INTERVALS}")
    fit = source if is_fit(source) else None
    names = check_names(source.models, models, "fit" if fit else "population")
    if fit is None and names != list(source.models):
        raise MuxsimError("models: a population is searched over all its models")
    n = len(names)
    sizes = check_sizes(sizes, names)
    total = sum(math.comb(n, s) for s in sizes)
    if total > max_subsets:
        raise MuxsimError(f"{total} subsets exceed max_subsets={max_subsets} for the predicted objective")
    if isinstance(screen, bool) or not isinstance(screen, (int, np.integer)) or screen < 1:
        raise MuxsimError(f"screen={screen!r} must be an integer >= 1")
    ev = SubsetEvaluator(source, names, k)
    single = ev.singles()
    order = [int(i) for i in np.argsort(-single, kind="stable")]  # tie-break order of the pool
    ordered = tuple(names[i] for i in order)
    combos = [(s, rank, combo) for s in sizes for rank, combo in enumerate(itertools.combinations(range(n), s))]
    jobs = [(tuple(order[i] for i in combo), (k,) * len(combo)) for _, _, combo in combos]
    screened = fit is not None and not ev.shares_work(method)
    if screened:  # rank by a proxy that shares per-model work, then rescore the best `screen` of each size
        proxy = "mux" if method == "vote" else method
        by = {(True, False): "the pool form", (True, True): "the pool form's predicted MUX",
              (False, True): "the fit's predicted MUX"}[fit.joint_dependent, proxy != method]
        pool = SubsetEvaluator(fit.pool_form(), names, k)
        vals, se = pool.values(jobs, proxy, r=r, union=True, progress=progress)
        for s in sizes:
            js = [j for j, c in enumerate(combos) if c[0] == s]
            js.sort(key=lambda j: (-round(vals[j, 0], 12), -round(vals[j, 1], 12), combos[j][1]))
            best = js[: max(screen, top)]
            vals[best] = ev.values([jobs[j] for j in best], method, r=r, union=True)[0]
            rest = js[max(screen, top):]
            vals[rest, 0] = -np.inf  # not rescored: never ranked above a rescored subset
    else:
        vals, se = ev.values(jobs, method, r=r, union=True, progress=progress)
    out = []
    lost = {s: sum(1 for j, c in enumerate(combos) if c[0] == s and np.isnan(vals[j, 0])) for s in sizes}
    for s in sizes:
        rows = [(vals[j, 0], vals[j, 1], vals[j, 2], rank, combo, math.nan if se is None else se[j])
                for j, (sz, rank, combo) in enumerate(combos) if sz == s and np.isfinite(vals[j, 0])]
        rows.sort(key=lambda t: (-round(t[0], 12), -round(t[1], 12), t[3]))
        ranked = []
        for pos, t in enumerate(rows[:top]):
            iv = {}
            if fit is not None and (intervals == "top" or (intervals == "best" and pos == 0)):
                iv = interval_of(fit, [ordered[i] for i in t[4]], k, method, r=r, level=level, draws=draws, seed=seed)
            ranked.append(Ranked(t[4], t[0], t[1], t[2], None if fit is not None else t[5], **iv))
        not_done = f"; {lost[s]} not computed (vote work limit)" if lost[s] else ""
        if screened and len(rows) + lost[s] < math.comb(n, s):
            out.append(SizeResult(s, ranked, math.comb(n, s), len(rows),
                                  f"screened: all by {by}, the best {len(rows) + lost[s]} rescored{not_done}", False))
        else:  # every subset scored by the fit itself (screened or not)
            out.append(SizeResult(s, ranked, math.comb(n, s), len(rows), "exhaustive" + not_done, not lost[s]))
    settings = {"population": type(source).__name__, "r": r}
    if screened:
        why = ("a model's prior depends on the models predicted with it" if fit.joint_dependent else
               "its vote has no per-model work shared across subsets: each subset's sharing patterns of wrong answers")
        settings["screen"] = (f"{type(source).__name__}: {why}; every subset ranked by {by} "
                              f"({fit.pool_form_kind or 'the fit itself'}), the best {screen} per size rescored "
                              f"exactly; optimality not proven")
    if any(lost.values()):
        settings["not computed"] = (f"{sum(lost.values())} subset(s) whose exact vote is past the work limit are "
                                    f"left out (first: {ev.notes[0]})")
    if fit is not None and intervals != "none":
        settings["interval"] = f"{100 * level:g}% predictive, {draws} draws"
    return SearchResult(f"predicted {method} at k={k}", ordered, out, settings)


def interval_of(fit, models: list[str], k: int, method: str, *, r: int = 1, level: float = 0.9, draws: int = 40,
                seed: int = 0) -> dict:
    """``{"lower", "upper", "level"}`` of ``fit.predict(k, models=models, methods=[method], level=level)``."""
    p = fit.predict(int(k), models=models, methods=[method], r=r, level=level, draws=draws, seed=seed,
                    with_paper=False)
    lo, hi = p.conf_int(method)[0]
    return {"lower": float(lo), "upper": float(hi), "level": float(level)}
