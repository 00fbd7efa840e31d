"""The ``predicted`` search objective: subsets ranked by a population's exact accuracy of one method at k.

The population is usually a fit's (:func:`muxsim.fitted.population_of_fit`).  All per-model
work (the count tables of every model at k) is done once by one exact engine over the whole
pool; each subset then only combines its models' tables (O(|S| G Q) for MUX), so a pool's
every subset of sizes 2-5 costs one table build plus one cheap combination each.

Uncertainty: for populations with one row per logged question (empirical, posterior), each
value comes with its standard error over questions; a parametric population (quadrature
over a latent difficulty) gives NaN there, since the fit's parameter uncertainty is not
propagated.  Within a subset, models are in the pool's order, which is the tie-break order:
descending predicted single-draw accuracy.
"""

from __future__ import annotations

import itertools
import math
from typing import Callable, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.search import Ranked, SearchResult, SizeResult

__all__ = ["predicted_search", "METHODS"]

METHODS = ("mux", "mux_valid", "vote")
MAX_ROWS = 5_000_000


def predicted_search(pop, sizes: Sequence[int], k: int, *, method: str = "mux", top: int = 5, r: int = 1,
                     progress: Callable[[int], None] | None = None, max_subsets: int = 2_000_000) -> SearchResult:
    """Every subset of each size, ranked by the population's exact ``method`` accuracy at ``k``.

    Each row's ``objective`` is that predicted accuracy; ``union`` and ``contradiction`` (robust
    level ``r``, per question) are the population's predicted values too.  Ties: higher union,
    then the earlier subset.
    """
    from muxsim.exact.engine import Engine, check_k
    from muxsim.population import Empirical

    if method not in METHODS:
        raise MuxsimError(f"method={method!r} must be one of {METHODS}")
    k = check_k(k, 1)[0]
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise MuxsimError(f"top={top!r} must be an integer >= 1")
    lay, mix, qw = pop.layout()
    n = lay.n_models
    sizes = list(sizes)
    if not sizes:
        raise MuxsimError("sizes: none given")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise MuxsimError(f"size={s!r} must be an integer >= 1")
        if s > n:
            raise MuxsimError(f"size={s} is larger than the pool of {n} models {list(pop.models)}")
    total = sum(math.comb(n, s) for s in sizes)
    if total > max_subsets:
        raise MuxsimError(f"{total} subsets exceed max_subsets={max_subsets} for the predicted objective")
    qw = np.asarray(qw, dtype=float)
    if lay.n_questions * n > MAX_ROWS:
        raise MuxsimError(
            f"the {type(pop).__name__} of {n} models has {lay.n_questions:,} layout rows per model: too large for one "
            f"engine over the whole pool (limit {MAX_ROWS:,} rows x models); the predicted search supports "
            "populations with a small pool layout (the latent-difficulty fit, empirical populations)")
    eng = Engine(lay, [k] * n, mix=mix)
    single = np.array([float(qw @ eng.single(i)) for i in range(n)])
    order = [int(i) for i in np.argsort(-single, kind="stable")]  # tie-break order of the pool
    names = tuple(pop.models[i] for i in order)
    per_question = isinstance(pop, Empirical) or type(pop).__name__.endswith("PosteriorPopulation")
    Q = len(qw)
    out = []
    for s in sizes:
        rows = []
        for rank, combo in enumerate(itertools.combinations(range(n), s)):
            idx = [order[i] for i in combo]
            ks = [k] * s
            if method == "vote":
                v = eng.vote(idx, ks)
            else:
                v = eng.mux(idx, ks, "per_k" if method == "mux" else "per_valid")[0]
            val = float(qw @ v)
            u = float(qw @ eng.union(idx, ks, r))
            c = float(qw @ eng.contradiction(idx, ks, r))
            se = float(np.sqrt(np.sum(qw**2 * (v - val) ** 2) * Q / max(Q - 1, 1))) if per_question and Q > 1 else math.nan
            rows.append((val, u, c, rank, combo, se))
        if progress:
            progress(len(rows))
        rows.sort(key=lambda t: (-round(t[0], 12), -round(t[1], 12), t[3]))
        out.append(SizeResult(s, [Ranked(t[4], t[0], t[1], t[2], t[5]) for t in rows[:top]], math.comb(n, s), len(rows),
                              "exhaustive", True))
    return SearchResult(f"predicted {method} at k={k}", names, out,
                        {"population": type(pop).__name__, "r": r})
