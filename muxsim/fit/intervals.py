"""Predictions of a fit with predictive intervals.

A prediction of method M at k is the fit's exact expectation (the point
value).  Its interval comes from ``draws`` joint draws from the fit: each draw
gives every question one law per model (:meth:`Fit.draw_laws`: for the
population fit, parameters from their asymptotic normal law and then fresh
questions; for the shrinkage fit, its priors and urn refitted on a bootstrap
resample of the questions, then each question's posterior; for the latent
classes, the class parameters refitted on a bootstrap resample of the
questions, then each question's posterior), the exact
engine evaluates the drawn questions, and the interval is the
``(1 - level)/2, (1 + level)/2`` quantiles of the drawn accuracies at the plotting
positions p (n + 1) of n draws (:func:`draw_interval`: a further draw falls inside
with probability ``level`` on average; numpy's default interpolation gives
(n - 1) level / (n + 1), 81% for a 90% interval from 20 draws), widened to contain the point value
where it falls outside.  So it is the uncertainty about
the accuracy *on these questions* given the pilot, not the sampling error of
a held-out evaluation with finitely many samples: a predictive interval for
the value a run with n samples per question will observe adds that run's own
sampling SE in quadrature (``bench/calibration.py`` does so with a bootstrap
SE of the held-out answers).

Per-model methods of a fit whose population depends on the models in the call
(``joint_dependent``) are predicted, point and draws, from the model's own
one-model population.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.layout import Layout, from_arrays
from muxsim.population import Curves, add_paper, check_ks, evaluate, method_names

__all__ = ["Prediction", "predict", "DrawnPopulation", "draw_interval"]


@dataclass
class Prediction(Curves):
    """Predicted curves (``values``) with a predictive interval per method and k.

    ``lower[m][j]``/``upper[m][j]`` bound method m at ``k[j]`` at ``level``
    (NaN where no interval was computed: the paper's approximations, or
    ``level=None``); ``se`` is 0 (exact expectations of the fit).
    """

    lower: dict[str, np.ndarray] = field(default_factory=dict)
    upper: dict[str, np.ndarray] = field(default_factory=dict)
    level: float | None = None
    interval_draws: int = 0
    interval_kind: str = ""

    def conf_int(self, method: str) -> np.ndarray:
        """(len(k), 2) array of the interval of ``method``."""
        if method not in self.values:
            raise MuxsimError(f"method {method!r} is not in the prediction; it has {list(self.values)}")
        nan = np.full(len(self.k), np.nan)
        return np.stack([self.lower.get(method, nan), self.upper.get(method, nan)], axis=1)

    def table(self, digits: int = 4) -> str:
        names = list(self.values)
        width = max(len(n) for n in names) + 2
        lines = [f"{'method':<{width}}" + "".join(f"{'k=' + str(k):>26}" for k in self.k)]
        for n in names:
            lo, hi = self.conf_int(n).T
            cells = [f"{v:.{digits}f}" + (f" [{a:.{digits - 1}f},{b:.{digits - 1}f}]" if np.isfinite(a) else "")
                     for v, a, b in zip(self.values[n], lo, hi)]
            lines.append(f"{n:<{width}}" + "".join(f"{c:>26}" for c in cells))
        iv = (f"{100 * self.level:.0f}% predictive intervals from {self.interval_draws} draws ({self.interval_kind})"
              if self.level is not None else "no intervals")
        lines.append(f"({self.kind}; {iv}; models: {', '.join(self.models)})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        d = super().to_dict()
        d["level"] = self.level
        d["interval_draws"] = self.interval_draws
        d["interval_kind"] = self.interval_kind
        d["lower"] = {n: [float(x) for x in v] for n, v in self.lower.items()}
        d["upper"] = {n: [float(x) for x in v] for n, v in self.upper.items()}
        return d


@dataclass(frozen=True)
class DrawnPopulation:
    """Questions with one drawn law per model, ``weights`` (Q, n, L + 3), equally weighted."""

    weights: np.ndarray
    models: tuple[str, ...]

    def layout(self) -> tuple[Layout, None, np.ndarray]:
        W = np.where(self.weights < 1e-12, 0.0, self.weights)
        W = W / W.sum(axis=2, keepdims=True)
        Q = W.shape[0]
        return from_arrays(W, "law"), None, np.full(Q, 1.0 / Q)



def draw_interval(samples: np.ndarray, level: float) -> tuple[np.ndarray, np.ndarray]:
    """The central ``level`` interval of n exchangeable draws (axis 0): the (1 -/+ level) / 2 quantiles at the
    plotting positions p (n + 1) (numpy's ``weibull`` method; below the first or above the last draw, that draw).

    The j-th smallest of n draws has E F(X_(j)) = j / (n + 1) under their own law F, so a further draw falls
    between the two bounds with probability ``level`` on average (at least ``(n - 1) / (n + 1)`` where too few
    draws clip to the extremes).  Linear interpolation at positions 1 + (n - 1) p instead (numpy's default)
    covers (n - 1) level / (n + 1) on average: 81% for a 90% interval from 20 draws."""
    a = (1 - level) / 2
    lo, hi = np.quantile(samples, [a, 1 - a], axis=0, method="weibull")
    return lo, hi

def _point(fit, names: list[str], ks, meths: list[str], r: int, questions: list[int] | None = None) -> dict[str, np.ndarray]:
    """The fit's exact expectation of ``meths`` for the models ``names`` (in chunks of questions if the fit says
    so), averaged over ``questions`` (indices of the fit's logged questions; None: all)."""
    if not meths:
        return {}
    if hasattr(fit, "components"):  # a mixture: its components' expectations, weighted (muxsim.fit.mixture)
        parts = [(w, _point(c, names, ks, meths, r, questions if getattr(c, "question_ids", None) is not None else None))
                 for w, c in zip(fit.weights, fit.components)]
        return {m: sum(w * v[m] for w, v in parts) for m in meths}
    if fit.chunk is None and questions is None:
        c = evaluate(fit.population(names), ks, methods=meths, r=r, with_paper=False)
        return {m: np.asarray(c.values[m], dtype=float) for m in meths}
    every = list(range(len(fit.question_ids))) if questions is None else list(questions)
    step = fit.chunk or len(every)
    out = {m: np.zeros(len(ks)) for m in meths}
    for s0 in range(0, len(every), step):
        qs = every[s0 : s0 + step]
        c = evaluate(fit.population(names, questions=qs), ks, methods=meths, r=r, with_paper=False)
        for m in meths:
            out[m] += len(qs) / len(every) * np.asarray(c.values[m], dtype=float)
    return out


def _groups(fit, names: list[str], meths: list[str]) -> list[tuple[list[str], list[str]]]:
    """(models, methods) evaluated together: per-model methods alone when the fit is joint-dependent."""
    if not fit.joint_dependent:
        return [(names, meths)]
    joint = [m for m in meths if not m.startswith(("single[", "sc["))]
    groups = [(names, joint)] if joint else []
    for nm in names:
        own = [m for m in meths if m in (f"single[{nm}]", f"sc[{nm}]")]
        if own:
            groups.append(([nm], own))
    return groups


def predict(fit, k, *, models: Sequence[str] | None = None, methods: Sequence[str] | None = None, r: int = 1,
            level: float | None = 0.9, draws: int = 40, seed: int = 0, with_paper: bool = True,
            questions: Sequence[int] | None = None) -> Prediction:
    """Predicted curves of ``fit`` with ``level`` predictive intervals from ``draws`` draws (see module notes),
    over the fit's logged ``questions`` (indices; None: all; only for fits of logged questions)."""
    if questions is not None:
        if getattr(fit, "question_ids", None) is None:
            raise MuxsimError(f"questions: a {type(fit).__name__} is a population, not a fit of logged questions")
        questions = [int(q) for q in questions]
        if not questions or min(questions) < 0 or max(questions) >= len(fit.question_ids):
            raise MuxsimError(f"questions must be indices in 0..{len(fit.question_ids) - 1}, got {questions[:5]}")
    ks = check_ks(k)
    names = list(fit.models) if models is None else list(models)
    if not names:
        raise MuxsimError("models: empty selection")
    unknown = [m for m in names if m not in fit.models]
    if unknown:
        raise MuxsimError(f"model(s) {unknown} are not in the fit; it has {list(fit.models)}")
    if len(set(names)) != len(names):
        raise MuxsimError(f"models {names}: a model is named twice")
    meths = method_names(names, methods)
    if level is not None and not (isinstance(level, float) and 0 < level < 1):
        raise MuxsimError(f"level={level!r} must be a float in (0, 1) or None")
    if level is not None and (isinstance(draws, bool) or not isinstance(draws, int) or draws < 2):
        raise MuxsimError(f"draws={draws!r} must be an integer >= 2")
    groups = _groups(fit, names, meths)
    values: dict[str, np.ndarray] = {}
    for sel, ms in groups:
        values.update(_point(fit, sel, ks, ms, r, questions))
    values = {m: values[m] for m in meths}
    lower: dict[str, np.ndarray] = {}
    upper: dict[str, np.ndarray] = {}
    if level is not None:
        rng = np.random.default_rng([int(seed), 13])
        samples = {m: np.zeros((draws, len(ks))) for m in meths}
        for d in range(draws):
            for sel, ms in groups:
                W = fit.draw_laws(sel, rng)
                W = W if questions is None else W[questions]
                c = evaluate(DrawnPopulation(W, tuple(sel)), ks, methods=ms, r=r, with_paper=False)
                for m in ms:
                    samples[m][d] = c.values[m]
        for m in meths:
            lo, hi = draw_interval(samples[m], level)
            lower[m] = np.minimum(lo, values[m])
            upper[m] = np.maximum(hi, values[m])
    kind = f"exact expectation of the {type(fit).__name__}"
    out = Prediction(ks, values, {m: np.zeros(len(ks)) for m in meths}, kind, tuple(names), lower=lower, upper=upper,
                     level=level, interval_draws=draws if level is not None else 0,
                     interval_kind=getattr(fit, "interval_kind", "posterior draws") if level is not None else "")
    return add_paper(out) if with_paper else out
