"""Designing an experiment before spending GPU time: questions needed, samples worth drawing, pilot size.

Three questions, each answered from a fit (:mod:`muxsim.fit`) of a pilot:

* :func:`paired_questions` -- how many questions a paired comparison of two
  configurations (method, models, k) needs.  Both configurations are run once
  on the same n questions, each giving a credit per question; with x_q and y_q
  the fit's expected credits on question q (runs independent given the
  question), the discordant probabilities are ``p10 = E[x (1 - y)]`` and
  ``p01 = E[(1 - x) y]``, the difference ``delta = p10 - p01``.  McNemar's test
  of ``p10 = p01`` at two-sided level ``alpha`` and power ``1 - beta`` needs,
  in its normal approximation (Connor 1987),

      n = (z_{1-alpha/2} sqrt(p_d) + z_{1-beta} sqrt(p_d - delta^2))^2 / delta^2,   p_d = p10 + p01,

  and a run of n questions estimates delta with the 95% interval half-width
  ``1.96 sqrt((p_d - delta^2) / n)`` (normal approximation, stated, not exact).
  Expected credits are averaged over ``draws`` draws of the questions' laws
  from the fit (``Fit.draw_laws``), so the fit's uncertainty enters p10, p01.
* :func:`k_curve` -- accuracy against k with predictive intervals and the
  first k whose next sample gains less than ``threshold``.
* :func:`pilot_value` -- what a larger pilot buys: the expected width of the
  predictive interval of one configuration after fitting a pilot of m and of
  m + extra samples, each simulated ``reps`` times from the fit (every pilot
  redrawn from one posterior draw of the questions' laws, refitted with the
  same family, predicted with intervals).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np
from scipy.stats import norm

from muxsim.errors import MuxsimError
from muxsim.exact.engine import Engine
from muxsim.fit.intervals import DrawnPopulation
from muxsim.population import check_ks, method_names, per_question

__all__ = ["Config", "paired_questions", "k_curve", "pilot_value"]


@dataclass(frozen=True)
class Config:
    """One configuration: a method (``sc`` for one model, else mux, mux_valid, vote, union, contradiction),
    the models (tie-break order) and k."""

    method: str
    models: tuple[str, ...]
    k: int

    def engine_name(self) -> str:
        return f"sc[{self.models[0]}]" if self.method == "sc" else self.method

    def label(self) -> str:
        return f"{self.method}({'+'.join(self.models)}, k={self.k})"

    @classmethod
    def parse(cls, text: str) -> "Config":
        """``METHOD:MODEL[,MODEL...]:K``, e.g. ``mux:a,b:5`` or ``sc:a:3``."""
        parts = text.split(":")
        if len(parts) != 3:
            raise MuxsimError(f"configuration {text!r} must be METHOD:MODEL[,MODEL...]:K")
        try:
            k = int(parts[2])
        except ValueError:
            raise MuxsimError(f"configuration {text!r}: k={parts[2]!r} is not an integer") from None
        models = tuple(m.strip() for m in parts[1].split(",") if m.strip())
        cfg = cls(parts[0].strip(), models, k)
        cfg.check()
        return cfg

    def check(self) -> None:
        if self.k < 1:
            raise MuxsimError(f"{self.label()}: k={self.k} must be >= 1")
        if not self.models:
            raise MuxsimError(f"configuration {self.method!r}: no models")
        if self.method == "sc" and len(self.models) != 1:
            raise MuxsimError(f"{self.label()}: sc takes one model")
        if self.method != "sc":
            method_names(self.models, [self.method])


def _per_question(fit, cfg: Config, W_models: Sequence[str], W: np.ndarray) -> np.ndarray:
    """(Q,) exact credit of ``cfg`` on each drawn question (laws ``W`` of the models ``W_models``)."""
    lay, _, _ = DrawnPopulation(W, tuple(W_models)).layout()
    eng = Engine(lay, [cfg.k] * lay.n_models)
    idx = [list(W_models).index(m) for m in cfg.models]
    return per_question(eng, cfg.engine_name(), idx, list(W_models), cfg.k, 1)


def _union_models(a: Config, b: Config, order: Sequence[str]) -> list[str]:
    return [m for m in order if m in a.models or m in b.models]


def paired_questions(fit, a: Config, b: Config, *, delta: float | None = None, alpha: float = 0.05,
                     power: float = 0.8, n_questions: Sequence[int] = (100, 200, 500, 1000), draws: int = 20,
                     seed: int = 0) -> dict:
    """Questions needed to detect the difference of ``a`` and ``b`` (see module notes).

    ``delta`` (accuracy points as a fraction, e.g. 0.02) overrides the fit's
    predicted difference; p10 + p01 stays the fit's.  Returns p10, p01, the
    predicted accuracies, the n needed and, for each n in ``n_questions``, the
    95% interval half-width of the difference and the power at the fit's delta.
    """
    for c in (a, b):
        c.check()
        bad = [m for m in c.models if m not in fit.models]
        if bad:
            raise MuxsimError(f"{c.label()}: model(s) {bad} are not in the fit; it has {list(fit.models)}")
    if not (0 < alpha < 1 and 0 < power < 1):
        raise MuxsimError(f"alpha={alpha!r} and power={power!r} must be in (0, 1)")
    rng = np.random.default_rng([int(seed), 31])
    names = _union_models(a, b, fit.models)
    p10 = p01 = xa = xb = 0.0
    for _ in range(draws):
        W = fit.draw_laws(names, rng)
        x, y = _per_question(fit, a, names, W), _per_question(fit, b, names, W)
        p10 += float(np.mean(x * (1 - y))) / draws
        p01 += float(np.mean((1 - x) * y)) / draws
        xa += float(np.mean(x)) / draws
        xb += float(np.mean(y)) / draws
    d_fit = p10 - p01
    d = d_fit if delta is None else float(delta)
    pd = p10 + p01
    za, zb = norm.ppf(1 - alpha / 2), norm.ppf(power)
    if d == 0 or pd <= d * d:
        n_need = math.inf
    else:
        n_need = math.ceil((za * math.sqrt(pd) + zb * math.sqrt(pd - d * d)) ** 2 / (d * d))
    rows = []
    for n in n_questions:
        sd = math.sqrt(max(pd - d_fit**2, 0.0) / n)
        pw = float(norm.cdf((abs(d_fit) * math.sqrt(n) - za * math.sqrt(pd)) / math.sqrt(max(pd - d_fit**2, 1e-300))))
        rows.append({"n": int(n), "ci95_halfwidth": 1.96 * sd, "power_at_fit_delta": pw})
    return {"a": a.label(), "b": b.label(), "accuracy_a": xa, "accuracy_b": xb, "p10": p10, "p01": p01,
            "delta_fit": d_fit, "delta": d, "alpha": alpha, "power": power, "n_needed": n_need,
            "by_n": rows, "draws": draws,
            "approximation": "McNemar's test, normal approximation (Connor 1987); runs independent given the question"}


def k_curve(fit, method: str, models: Sequence[str], k_max: int, *, threshold: float = 0.005, level: float = 0.9,
            draws: int = 20, seed: int = 0) -> dict:
    """Accuracy against k = 1..k_max with ``level`` intervals, and the first k whose next sample gains < threshold."""
    ks = check_ks(range(1, int(k_max) + 1))
    cfg = Config(method, tuple(models), 1)
    cfg.check()
    name = cfg.engine_name()
    pred = fit.predict(ks, models=list(models), methods=[name], level=level, draws=draws, seed=seed,
                       with_paper=False)
    v = np.asarray(pred.values[name])
    gains = np.diff(v)
    stop = next((int(ks[j]) for j, g in enumerate(gains) if g < threshold), None)
    return {"config": f"{method}({'+'.join(models)})", "k": ks.tolist(), "value": v.tolist(),
            "lower": pred.lower[name].tolist(), "upper": pred.upper[name].tolist(), "level": level,
            "gains": gains.tolist(), "threshold": threshold, "k_stop": stop}


def _simulate_codes(W: np.ndarray, m: int, rng: np.random.Generator) -> np.ndarray:
    """(Q, n, m) answer codes drawn from laws W (Q, n, L + 3), label codes as in the simulator."""
    from muxsim.simulate import draw

    return np.stack([draw(W[:, i, :], "law", m, i, rng) for i in range(W.shape[1])], axis=1)


def pilot_value(fit, m: int, cfg: Config, extra: Sequence[int] = (0, 3), *, reps: int = 3, draws: int = 10,
                level: float = 0.9, seed: int = 0, refit_options: dict | None = None) -> dict:
    """Expected width of the ``level`` interval of ``cfg`` with a pilot of m + e samples, e in ``extra``.

    Each repetition draws the questions' laws from ``fit``, simulates a pilot of
    m + e samples on the fit's questions, refits the same family (same
    options; a mixture: each of its families, mixed with the fit's weights,
    ``refit_options`` then maps a family to its options) and predicts ``cfg``
    with intervals; widths are averaged over ``reps`` repetitions (see module
    notes)."""
    from muxsim.fit import fit as do_fit
    from muxsim.fit.mixture import MixtureFit
    from muxsim.logs.evaluate import AnswerTable

    cfg.check()
    families = [c.family for c in getattr(fit, "components", (fit,))]
    kind = "+".join(families)
    opts = refit_options or {}

    def refit(t):  # the same families (a mixture: each refitted, mixed with the fit's own weights)
        if len(families) == 1:
            return do_fit(t, kind, **opts)
        return MixtureFit(tuple(do_fit(t, k, **opts.get(k, {})) for k in families), fit.weights)

    rng = np.random.default_rng([int(seed), 47])
    names = list(fit.models)
    if isinstance(m, bool) or not isinstance(m, int) or m < 1:
        raise MuxsimError(f"pilot m={m!r} must be an integer >= 1")
    out = []
    for e in extra:
        if e < 0:
            raise MuxsimError(f"extra={e} must be >= 0")
        widths = []
        for _ in range(reps):
            W = fit.draw_laws(names, rng)
            codes = _simulate_codes(W, m + e, rng)
            Q = codes.shape[0]
            t = AnswerTable(tuple(f"q{q}" for q in range(Q)), tuple(names), codes, tuple(() for _ in range(Q)))
            f2 = refit(t)
            p = f2.predict([cfg.k], models=list(cfg.models), methods=[cfg.engine_name()], level=level, draws=draws,
                           with_paper=False)
            widths.append(float(p.upper[cfg.engine_name()][0] - p.lower[cfg.engine_name()][0]))
        out.append({"pilot_samples": m + e, "extra": int(e), "mean_width": float(np.mean(widths)),
                    "widths": widths})
    return {"config": cfg.label(), "kind": kind, "level": level, "reps": reps, "by_pilot": out}
