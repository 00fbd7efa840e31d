"""Budgeted allocation: which models and how many samples each, for the best accuracy under a cost budget.

A plan is a subset S (in tie-break order) and one k per model of S; its cost is
sum_{i in S} k_i c_i with c_i the model's cost per sample (tokens or seconds from the
sample log, or given).  Its accuracy is the exact expected accuracy of one method (MUX by
default) on a population: the logged pools (k of K logged answers) or a fitted population.
Candidate plans are evaluated by :class:`muxsim.subset_eval.SubsetEvaluator`: one exact
engine over the pool (in chunks of questions for fits of logged questions), so the per-model
tables are built once, wherever the fit allows (shrinkage with cross-model priors: subset by
subset).  :func:`plan` returns all candidates, the Pareto front (no other plan is at most as
costly and more accurate) and the best plan within the budget.  The best plan's uncertainty:
on the logged pools, a 95% interval over questions (value +- 1.96 SE); on a fit, the
``level`` predictive interval of ``Fit.predict`` for its models and k (one k for all its
models; a plan with per-model k gets none, ``Fit.predict`` takes one k per curve point).
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass
from typing import Mapping, Sequence

import numpy as np

from muxsim.errors import MuxsimError

__all__ = ["Plan", "PlanResult", "plan", "costs_from_samples"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Plan:
    models: tuple[str, ...]
    k: tuple[int, ...]
    cost: float
    accuracy: float
    se: float  # over questions (logged pools); NaN on a fit
    lower: float | None = None  #: predictive interval at ``level`` (on a fit; the best plan only)
    upper: float | None = None
    level: float | None = None

    def interval(self) -> tuple[float, float]:
        """The predictive interval on a fit, else the 95% interval value +- 1.96 SE (NaN without either)."""
        if self.level is not None:
            return (float(self.lower), float(self.upper))
        return (self.accuracy - Z95 * self.se, self.accuracy + Z95 * self.se)

    def interval_label(self) -> str:
        return f"{100 * self.level:g}% predictive interval" if self.level is not None else "95% interval over questions"

    def to_dict(self) -> dict:
        lo, hi = self.interval()
        ok = not math.isnan(self.se)
        d = {"models": list(self.models), "k": list(self.k), "cost": self.cost, "accuracy": self.accuracy,
             "se": self.se if ok else None, "interval95": [lo, hi] if ok else None}
        if self.level is not None:
            d.update(lower=self.lower, upper=self.upper, level=self.level)
        return d


@dataclass
class PlanResult:
    method: str
    budget: float
    best: Plan | None  # None: no plan fits the budget
    front: list[Plan]
    candidates: list[Plan]

    def to_dict(self) -> dict:
        return {"method": self.method, "budget": self.budget, "best": None if self.best is None else self.best.to_dict(),
                "pareto_front": [p.to_dict() for p in self.front], "candidates": len(self.candidates)}

    def table(self) -> str:
        lines = [f"{len(self.candidates)} candidate plans, exact {self.method}; budget {self.budget:g}"]
        if self.best is None:
            lines.append("no plan fits the budget (the cheapest costs "
                         f"{min(p.cost for p in self.candidates):g})")
        else:
            b = self.best
            lo, hi = b.interval()
            iv = "" if math.isnan(lo) else f", {b.interval_label()} [{lo:.4f}, {hi:.4f}]"
            lines.append(f"best plan: {', '.join(f'{m} x{k}' for m, k in zip(b.models, b.k))}: accuracy {b.accuracy:.4f}"
                         f"{iv}, cost {b.cost:g}")
        lines.append("Pareto front (cost, accuracy, plan):")
        for p in self.front:
            lines.append(f"  {p.cost:12g}  {p.accuracy:.4f}  " + ", ".join(f"{m} x{k}" for m, k in zip(p.models, p.k)))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def costs_from_samples(samples, field: str = "tokens_out") -> dict[str, float]:
    """Mean cost per sample of each model from the sample log: ``tokens_out`` (generated tokens),
    ``tokens`` (tokens_in + tokens_out) or ``latency_s``.  Every sample of a model must carry it."""
    if field not in ("tokens_out", "tokens", "latency_s"):
        raise MuxsimError(f"cost field={field!r} must be one of ('tokens_out', 'tokens', 'latency_s')")
    vals: dict[str, list[float]] = {}
    for s in samples:
        if field == "tokens":
            v = None if s.tokens_in is None or s.tokens_out is None else s.tokens_in + s.tokens_out
        else:
            v = getattr(s, field)
        if v is None:
            raise MuxsimError(f"sample (question_id={s.question_id!r}, model={s.model!r}, sample={s.sample}) has no "
                              f"{field}: give the costs per sample with --cost")
        vals.setdefault(s.model, []).append(float(v))
    return {m: float(np.mean(v)) for m, v in vals.items()}


def _check_costs(costs: Mapping[str, float], models: Sequence[str]) -> np.ndarray:
    missing = [m for m in models if m not in costs]
    if missing:
        raise MuxsimError(f"no cost per sample for model(s) {missing}")
    extra = [m for m in costs if m not in models]
    if extra:
        raise MuxsimError(f"cost given for unknown model(s) {extra}; the pool has {list(models)}")
    c = np.array([costs[m] for m in models], dtype=float)
    bad = [(m, costs[m]) for m in models if not (math.isfinite(float(costs[m])) and float(costs[m]) > 0)]
    if bad:
        raise MuxsimError(f"cost per sample {bad[0][0]}={bad[0][1]!r} must be a finite number > 0")
    return c


def plan(source, costs: Mapping[str, float], budget: float, *, sizes: Sequence[int] = (1, 2, 3),
         ks: Sequence[int] = (1, 2, 3, 4, 5), per_model_k: bool = False, method: str = "mux",
         max_plans: int = 200_000, k_limit: int | None = None, models: Sequence[str] | None = None,
         level: float | None = 0.9, draws: int = 40, seed: int = 0) -> PlanResult:
    """Every plan (subset of the given sizes x k per model from ``ks``; the same k for all models
    unless ``per_model_k``), its cost and exact accuracy; the Pareto front and the best plan with
    cost <= ``budget`` (ties: lower cost, then earlier enumeration).  ``k_limit``: the logged K.

    ``source``: a population (e.g. the logged pools) or a :class:`~muxsim.fit.Fit`; on a fit,
    ``models`` picks the pool (default: all the fit's) and the best plan gets the ``level``
    predictive interval of ``source.predict`` (``level=None``: none)."""
    from muxsim.subset_eval import SubsetEvaluator, is_fit

    if method not in ("mux", "mux_valid", "vote"):
        raise MuxsimError(f"method={method!r} must be one of ('mux', 'mux_valid', 'vote')")
    try:
        budget = float(budget)
    except (TypeError, ValueError):
        raise MuxsimError(f"budget={budget!r} must be a number > 0") from None
    if not math.isfinite(budget) or budget <= 0:
        raise MuxsimError(f"budget={budget!r} must be a finite number > 0")
    ks = sorted(set(int(k) for k in ks))
    if not ks or ks[0] < 1:
        raise MuxsimError(f"ks={ks} must be integers >= 1")
    if k_limit is not None and ks[-1] > k_limit:
        raise MuxsimError(f"k={ks[-1]} is larger than the K={k_limit} logged samples per question (k <= K)")
    fit = source if is_fit(source) else None
    if fit is not None:
        from muxsim.fitted import population_of_fit

        population_of_fit(fit, models)  # checks the names
    elif models is not None and list(models) != list(source.models):
        raise MuxsimError("models: a population is planned over all its models")
    names = list(source.models) if models is None else list(models)
    n = len(names)
    for s in sizes:
        if s < 1 or s > n:
            raise MuxsimError(f"size={s} must be between 1 and the pool's {n} models {names}")
    c = _check_costs(costs, names)
    n_plans = sum(math.comb(n, s) * (len(ks) ** s if per_model_k else len(ks)) for s in sizes)
    if n_plans > max_plans:
        raise MuxsimError(f"{n_plans} plans exceed max_plans={max_plans}; fewer sizes or k values")
    ev = SubsetEvaluator(source, names, ks[-1])
    single = ev.singles()
    order = [int(i) for i in np.argsort(-single, kind="stable")]  # tie-break order
    jobs = []
    for s in sizes:
        for combo in itertools.combinations(order, s):
            points = itertools.product(ks, repeat=s) if per_model_k else ((k,) * s for k in ks)
            jobs += [(combo, tuple(int(x) for x in kk)) for kk in points]
    vals, se = ev.values(jobs, method)
    cands = [Plan(tuple(names[i] for i in combo), kk, float(sum(c[i] * x for i, x in zip(combo, kk))),
                  float(vals[j, 0]), math.nan if se is None else float(se[j]))
             for j, (combo, kk) in enumerate(jobs)]
    by_cost = sorted(range(len(cands)), key=lambda j: (cands[j].cost, -cands[j].accuracy, j))
    front, best_acc = [], -math.inf
    for j in by_cost:
        if cands[j].accuracy > best_acc + 1e-12:
            front.append(cands[j])
            best_acc = cands[j].accuracy
    within = [p for p in front if p.cost <= budget * (1 + 1e-12)]
    best = within[-1] if within else None
    if best is not None and fit is not None and level is not None and len(set(best.k)) == 1:
        from muxsim.predicted import interval_of

        iv = interval_of(fit, list(best.models), best.k[0], method, level=level, draws=draws, seed=seed)
        best = dataclasses.replace(best, **iv)
    return PlanResult(method, budget, best, front, cands)


def plot_plan(result: PlanResult, path: str, title: str = "") -> None:
    """Accuracy against cost: every plan (grey), the Pareto front, the budget and the chosen plan with its interval."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from pathlib import Path

    fig, ax = plt.subplots(figsize=(7, 4.5))
    ax.scatter([p.cost for p in result.candidates], [p.accuracy for p in result.candidates], s=8, color="0.75",
               label="plans")
    ax.step([p.cost for p in result.front], [p.accuracy for p in result.front], where="post", color="C0",
            label="Pareto front")
    ax.axvline(result.budget, color="C3", ls="--", lw=1, label=f"budget {result.budget:g}")
    if result.best is not None:
        b = result.best
        lo, hi = b.interval()
        yerr = None if math.isnan(lo) else [[b.accuracy - lo], [hi - b.accuracy]]
        ax.errorbar([b.cost], [b.accuracy], yerr=yerr, fmt="o", color="C3", capsize=3,
                    label="chosen: " + ", ".join(f"{m} x{k}" for m, k in zip(b.models, b.k)))
    ax.set_xlabel("cost (sum over models of k x cost per sample)")
    ax.set_ylabel(f"exact {result.method} accuracy")
    ax.set_title(title or "budgeted plans")
    ax.legend(fontsize=7)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)
