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
#: at most this many subsets per task sent to a mapper, and at least this many tasks where there are subsets enough
BLOCK, TASKS = 64, 8
INTERVALS = ("best", "top", "none")


def predicted_search(source, sizes: Sequence[int], k: int, *, method: str = "mux", top: int = 5, r: int = 1,
                     progress: Callable[[float], None] | None = None, max_subsets: int = 2_000_000,
                     models: Sequence[str] | None = None, intervals: str = "best", level: float = 0.9,
                     draws: int = 40, seed: int = 0, screen: int | None = 20,
                     mapper: Callable | None = None) -> SearchResult:
    """Every subset of each size of ``models`` (default: all of ``source``'s), ranked by the exact ``method``
    accuracy at ``k`` of ``source``: a :class:`~muxsim.fit.Fit` or a population.

    Each row's ``objective`` is that predicted accuracy; ``union`` and ``contradiction`` (robust
    level ``r``, per question) are predicted values too.  Ties: higher union, then the earlier
    subset.  On a fit, ``intervals`` rows (``"best"``: the first of each size; ``"top"``: all
    reported; ``"none"``) get ``lower``/``upper`` from ``source.predict(k, models=..., level=level,
    draws=draws, seed=seed)``.

    Where the fit has no per-model work to share across subsets (:meth:`SubsetEvaluator.shares_work`),
    every subset is first ranked by a proxy that has, and the best ``screen`` of each size are
    rescored exactly; their values are the fit's own, and the result says ``optimal: not proven``
    (``screen=None``: no screen, every subset scored by the fit itself -- for a joint-dependent fit each
    subset is its own population, so large pools belong on a cluster through ``mapper``):

    * a joint-dependent fit (``fit.joint_dependent``: the shrinkage fit's cross-model priors): the
      fit's pool form (:meth:`Fit.pool_form`: each model's prior from all the other models, one
      population for the pool);
    * the pooled vote where each subset is its own population (the joint-dependent fits, and the
      latent classes with shared wrong answers, whose sharing patterns depend on the subset: a
      5-model vote takes seconds there): the predicted MUX at k (of the pool form where joint).
      On jhu T = 0.7 and 0.3 (latent classes of a 3-sample pilot, k = 3) the best vote subset of
      size 2 and 3 was MUX's 1st, 6th, 2nd and 14th of 36 / 84; with shrinkage (T = 0.7, sizes
      2-4) the 1st, 4th and 11th of 36 / 84 / 126 (``bench/search.py``);
    * a mixture of fits, component by component: for the vote every component by its predicted MUX, for
      MUX the components without shared work by their pool form and the others exactly; the best are
      rescored by the whole mixture.

    ``mapper(fn, shared, argument_tuples)`` (:func:`muxsim.scale.dask_mapper`) evaluates the fit's exact
    values in blocks of subsets elsewhere; the values are the same.
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
    if screen is not None and (isinstance(screen, bool) or not isinstance(screen, (int, np.integer)) or screen < 1):
        raise MuxsimError(f"screen={screen!r} must be an integer >= 1, or None (no screen)")
    ev = SubsetEvaluator(source, names, k)
    single = ev.singles()
    order = [int(i) for i in np.argsort(-single, kind="stable")]  # tie-break order of the pool
    ordered = tuple(names[i] for i in order)
    combos = [(s, rank, combo) for s in sizes for rank, combo in enumerate(itertools.combinations(range(n), s))]
    jobs = [(tuple(order[i] for i in combo), (k,) * len(combo)) for _, _, combo in combos]
    comps = ev.parts or [(1.0, ev)]  # a mixture is screened component by component
    need = [c for c, (_, e) in enumerate(comps) if not e.shares_work(method)]  # no per-model work shared
    screened = fit is not None and screen is not None and bool(need)
    proxy = "mux" if method == "vote" else method
    # screened components, by their proxy: for the vote every component's MUX (cheaper than the exact vote
    # of the others, which are rescored anyway); for MUX only those without shared work, by their pool form
    proxied = (list(range(len(comps))) if proxy != method else need) if screened else []
    remote: list[str] = []  # notes of the blocks run through the mapper

    def exact(e: SubsetEvaluator, js: list[int], prog=None) -> tuple[np.ndarray, np.ndarray | None]:
        """Evaluator ``e``'s own values of these jobs, here or in blocks through ``mapper`` (those of a joint-dependent
        fit, whose subsets share nothing, or every subset unscreened; rescoring a few subsets of a fit that shares
        per-model work stays with the engine this process has built)."""
        if mapper is None or (screened and not e.joint):
            return e.values([jobs[j] for j in js], method, r=r, union=True, progress=prog)
        size = max(1, min(BLOCK, -(-len(js) // TASKS)))
        blocks = [js[i : i + size] for i in range(0, len(js), size)]
        parts = mapper(_block_values, (e.source, names, k, method, r), [([jobs[j] for j in b],) for b in blocks])
        for (_, _, nb), b in zip(parts, blocks):
            remote.extend(nb)
            if prog:
                prog(len(b))
        return (np.concatenate([p[0] for p in parts]),
                None if any(p[1] is None for p in parts) else np.concatenate([p[1] for p in parts]))

    if screened:  # every subset ranked by the components' proxies and exact values; the best `screen` rescored
        part, by = [], []
        for c, (w, e) in enumerate(comps):
            prog = (lambda x: progress(x / len(comps))) if progress else None
            if c not in proxied:
                part.append(exact(e, list(range(len(jobs))), prog)[0])
                continue
            pool = SubsetEvaluator(e.fit.pool_form(), names, k) if e.joint else e
            part.append(pool.values(jobs, proxy, r=r, union=True, progress=prog)[0])
            by.append(("" if len(comps) == 1 else f"{e.fit.family}: ") + {
                (True, False): "the pool form", (True, True): "the pool form's predicted MUX",
                (False, True): "the fit's predicted MUX"}[e.joint, proxy != method])
        by = "; ".join(by)
        weights = np.array([w for w, _ in comps])
        vals, se = np.tensordot(weights, np.stack(part), axes=1), None
        for s in sizes:
            js = [j for j, c in enumerate(combos) if c[0] == s]
            js.sort(key=lambda j: (-round(vals[j, 0], 12), -round(vals[j, 1], 12), combos[j][1]))
            best = js[: max(screen, top)]
            for c in proxied:
                part[c][best] = exact(comps[c][1], best)[0]
            vals[best] = np.tensordot(weights, np.stack([p[best] for p in part]), axes=1)
            rest = js[max(screen, top):]
            vals[rest, 0] = -np.inf  # not rescored: never ranked above a rescored subset
    else:
        vals, se = exact(ev, list(range(len(jobs))), progress)
    notes = ev.notes + remote
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
                # the interval holds its own point value; the search's value of the same quantity comes from the
                # batched path, whose sums may differ in the last bits
                iv["lower"], iv["upper"] = min(iv["lower"], t[0]), max(iv["upper"], t[0])
            ranked.append(Ranked(t[4], t[0], t[1], t[2], None if fit is not None else t[5], **iv))
        not_done = f"; {lost[s]} not computed (vote work limit)" if lost[s] else ""
        if screened and len(rows) + lost[s] < math.comb(n, s):
            out.append(SizeResult(s, ranked, math.comb(n, s), len(rows),
                                  f"screened: all by {by}, the best {len(rows) + lost[s]} rescored{not_done}", False))
        else:  # every subset scored by the fit itself (screened or not)
            out.append(SizeResult(s, ranked, math.comb(n, s), len(rows), "exhaustive" + not_done, not lost[s]))
    settings = {"population": type(source).__name__, "r": r}
    if screened:
        why = "; ".join(("" if len(comps) == 1 else f"{e.fit.family}: ") + (
            "a model's prior depends on the models predicted with it" if e.joint else
            "its vote has no per-model work shared across subsets: each subset's sharing patterns of wrong answers")
            for e in (comps[c][1] for c in need))
        rest = ", the other components exactly" if len(proxied) < len(comps) else ""
        settings["screen"] = (f"{type(source).__name__}: {why}; every subset ranked by {by} "
                              f"({fit.pool_form_kind or 'the fit itself'}){rest}, the best {screen} per size "
                              f"rescored exactly; optimality not proven")
    if any(lost.values()):
        settings["not computed"] = (f"{sum(lost.values())} subset(s) whose exact vote is past the work limit are "
                                    f"left out (first: {notes[0]})")
    if fit is not None and intervals != "none":
        settings["interval"] = f"{100 * level:g}% predictive, {draws} draws"
    return SearchResult(f"predicted {method} at k={k}", ordered, out, settings)


def _block_values(shared: tuple, jobs: list) -> tuple[np.ndarray, np.ndarray | None, list[str]]:
    """(values, standard errors, notes) of one block of jobs (run by a mapper, e.g. on a Dask worker)."""
    source, names, k, method, r = shared
    ev = SubsetEvaluator(source, names, k)
    v, e = ev.values(jobs, method, r=r, union=True)
    return v, e, ev.notes


def interval_of(fit, models: list[str], k: int, method: str, *, r: int = 1, level: float = 0.9, draws: int = 40,
                seed: int = 0) -> dict:
    """``{"lower", "upper", "level"}`` of ``fit.predict(k, models=models, methods=[method], level=level)``."""
    p = fit.predict(int(k), models=models, methods=[method], r=r, level=level, draws=draws, seed=seed,
                    with_paper=False)
    lo, hi = p.conf_int(method)[0]
    return {"lower": float(lo), "upper": float(hi), "level": float(level)}
