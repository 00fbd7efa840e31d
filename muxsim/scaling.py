"""Scaling: accuracy against samples per model (k, per-model k allowed) and against the number of models.

* :func:`k_curve`: exact values of each method of a fixed subset at a list of k points
  (an int for every model, or one k per model), on logs (k of K logged samples) or on
  any population (fitted ones included), with the curve's shape (:func:`shape`).
* :func:`n_curve`: the best subset of each size by a method's exact accuracy at k (the
  per-model count tables are built once and shared by every subset).
* :func:`shape`: monotone or not, and where the curve turns (local maxima and minima).
* :func:`chen_optimal_calls`: the number of calls K* that maximises the vote's accuracy in
  the two-difficulty binary model of Chen et al. 2024 ("Are More LLM Calls All You Need?",
  arXiv 2403.02419): a share alpha of easy questions answered correctly with probability
  p1 > 1/2 per call, the rest hard with p2 < 1/2, two possible answers, odd K.
  :func:`vote_optimum` is the exact optimum of any computed curve.

Derivation used by :func:`chen_optimal_calls` (odd K = 2m + 1, A the majority accuracy):
A(2m + 3, p) - A(2m + 1, p) = (2p - 1) C(2m + 1, m) (p (1 - p))^(m + 1), so the curve
F = alpha A(., p1) + (1 - alpha) A(., p2) rises from 2m + 1 to 2m + 3 iff
(x2 / x1)^(m + 1) < R with x = p (1 - p) and R = alpha (2 p1 - 1) / ((1 - alpha)(1 - 2 p2)).
When p1 + p2 > 1 (x2 > x1) it rises while m + 1 < t = log R / log(x2 / x1) and falls after:
K* = 2 ceil(t) - 1 (1 if t <= 1; at integer t, K* and K* + 2 tie), non-monotone when t > 1.
When p1 + p2 < 1 and R < 1 it falls while m + 1 < t, then rises (only rises if t <= 1): its
supremum is the limit alpha as K grows, or F(1); with R >= 1 it only rises.  When p1 + p2 = 1 it is monotone (the sign of R - 1).
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.population import check_names, exact_layout

__all__ = ["Shape", "shape", "KCurve", "k_curve", "n_curve", "ChenOptimum", "chen_optimal_calls",
           "two_difficulty_vote", "vote_optimum"]


@dataclass(frozen=True)
class Shape:
    """Monotonicity of a curve over its points: ``turns`` are (point index, "max"|"min")."""

    monotone: bool
    direction: str  # "increasing", "decreasing", "flat" or "non-monotone"
    turns: tuple[tuple[int, str], ...]
    argmax: int  # index of the first point with the highest value

    def describe(self, labels: Sequence[object]) -> str:
        if self.monotone:
            return self.direction
        return "non-monotone: " + ", ".join(f"{kind} at {labels[i]}" for i, kind in self.turns)


def shape(values: Sequence[float], tol: float = 1e-12) -> Shape:
    """Where a curve turns: steps within ``tol`` count as flat; a turn is the point where the
    direction of the last non-flat step reverses (the first point of a plateau at the top/bottom)."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or v.size == 0 or not np.all(np.isfinite(v)):
        raise MuxsimError(f"shape: values {values!r} must be a non-empty 1-d list of finite numbers")
    d = np.diff(v)
    sign = np.where(d > tol, 1, np.where(d < -tol, -1, 0))
    turns = []
    last, last_at = 0, 0  # last non-flat direction and the point where the run in that direction ended
    for j, s in enumerate(sign):
        if s == 0:
            continue
        if last != 0 and s != last:
            turns.append((last_at, "max" if last > 0 else "min"))
        last = s
        last_at = j + 1  # a plateau after this step: a turn is placed at the plateau's first point
    nz = sign[sign != 0]
    if nz.size == 0:
        direction = "flat"
    elif turns:
        direction = "non-monotone"
    else:
        direction = "increasing" if nz[0] > 0 else "decreasing"
    return Shape(not turns, direction, tuple(turns), int(np.argmax(v)))


# --------------------------------------------------------------------------------------------------------------------
# curves on logs and populations
# --------------------------------------------------------------------------------------------------------------------


@dataclass
class KCurve:
    """Values of each method at each k point (tuples: one k per model of ``models``)."""

    models: tuple[str, ...]
    points: list[tuple[int, ...]]
    values: dict[str, np.ndarray]
    se: dict[str, np.ndarray]
    shapes: dict[str, Shape] = field(default_factory=dict)
    source: str = ""
    #: predictive interval per method and point at ``level`` (curves of a fit; empty otherwise)
    lower: dict[str, np.ndarray] = field(default_factory=dict)
    upper: dict[str, np.ndarray] = field(default_factory=dict)
    level: float | None = None

    def labels(self) -> list[str]:
        return [str(p[0]) if len(set(p)) == 1 else "(" + ",".join(map(str, p)) + ")" for p in self.points]

    def table(self) -> str:
        lab = self.labels()
        w = max(6, *(len(x) for x in lab))
        lines = [f"{self.source}; models (tie-break order): {', '.join(self.models)}",
                 f"{'k':>{w}}  " + "  ".join(f"{m:>13}" for m in self.values)]
        iv = self.level is not None
        if iv:
            lines[1] = f"{'k':>{w}}  " + "  ".join(f"{m:>29}" for m in self.values)
        for j, x in enumerate(lab):
            cells = [f"{self.values[m][j]:13.4f}" + (f" [{self.lower[m][j]:.4f},{self.upper[m][j]:.4f}]" if iv else "")
                     for m in self.values]
            lines.append(f"{x:>{w}}  " + "  ".join(f"{c:>{29 if iv else 13}}" for c in cells))
        if iv:
            lines.append(f"[lower,upper]: {100 * self.level:g}% predictive interval (draws from the fit)")
        for m, s in self.shapes.items():
            lines.append(f"{m}: {s.describe(lab)}; best at k={lab[s.argmax]} ({self.values[m][s.argmax]:.4f})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        lab = self.labels()
        return {"source": self.source, "models": list(self.models), "k": [list(p) for p in self.points],
                "values": {m: v.tolist() for m, v in self.values.items()},
                "se": {m: v.tolist() for m, v in self.se.items()},
                "shape": {m: {"monotone": s.monotone, "direction": s.direction,
                              "turns": [{"k": lab[i], "kind": kind} for i, kind in s.turns],
                              "best_k": lab[s.argmax], "best": float(self.values[m][s.argmax])}
                          for m, s in self.shapes.items()},
                **({"level": self.level, "lower": {m: v.tolist() for m, v in self.lower.items()},
                    "upper": {m: v.tolist() for m, v in self.upper.items()}} if self.level is not None else {})}


CURVE_METHODS = ("mux", "mux_valid", "vote", "union", "contradiction")


def _points(points: Iterable, n: int) -> list[tuple[int, ...]]:
    out = []
    for p in points:
        t = (p,) * n if isinstance(p, (int, np.integer)) and not isinstance(p, bool) else tuple(p)
        if len(t) != n or any(isinstance(x, bool) or not isinstance(x, (int, np.integer)) or x < 1 for x in t):
            raise MuxsimError(f"k point {p!r} must be an integer >= 1 or {n} of them (one per model)")
        out.append(tuple(int(x) for x in t))
    if not out:
        raise MuxsimError("k: no points given")
    return out


def _engine(pop, models: Sequence[str] | None, kmax: Sequence[int] | int):
    from muxsim.exact.engine import Engine

    names = check_names(pop.models, models)
    lay, mix, qw, share = exact_layout(pop)
    if isinstance(kmax, (int, np.integer)):
        kmax = [int(kmax)] * lay.n_models
    eng = Engine(lay, list(kmax), mix=mix, share=share)
    return eng, [list(pop.models).index(m) for m in names], np.asarray(qw, dtype=float)


def _population(source, models):
    """(population, its model names): an AnswerTable becomes its logged pools."""
    from muxsim.logs.evaluate import AnswerTable

    if isinstance(source, AnswerTable):
        return source.empirical(models)
    return source


def k_curve(source, points: Iterable, *, models: Sequence[str] | None = None,
            methods: Sequence[str] = ("mux", "vote"), r: int = 1) -> KCurve:
    """Exact values of ``methods`` at each k point for a fixed subset (models in tie-break order).

    ``source``: an :class:`~muxsim.logs.evaluate.AnswerTable` (k of K logged answers without
    replacement) or a population (``Empirical``, ``LatentDifficulty``, a fit's ``population()``).
    A point is one k for every model or a tuple with one k per model.  SEs are over questions
    for logs and empirical populations (0 for parametric ones).
    """
    from muxsim.population import Empirical

    bad = [m for m in methods if m not in CURVE_METHODS]
    if bad or not methods:
        raise MuxsimError(f"methods {list(methods)}: choose from {CURVE_METHODS}")
    pop = _population(source, models)
    names = list(pop.models) if models is None else list(models)
    if hasattr(pop, "parts"):  # a mixture of fits' populations: the parts' curves, weighted
        cs = [(w, k_curve(p, points, models=names, methods=methods, r=r)) for w, p in pop.parts]
        values = {m: sum(w * c.values[m] for w, c in cs) for m in methods}
        se = {m: sum(w * c.se[m] for w, c in cs) for m in methods}
        return KCurve(tuple(names), cs[0][1].points, values, se, {m: shape(values[m]) for m in methods},
                      "exact, mixture of " + ", ".join(f"{w:.2f} {type(p).__name__}" for w, p in pop.parts))
    pts = _points(points, len(names))
    kmax = [max(p[i] for p in pts) for i in range(len(names))]
    from muxsim.logs.evaluate import AnswerTable

    if isinstance(source, AnswerTable) and max(kmax) > source.K:
        raise MuxsimError(f"k={max(kmax)} is larger than the K={source.K} logged samples per question (k <= K)")
    # an engine over the chosen models only, in the given order
    sub_k = {m: kmax[i] for i, m in enumerate(names)}
    eng, idx, qw = _engine(pop, names, [sub_k.get(m, 1) for m in pop.models])
    values = {m: np.zeros(len(pts)) for m in methods}
    se = {m: np.zeros(len(pts)) for m in methods}
    for m in methods:
        if m == "vote":
            rows = list(eng.vote_curve(idx, [list(p) for p in pts]))
        else:
            rows = []
            for p in pts:
                if m == "mux":
                    rows.append(eng.mux(idx, list(p), "per_k")[0])
                elif m == "mux_valid":
                    rows.append(eng.mux(idx, list(p), "per_valid")[0])
                elif m == "union":
                    rows.append(eng.union(idx, list(p), r))
                else:
                    rows.append(eng.contradiction(idx, list(p), r))
        for j, v in enumerate(rows):
            values[m][j] = float(qw @ v)
            if isinstance(pop, Empirical) and len(v) > 1:
                se[m][j] = float(np.std(v, ddof=1) / np.sqrt(len(v)))
    shapes = {m: shape(values[m]) for m in methods}
    src = "exact, k of K logged samples" if isinstance(source, AnswerTable) else f"exact, {type(pop).__name__} population"
    return KCurve(tuple(names), pts, values, se, shapes, src)


def n_curve(source, k: int, sizes: Sequence[int], *, models: Sequence[str] | None = None, method: str = "mux",
            max_subsets: int = 20_000) -> list[dict]:
    """For each size, the subset with the best exact ``method`` accuracy at ``k`` (every subset scored).

    Subsets keep the pool's (tie-break) order (for logs with ``models=None``: descending per-sample
    accuracy on the same logs); ties go to the earlier subset.  Rows:
    ``{"size", "models", "value", "subsets"}``.  Refuses more than ``max_subsets`` subsets in all.
    """
    from muxsim.logs.evaluate import AnswerTable

    if method not in ("mux", "mux_valid", "vote"):
        raise MuxsimError(f"method={method!r} must be one of ('mux', 'mux_valid', 'vote')")
    if isinstance(source, AnswerTable) and models is None:
        acc = source.accuracy()
        models = [source.models[i] for i in np.argsort(-acc, kind="stable")]
    pop = _population(source, models)
    names = list(pop.models)
    n = len(names)
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise MuxsimError(f"size={s!r} must be an integer >= 1")
        if s > n:
            raise MuxsimError(f"size={s} is larger than the pool of {n} models {names}")
    total = sum(math.comb(n, s) for s in sizes)
    if total > max_subsets:
        raise MuxsimError(f"{total} subsets of sizes {list(sizes)} exceed max_subsets={max_subsets}")
    if isinstance(source, AnswerTable) and k > source.K:
        raise MuxsimError(f"k={k} is larger than the K={source.K} logged samples per question (k <= K)")
    parts = [(w, *_engine(p, None, int(k))) for w, p in getattr(pop, "parts", [(1.0, pop)])]  # a mixture: weighted
    out = []
    for s in sizes:
        best, best_v = None, -math.inf
        for combo in itertools.combinations(range(n), s):
            ks = [int(k)] * s
            val = 0.0
            for w, eng, _, qw in parts:
                if method == "vote":
                    v = eng.vote(list(combo), ks)
                else:
                    v = eng.mux(list(combo), ks, "per_k" if method == "mux" else "per_valid")[0]
                val += w * float(qw @ v)
            if val > best_v:
                best, best_v = combo, val
        out.append({"size": s, "models": [names[i] for i in best], "value": best_v, "subsets": math.comb(n, s)})
    return out


# --------------------------------------------------------------------------------------------------------------------
# the vote's optimal number of calls
# --------------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ChenOptimum:
    """K* of the two-difficulty binary model; ``k_star`` is an odd int or ``math.inf`` (the limit is best)."""

    k_star: float
    t: float  # the curve rises from 2m+1 to 2m+3 while m + 1 < t (p1 + p2 > 1); nan otherwise
    monotone: bool
    note: str


def _check_prob(name: str, v, lo: float, hi: float, lo_open: bool, hi_open: bool) -> float:
    try:
        v = float(v)
    except (TypeError, ValueError):
        raise MuxsimError(f"{name}={v!r} must be a number") from None
    bad = not math.isfinite(v) or v < lo or v > hi or (lo_open and v == lo) or (hi_open and v == hi)
    if bad:
        raise MuxsimError(f"{name}={v!r} must lie in {'(' if lo_open else '['}{lo}, {hi}{')' if hi_open else ']'}")
    return v


def chen_optimal_calls(alpha: float, p_easy: float, p_hard: float) -> ChenOptimum:
    """K* maximising alpha A(K, p1) + (1 - alpha) A(K, p2) over odd K (see the module notes for the derivation)."""
    a = _check_prob("alpha", alpha, 0.0, 1.0, False, False)
    p1 = _check_prob("p_easy", p_easy, 0.5, 1.0, True, False)
    p2 = _check_prob("p_hard", p_hard, 0.0, 0.5, False, True)
    if a == 1.0:
        return ChenOptimum(math.inf, math.nan, True, "only easy questions: the vote rises with K")
    if a == 0.0:
        return ChenOptimum(1, math.nan, True, "only hard questions: the vote falls with K")
    x1, x2 = p1 * (1 - p1), p2 * (1 - p2)
    R = a * (2 * p1 - 1) / ((1 - a) * (1 - 2 * p2))
    if x1 == 0.0:  # p1 = 1: easy questions are already right at K = 1; the hard ones only lose
        return ChenOptimum(1, math.nan, True, "p_easy = 1: more calls only lose hard questions")
    gap = p1 + p2 - 1  # x2 - x1 = (p1 - p2)(p1 + p2 - 1); |gap| <= 1e-12 counts as p1 + p2 = 1
    if abs(gap) <= 1e-12:
        x2 = x1
    if x2 > x1:  # p1 + p2 > 1
        t = math.log(R) / math.log(x2 / x1)
        if t <= 1:
            return ChenOptimum(1, t, True, "p1 + p2 > 1 and t <= 1: the vote falls from K = 1")
        return ChenOptimum(2 * math.ceil(t) - 1, t, False, "p1 + p2 > 1: rises while m + 1 < t, then falls")
    if x2 == x1 or R >= 1:
        if R > 1:
            return ChenOptimum(math.inf, math.nan, True, "rises with K (its limit is alpha)")
        if R == 1 and x2 == x1:
            return ChenOptimum(1, math.nan, True, "flat in odd K")
        if x2 == x1:
            return ChenOptimum(1, math.nan, True, "falls with K")
        return ChenOptimum(math.inf, math.nan, True, "rises with K (its limit is alpha)")
    # p1 + p2 < 1 and R < 1: falls while m + 1 < t, then rises towards alpha
    t = math.log(R) / math.log(x2 / x1)
    if t <= 1:
        return ChenOptimum(math.inf, t, True, "p1 + p2 < 1, t <= 1: rises with K (its limit is alpha)")
    f1 = a * p1 + (1 - a) * p2
    k = math.inf if a > f1 else 1
    return ChenOptimum(k, t, False, "p1 + p2 < 1: falls while m + 1 < t, then rises towards alpha; the best is K = 1 or the limit")


def two_difficulty_vote(alpha: float, p_easy: float, p_hard: float, ks: Iterable[int]) -> np.ndarray:
    """Vote accuracy of the two-difficulty binary model at each K, SEMANTICS.md rules (a tie at even K
    splits: credit 1/2): alpha V(K, p1) + (1 - alpha) V(K, p2) with
    V(K, p) = P(X > K/2) + P(X = K/2) / 2, X ~ Binomial(K, p).  For odd K this is A(K, p)."""
    from scipy.stats import binom

    a = _check_prob("alpha", alpha, 0.0, 1.0, False, False)
    p1 = _check_prob("p_easy", p_easy, 0.0, 1.0, False, False)
    p2 = _check_prob("p_hard", p_hard, 0.0, 1.0, False, False)
    K = np.asarray(list(ks), dtype=int)
    if K.size == 0 or np.any(K < 1):
        raise MuxsimError(f"ks={list(K)} must be integers >= 1")

    def v(p):
        tie = np.where(K % 2 == 0, binom.pmf(K // 2, K, p), 0.0)
        return binom.sf(K // 2, K, p) + 0.5 * tie

    return a * v(p1) + (1 - a) * v(p2)


def vote_optimum(curve: KCurve, method: str = "vote") -> dict:
    """The exact optimum of a computed curve: the best point, its value, and the curve's shape."""
    if method not in curve.values:
        raise MuxsimError(f"method={method!r} is not in the curve ({list(curve.values)})")
    s = curve.shapes.get(method) or shape(curve.values[method])
    lab = curve.labels()
    return {"k_star": lab[s.argmax], "value": float(curve.values[method][s.argmax]), "monotone": s.monotone,
            "turns": [{"k": lab[i], "kind": kind} for i, kind in s.turns]}
