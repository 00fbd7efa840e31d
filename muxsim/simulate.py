"""Monte Carlo mirror of :mod:`muxsim.exact` and :func:`muxsim.population.evaluate`.

Draws concrete answers (integer codes, see :mod:`muxsim.rules`) and applies
the aggregation rules of :mod:`muxsim.rules` — the same code that evaluates
real logs.  Every result carries its standard error and number of draws.
Randomness comes only from the keyword-only ``rng`` (a numpy Generator).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.exact.engine import check_k
from muxsim.laws import AnswerLaw, LoggedPool, Source
from muxsim.layout import layout, mixture_weights
from muxsim.population import (
    Curves,
    Empirical,
    LatentDifficulty,
    Population,
    add_paper,
    check_ks,
    method_names,
    select_models,
)

CHUNK_ROWS = 20_000


@dataclass(frozen=True)
class Estimate:
    """A Monte Carlo estimate: mean credit, its standard error and the number of draws."""

    value: float
    se: float
    n_draws: int
    exact: bool = False

    def __float__(self) -> float:
        return self.value

    def __repr__(self) -> str:
        return f"Estimate({self.value:.6f} ± {self.se:.6f}, n_draws={self.n_draws})"


def _check_rng(rng: object) -> np.random.Generator:
    if not isinstance(rng, np.random.Generator):
        raise MuxsimError(f"rng={rng!r} must be a numpy Generator, e.g. numpy.random.default_rng(0)")
    return rng


def draw(weights: np.ndarray, mode: str, k: int, model: int, rng: np.random.Generator) -> np.ndarray:
    """k answer codes per row from per-row weights ``(N, L + 3)`` of one model.

    Laws: independent categorical draws.  Pools: k of the K logged answers
    without replacement.  Tail draws get codes unique across models and rows.
    """
    N, C = weights.shape
    L = C - 3
    if mode == "law":
        cum = np.cumsum(weights, axis=1)
        cum[:, -1] = np.inf  # guard against rounding in the last bin
        u = rng.random((N, k))
        cat = (u[:, :, None] >= cum[:, None, :-1]).sum(axis=2)
    else:
        counts = np.round(weights).astype(np.int64)
        K = counts.sum(axis=1)
        Kmax = int(K.max())
        # each row's pool as a list of categories, padded
        pos = np.arange(Kmax)[None, :]
        edges = np.cumsum(counts, axis=1)
        items = (pos[:, :, None] >= edges[:, None, :]).sum(axis=2)  # category of item j
        keys = rng.random((N, Kmax))
        keys[pos >= K[:, None]] = np.inf
        take = np.argsort(keys, axis=1)[:, :k]
        cat = np.take_along_axis(items, take, axis=1)
    codes = np.where(cat <= L, cat, rules.ABSTAIN).astype(np.int64)
    tail = cat == L + 1
    uniq = rules.TAIL_BASE + (model * N + np.arange(N))[:, None] * k + np.arange(k)[None, :]
    return np.where(tail, uniq, codes)


def _apply(name: str, draws: list[np.ndarray], pos: dict[str, int], r: int) -> np.ndarray:
    if name.startswith("single["):
        return (draws[pos[name[7:-1]]][:, 0] == rules.CORRECT).astype(float)
    if name.startswith("sc["):
        return rules.self_consistency(draws[pos[name[3:-1]]])
    if name == "mux":
        return rules.mux(draws, "per_k")
    if name == "mux_valid":
        return rules.mux(draws, "per_valid")
    if name == "vote":
        return rules.vote(draws)
    if name == "union":
        return rules.union(draws, r)
    if name == "contradiction":
        return rules.contradiction(draws, r)
    raise MuxsimError(f"unknown method {name!r}")


def _credits(weights: np.ndarray, mode: str, ks: Sequence[int], names: Sequence[str], meths: Sequence[str], r: int, rng) -> dict[str, np.ndarray]:
    """Credit of each method on each row (one replicate per row), in chunks."""
    out: dict[str, list[np.ndarray]] = {m: [] for m in meths}
    pos = {n: i for i, n in enumerate(names)}
    for start in range(0, weights.shape[0], CHUNK_ROWS):
        w = weights[start : start + CHUNK_ROWS]
        draws = [draw(w[:, i, :], mode, ks[i], i, rng) for i in range(w.shape[1])]
        for m in meths:
            out[m].append(_apply(m, draws, pos, r))
    return {m: np.concatenate(v) for m, v in out.items()}


def evaluate(
    pop: Population,
    k: int | Iterable[int] = range(1, 10),
    *,
    n_draws: int,
    rng: np.random.Generator,
    models: Iterable[str] | None = None,
    methods: Sequence[str] | None = None,
    r: int = 1,
    with_paper: bool = True,
) -> Curves:
    """Monte Carlo accuracy curves.

    Populations of given questions (empirical, or fitted posteriors):
    ``n_draws`` replicates of every question; where a question is a mixture of
    E laws per model (``layout()`` gives ``mix``), each replicate draws every
    model's law independently by the mixture weights, and questions are
    averaged with the population's question weights w_q.  The SE is that of the
    Monte Carlo error, sqrt(sum_q w_q^2 s_q^2 / n_draws).
    Parametric populations: ``n_draws`` fresh questions (latent difficulty
    drawn too), one replicate each; SE = sd / sqrt(n_draws).
    """
    rng = _check_rng(rng)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise MuxsimError(f"n_draws={n_draws!r} must be an integer >= 2")
    ks = check_ks(k)
    idx = select_models(pop.models, models)
    names = [pop.models[i] for i in idx]
    meths = method_names(names, methods)
    values = {m: np.zeros(len(ks)) for m in meths}
    se = {m: np.zeros(len(ks)) for m in meths}
    if not isinstance(pop, LatentDifficulty):
        lay, mix, qw = pop.layout()
        E, mix_w = mixture_weights(mix, lay.n_models, lay.n_questions)  # (n_models, Q, E)
        common = mix is None or np.ndim(mix[1]) == 1
        Q = lay.n_questions // E
        qw = np.asarray(qw, dtype=float)
    for j, kk in enumerate(ks):
        if isinstance(pop, LatentDifficulty):
            w, mode = pop.sample_weights(n_draws, rng)[:, idx, :], "law"
        else:
            # replicate r of question q: each model's law from its own mixture row
            if common:
                e = rng.choice(E, size=(Q * n_draws, len(idx)), p=mix_w[0, 0])
            else:  # each model's row from its own weights on the question
                cum = np.cumsum(mix_w[idx], axis=2)[:, np.repeat(np.arange(Q), n_draws)].transpose(1, 0, 2)
                e = np.minimum((rng.random((Q * n_draws, len(idx)))[..., None] >= cum).sum(axis=2), E - 1)
            rows = np.repeat(np.arange(Q) * E, n_draws)[:, None] + e
            w, mode = lay.weights[rows, np.asarray(idx)[None, :], :], lay.mode
        cr = _credits(w, mode, [int(kk)] * len(idx), names, meths, r, rng)
        for m in meths:
            x = cr[m]
            if isinstance(pop, LatentDifficulty):
                values[m][j] = x.mean()
                se[m][j] = x.std(ddof=1) / np.sqrt(len(x))
            else:
                per_q = x.reshape(Q, n_draws)
                values[m][j] = float(qw @ per_q.mean(axis=1))
                se[m][j] = np.sqrt((qw**2) @ per_q.var(axis=1, ddof=1) / n_draws)
    curves = Curves(ks, values, se, f"monte carlo, {n_draws} draws", tuple(names), n_draws=int(n_draws))
    return add_paper(curves) if with_paper else curves


def _one(method: str, sources, k, n_draws: int, rng, r: int = 1) -> Estimate:
    """Monte Carlo of one method on one question (``method`` as in :func:`_apply`, models m0, m1, ...)."""
    rng = _check_rng(rng)
    if isinstance(n_draws, bool) or not isinstance(n_draws, (int, np.integer)) or n_draws < 2:
        raise MuxsimError(f"n_draws={n_draws!r} must be an integer >= 2")
    srcs = [sources] if isinstance(sources, (AnswerLaw, LoggedPool)) else list(sources)
    lay = layout([srcs])
    ks = check_k(k, lay.n_models)
    if lay.mode == "pool":
        for i, (kk, K) in enumerate(zip(ks, lay.pool_sizes()[0])):
            if kk > K:
                raise MuxsimError(f"k={kk} is larger than the {int(K)} logged samples of model {i}")
    names = [f"m{i}" for i in range(lay.n_models)]
    x = _credits(np.repeat(lay.weights, n_draws, axis=0), lay.mode, ks, names, [method], r, rng)[method]
    return Estimate(float(x.mean()), float(x.std(ddof=1) / np.sqrt(len(x))), int(len(x)))


def self_consistency(law: Source, k: int, *, n_draws: int, rng: np.random.Generator) -> Estimate:
    """Monte Carlo SC(k); mirror of :func:`muxsim.exact.self_consistency`."""
    return _one("sc[m0]", law, k, n_draws, rng)


def mux(laws: Sequence[Source], k, score: str = "per_k", *, n_draws: int, rng: np.random.Generator) -> Estimate:
    """Monte Carlo SLM-MUX; mirror of :func:`muxsim.exact.mux`."""
    return _one("mux" if rules.check_score(score) == "per_k" else "mux_valid", laws, k, n_draws, rng)


def vote(laws: Sequence[Source], k, *, n_draws: int, rng: np.random.Generator) -> Estimate:
    """Monte Carlo pooled vote; mirror of :func:`muxsim.exact.vote`."""
    return _one("vote", laws, k, n_draws, rng)


def union(laws: Sequence[Source], k, r: int = 1, *, n_draws: int, rng: np.random.Generator) -> Estimate:
    """Monte Carlo union; mirror of :func:`muxsim.exact.union`."""
    return _one("union", laws, k, n_draws, rng, rules.check_r(r))


def contradiction(laws: Sequence[Source], k, r: int = 1, *, n_draws: int, rng: np.random.Generator) -> Estimate:
    """Monte Carlo contradiction; mirror of :func:`muxsim.exact.contradiction`."""
    return _one("contradiction", laws, k, n_draws, rng, rules.check_r(r))
