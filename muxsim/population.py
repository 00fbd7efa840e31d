"""Populations of questions and their accuracy curves (exact).

* :class:`Empirical` — one source (AnswerLaw or LoggedPool) per question and model.
* :class:`LatentDifficulty` — a parametric family with latent question
  difficulty, integrated by deterministic Gauss-Hermite quadrature.

:func:`evaluate` gives every method for a range of k and any subset of models;
:func:`muxsim.simulate.evaluate` is its Monte Carlo mirror.
"""

from __future__ import annotations

import contextlib
import warnings
from dataclasses import dataclass, field
from typing import Iterable, Sequence

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy.special import betaln
from scipy.stats import beta as beta_dist
from scipy.stats import norm

from muxsim import paper
from muxsim.errors import MuxsimError, MuxsimWarning
from muxsim.exact.engine import Engine
from muxsim.laws import AnswerLaw, Source, check_sources
from muxsim.layout import Layout, from_arrays, layout

#: Multi-model methods; per-model ones are ``single[<model>]`` and ``sc[<model>]``.
METHODS = ("mux", "mux_valid", "vote", "union", "contradiction")


def beta_quantile_z(z: np.ndarray, a: float, b: float) -> np.ndarray:
    """p = F_Beta(a, b)^-1(Phi(z)) for latent values ``z``, computed without cancellation.

    For z > 0, Phi(z) rounds towards 1 (1 - 1e-13 at z = 7.3) and the inverse
    of the regularised incomplete beta function is then asked for a root where
    its argument has lost its digits: scipy's boost ``ibeta_inv`` can fail to
    converge there and warn (``RuntimeWarning``), or return a non-monotone
    value.  By the symmetry F_Beta(a, b)^-1(1 - s) = 1 - F_Beta(b, a)^-1(s),
    the upper half is computed from the accurate tail s = Phi(-z) instead, so
    every call inverts a probability below 1/2.
    """
    z = np.asarray(z, dtype=float)
    lower = z <= 0
    s = norm.cdf(-np.abs(z))  # accurate tail probability, <= 1/2
    out = np.empty_like(s)
    out[lower] = _beta_ppf_low(s[lower], a, b)
    out[~lower] = 1.0 - _beta_ppf_low(s[~lower], b, a)
    return out


def _beta_ppf_low(s: np.ndarray, a: float, b: float) -> np.ndarray:
    """F_Beta(a, b)^-1(s) for s <= 1/2.  Far in the tail (quantile below 1e-8) boost's root finder
    gives up (a RuntimeWarning and a wrong value, e.g. 6e-213 for s = 1e-17, a = 1.03, b = 0.97);
    there F(x) = x^a / (a B(a, b)) (1 + a (1 - b) x / (a + 1) + O(x^2)), so with x0 = (s a B(a, b))^(1/a),
    x = x0 (1 - (1 - b) x0 / (a + 1)) to relative error O(x0^2) ~ 1e-16."""
    with np.errstate(over="ignore"):  # x0 overflows only far from the tail, where boost is used
        x0 = np.exp((np.log(np.maximum(s, 1e-300)) + np.log(a) + betaln(a, b)) / a)
    tiny = x0 < 1e-8
    out = np.empty_like(x0)
    t = x0[tiny]
    out[tiny] = t * (1 - (1 - b) * t / (a + 1))
    out[~tiny] = beta_dist.ppf(s[~tiny], a, b)
    return out


@dataclass(frozen=True)
class Empirical:
    """Questions x models of explicit sources.

    ``questions[q][i]`` is model i's AnswerLaw (or LoggedPool) on question q;
    models are in tie-break order (descending validation accuracy).
    """

    questions: Sequence[Sequence[Source]]
    models: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if len(self.questions) == 0:
            raise MuxsimError("Empirical: no questions")
        n = len(self.questions[0])
        names = tuple(self.models) or tuple(f"m{i}" for i in range(n))
        if len(names) != n:
            raise MuxsimError(f"Empirical: {len(names)} model names for {n} models")
        if len(set(names)) != len(names):
            raise MuxsimError(f"Empirical: model names {names} repeat")
        object.__setattr__(self, "models", names)
        object.__setattr__(self, "_layout", layout(self.questions))

    def layout(self) -> tuple[Layout, tuple[int, np.ndarray] | None, np.ndarray]:
        lay: Layout = self._layout  # type: ignore[attr-defined]
        return lay, None, np.full(lay.n_questions, 1.0 / lay.n_questions)


@dataclass(frozen=True)
class ModelParams:
    """One model of a :class:`LatentDifficulty` population.

    Parameters
    ----------
    name : model name.
    a, b : Beta(a, b) is the spread over questions of p, the model's accuracy
        among its valid (non-abstain) draws; its mean a / (a + b) is the
        model's average accuracy when it answers.
    abstain : probability that a draw gives no answer; with ``abstain_slope = 0``
        the same on every question, else the value on the model's median question.
    attractor : share of the wrong valid mass that goes to the question's named
        wrong answer (one attractor); the rest is a tail of unique answers.
        0 = wrong answers never repeat, 1 = always the same wrong answer.
    loading : lambda in [0, 1): latent difficulty z_i = lambda_i g + sqrt(1 - lambda_i^2) e_i
        with g shared by all models; corr(z_i, z_j) = lambda_i lambda_j.
    abstain_slope : s; abstention on a question is ``Phi(Phi^-1(abstain) - s z_i)``, so
        s > 0 makes the model abstain more on the questions it finds hard (low z_i).
        0 (the default) is constant abstention.
    """

    name: str
    a: float
    b: float
    abstain: float = 0.0
    attractor: float = 0.0
    loading: float = 0.0
    abstain_slope: float = 0.0

    def __post_init__(self) -> None:
        for nm in ("a", "b"):
            v = getattr(self, nm)
            if not (isinstance(v, (int, float)) and np.isfinite(v) and v > 0):
                raise MuxsimError(f"ModelParams({self.name!r}): {nm}={v!r} must be > 0")
        for nm in ("abstain", "attractor"):
            v = getattr(self, nm)
            if not (isinstance(v, (int, float)) and 0 <= v <= 1):
                raise MuxsimError(f"ModelParams({self.name!r}): {nm}={v!r} must be in [0, 1]")
        if not (isinstance(self.loading, (int, float)) and 0 <= self.loading < 1):
            raise MuxsimError(f"ModelParams({self.name!r}): loading={self.loading!r} must be in [0, 1)")
        s = self.abstain_slope
        if not (isinstance(s, (int, float)) and np.isfinite(s)):
            raise MuxsimError(f"ModelParams({self.name!r}): abstain_slope={s!r} must be a finite number")
        if s != 0 and not 0 < self.abstain < 1:
            raise MuxsimError(f"ModelParams({self.name!r}): abstain_slope={s!r} needs 0 < abstain < 1, got {self.abstain!r}")


@dataclass(frozen=True)
class LatentDifficulty:
    """Parametric population: per question, a latent difficulty per model.

    For question q and model i, z_i ~ N(0, 1) with corr(z_i, z_j) = lambda_i lambda_j
    (one-factor Gaussian copula); p_i = F_Beta(a_i, b_i)^-1(Phi(z_i)); the law is
    ``correct = (1 - abstain) p``, ``wrong[X] = (1 - abstain)(1 - p) attractor``,
    ``tail = (1 - abstain)(1 - p)(1 - attractor)``.  ``shared_wrong=True`` makes
    X the same answer for every model (a shared misconception); ``False`` gives
    each model its own X_i.  Expectations over z are Gauss-Hermite quadrature with
    ``nodes`` points for g and for each model's own factor (deterministic; the
    error falls fast with ``nodes``).
    """

    params: tuple[ModelParams, ...]
    shared_wrong: bool = True
    nodes: int = 24
    models: tuple[str, ...] = field(init=False)

    def __post_init__(self) -> None:
        if len(self.params) == 0:
            raise MuxsimError("LatentDifficulty: no models")
        object.__setattr__(self, "params", tuple(self.params))
        names = tuple(p.name for p in self.params)
        if len(set(names)) != len(names):
            raise MuxsimError(f"LatentDifficulty: model names {names} repeat")
        if not isinstance(self.nodes, int) or self.nodes < 2:
            raise MuxsimError(f"LatentDifficulty: nodes={self.nodes!r} must be an integer >= 2")
        object.__setattr__(self, "models", names)

    def weights_at(self, z: np.ndarray) -> np.ndarray:
        """Law weights ``(N, n, L + 3)`` at latent values ``z`` of shape (N, n)."""
        n = len(self.params)
        L = 1 if self.shared_wrong else n
        w = np.zeros(z.shape + (L + 3,))
        for i, p in enumerate(self.params):
            # keep p off 0 and 1 by 1e-12: Beta marginals with a, b << 1 put quantiles at 1e-300,
            # where scipy's binomial pmf overflows; the effect on any accuracy is below 1e-11
            acc = np.clip(beta_quantile_z(z[:, i], p.a, p.b), 1e-12, 1 - 1e-12)
            if p.abstain_slope == 0:
                ab = np.full(len(z), p.abstain)
            else:
                ab = norm.cdf(norm.ppf(p.abstain) - p.abstain_slope * z[:, i])
            valid = 1.0 - ab
            w[:, i, 0] = valid * acc
            w[:, i, 1 + (0 if self.shared_wrong else i)] = valid * (1 - acc) * p.attractor
            w[:, i, L + 1] = valid * (1 - acc) * (1 - p.attractor)
            w[:, i, L + 2] = ab
        return w

    def latent(self, g: np.ndarray, e: np.ndarray) -> np.ndarray:
        lam = np.array([p.loading for p in self.params])
        return lam * g[..., None] + np.sqrt(1 - lam**2) * e

    def layout(self) -> tuple[Layout, tuple[int, np.ndarray], np.ndarray]:
        x, wx = hermegauss(self.nodes)
        wx = wx / wx.sum()
        G = E = self.nodes
        g = np.repeat(x, E)  # rows ordered (g, e)
        e = np.tile(x, G)[:, None].repeat(len(self.params), axis=1)
        w = self.weights_at(self.latent(g, e))
        return from_arrays(w, "law"), (E, wx), wx

    def sample_weights(self, n: int, rng: np.random.Generator) -> np.ndarray:
        """Laws of n random questions (for Monte Carlo)."""
        g = rng.standard_normal(n)
        e = rng.standard_normal((n, len(self.params)))
        return self.weights_at(self.latent(g, e))


Population = Empirical | LatentDifficulty


@dataclass
class Curves:
    """Accuracy of each method against k.

    ``values[name][j]`` is the accuracy at ``k[j]``; ``se[name][j]`` its standard
    error: over questions for an empirical population, 0 for quadrature, the
    Monte Carlo error for a simulation (``kind`` says which).
    """

    k: np.ndarray
    values: dict[str, np.ndarray]
    se: dict[str, np.ndarray]
    kind: str
    models: tuple[str, ...]
    n_draws: int | None = None
    notes: tuple[str, ...] = ()  #: why a value is NaN (e.g. a vote too large to compute exactly)

    def table(self, digits: int = 4) -> str:
        names = list(self.values)
        width = max(len(n) for n in names) + 2
        lines = [f"{'method':<{width}}" + "".join(f"{'k=' + str(k):>18}" for k in self.k)]
        for n in names:
            cells = []
            for v, s in zip(self.values[n], self.se[n]):
                if np.isnan(v):
                    cells.append("n/a" + " " * (digits + 3))
                    continue
                cells.append(f"{v:.{digits}f}" + (f" ±{s:.{digits}f}" if s > 0 else " " * (digits + 3)))
            lines.append(f"{n:<{width}}" + "".join(f"{c:>18}" for c in cells))
        lines.append(f"({self.kind}; models: {', '.join(self.models)})")
        lines += [f"note: {note}" for note in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        return {
            "k": [int(k) for k in self.k],
            "kind": self.kind,
            "models": list(self.models),
            "n_draws": self.n_draws,
            "values": {n: [_num(x) for x in v] for n, v in self.values.items()},
            "se": {n: [_num(x) for x in v] for n, v in self.se.items()},
            "notes": list(self.notes),
        }


def _num(x: float) -> float | None:
    """A float for JSON: NaN (not computed; see the notes) becomes null."""
    return None if np.isnan(x) else float(x)


@contextlib.contextmanager
def collect_notes():
    """``with collect_notes() as notes:`` gathers the :class:`MuxsimWarning` messages raised inside
    (values left as NaN, and why) into the list ``notes``, for a result's notes; other warnings pass on."""
    notes: list[str] = []
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", MuxsimWarning)
        yield notes
    for w in caught:
        if issubclass(w.category, MuxsimWarning):
            notes.append(str(w.message))
        else:
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)


def check_names(available: Sequence[str], models: Iterable[str] | None, what: str = "population") -> list[str]:
    """The named models in the order given (None: all of ``available``); unknown or repeated names are an error
    (``what`` names the owner of ``available`` in the message)."""
    if models is None:
        return list(available)
    models = list(models)
    unknown = [m for m in models if m not in available]
    if unknown:
        raise MuxsimError(f"unknown model(s) {unknown}; the {what} has {list(available)}")
    if len(set(models)) != len(models):
        raise MuxsimError(f"models {models}: a model is named twice")
    return models


def select_models(pop_models: Sequence[str], models: Iterable[str] | None) -> list[int]:
    """Indices of the named models, in the population's (tie-break) order."""
    if models is not None and not list(models):
        raise MuxsimError("models: empty selection")
    return sorted(pop_models.index(m) for m in check_names(pop_models, models))


def check_ks(k: int | Iterable[int]) -> np.ndarray:
    ks = np.atleast_1d(np.asarray(list(k) if not isinstance(k, (int, np.integer)) else [k]))
    if ks.size == 0 or not np.issubdtype(ks.dtype, np.integer) or np.any(ks < 1):
        raise MuxsimError(f"k={k!r} must be integers >= 1")
    return ks.astype(int)


def method_names(models: Sequence[str], methods: Sequence[str] | None) -> list[str]:
    every = [f"single[{m}]" for m in models] + [f"sc[{m}]" for m in models] + list(METHODS)
    if methods is None:
        return every
    bad = [m for m in methods if m not in every]
    if bad:
        raise MuxsimError(f"unknown method(s) {bad}; choose from {every}")
    return list(methods)


def per_question(eng: Engine, name: str, idx: list[int], names: Sequence[str], k: int, r: int) -> np.ndarray:
    """Per-question exact value of one method (the engine's rows)."""
    ks = [k] * len(idx)
    if name.startswith("single["):
        return eng.single(idx[[names[i] for i in idx].index(name[7:-1])])
    if name.startswith("sc["):
        return eng.sc(idx[[names[i] for i in idx].index(name[3:-1])], k)
    if name == "mux":
        return eng.mux(idx, ks, "per_k")[0]
    if name == "mux_valid":
        return eng.mux(idx, ks, "per_valid")[0]
    if name == "vote":
        return eng.vote(idx, ks)
    if name == "union":
        return eng.union(idx, ks, r)
    if name == "contradiction":
        return eng.contradiction(idx, ks, r)
    raise MuxsimError(f"unknown method {name!r}")


def add_paper(curves: Curves) -> Curves:
    """Add the paper's approximations A(k, p_max) and A(k, mean p), fed with the single accuracies."""
    singles = [curves.values[f"single[{m}]"][0] for m in curves.models if f"single[{m}]" in curves.values]
    if not singles:
        return curves
    curves.values["paper_mux"] = np.array([paper.mux_approx(singles, int(k)) for k in curves.k])
    curves.values["paper_vote"] = np.array([paper.agent_forest_approx(singles, int(k)) for k in curves.k])
    curves.se["paper_mux"] = np.zeros(len(curves.k))
    curves.se["paper_vote"] = np.zeros(len(curves.k))
    return curves


def exact_layout(pop) -> tuple:
    """``(layout, mix, question weights, share)`` of ``pop`` for an exact :class:`Engine` (``Engine(lay, k,
    mix=mix, share=share)``).  A population whose wrong answers are shared by patterns (``vote_share`` > 0:
    :class:`muxsim.fit.classes.ClassPosteriorPopulation`) is laid out without them (its ``private_form``),
    and the engine's vote sums the patterns; every other method is the same on both."""
    share = float(getattr(pop, "vote_share", 0.0))
    lay, mix, qw = (pop.private_form() if share else pop).layout()
    return lay, mix, qw, share


def evaluate(
    pop: Population,
    k: int | Iterable[int] = range(1, 10),
    *,
    models: Iterable[str] | None = None,
    methods: Sequence[str] | None = None,
    r: int = 1,
    with_paper: bool = True,
) -> Curves:
    """Exact accuracy curves of a population.

    Population accuracy is the (weighted) mean over questions of the exact
    per-question value; the reported SE of an empirical population is the
    standard error of that mean over its questions.
    """
    ks = check_ks(k)
    idx = select_models(pop.models, models)
    names = [pop.models[i] for i in idx]
    meths = method_names(names, methods)
    if hasattr(pop, "parts"):  # a mixture of populations (muxsim.fit.mixture): the parts' curves, weighted
        cs = [(w, evaluate(p, ks, models=names, methods=meths, r=r, with_paper=False)) for w, p in pop.parts]
        curves = Curves(ks, {m: sum(w * c.values[m] for w, c in cs) for m in meths},
                        {m: sum(w * c.se[m] for w, c in cs) for m in meths}, "exact", tuple(names),
                        notes=tuple(n for _, c in cs for n in c.notes))
        return add_paper(curves) if with_paper else curves
    lay, mix, qw, share = exact_layout(pop)
    eng = Engine(lay, [int(ks.max())] * lay.n_models, mix=mix, share=share)
    values = {m: np.zeros(len(ks)) for m in meths}
    se = {m: np.zeros(len(ks)) for m in meths}
    for m in meths:
        if m == "vote":
            with collect_notes() as notes:  # the whole curve at once (running powers)
                rows = list(eng.vote_curve(idx, [[int(kk)] * len(idx) for kk in ks]))
        else:
            rows = [per_question(eng, m, idx, pop.models, int(kk), r) for kk in ks]
        for j, v in enumerate(rows):
            values[m][j] = float(qw @ v)
            if isinstance(pop, Empirical) and len(v) > 1:
                se[m][j] = float(np.std(v, ddof=1) / np.sqrt(len(v)))
    curves = Curves(ks, values, se, "exact", tuple(names), notes=tuple(notes) if "vote" in meths else ())
    return add_paper(curves) if with_paper else curves
