"""Budgeted allocation: which models and how many samples each, for the best accuracy under a cost budget.

A plan is a subset S (in tie-break order) and one k per model of S; its cost is
sum_{i in S} k_i c_i with c_i the model's cost per sample (tokens or seconds from the
sample log, or given).  Its accuracy is the exact expected accuracy of one method (MUX by
default) on a population: the logged pools (k of K logged answers) or a fitted population.
Every candidate plan is evaluated on one exact engine over the pool, so the per-model
tables are built once.  :func:`plan` returns all candidates, the Pareto front (no other
plan is at most as costly and more accurate) and the best plan within the budget, with a
95% interval over questions where the population has one row per question (NaN otherwise).
"""

from __future__ import annotations

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
    se: float  # over questions; NaN for a parametric population

    def interval(self) -> tuple[float, float]:
        return (self.accuracy - Z95 * self.se, self.accuracy + Z95 * self.se)

    def to_dict(self) -> dict:
        lo, hi = self.interval()
        ok = not math.isnan(self.se)
        return {"models": list(self.models), "k": list(self.k), "cost": self.cost, "accuracy": self.accuracy,
                "se": self.se if ok else None, "interval95": [lo, hi] if ok else None}


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
            iv = "" if math.isnan(b.se) else f", 95% interval [{b.interval()[0]:.4f}, {b.interval()[1]:.4f}]"
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


def plan(pop, costs: Mapping[str, float], budget: float, *, sizes: Sequence[int] = (1, 2, 3),
         ks: Sequence[int] = (1, 2, 3, 4, 5), per_model_k: bool = False, method: str = "mux",
         max_plans: int = 200_000, k_limit: int | None = None) -> PlanResult:
    """Every plan (subset of the given sizes x k per model from ``ks``; the same k for all models
    unless ``per_model_k``), its cost and exact accuracy; the Pareto front and the best plan with
    cost <= ``budget`` (ties: lower cost, then earlier enumeration).  ``k_limit``: the logged K."""
    from muxsim.exact.engine import Engine
    from muxsim.population import Empirical

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
    lay, mix, qw = pop.layout()
    names = list(pop.models)
    n = len(names)
    for s in sizes:
        if s < 1 or s > n:
            raise MuxsimError(f"size={s} must be between 1 and the pool's {n} models {names}")
    c = _check_costs(costs, names)
    n_plans = sum(math.comb(n, s) * (len(ks) ** s if per_model_k else len(ks)) for s in sizes)
    if n_plans > max_plans:
        raise MuxsimError(f"{n_plans} plans exceed max_plans={max_plans}; fewer sizes or k values")
    qw = np.asarray(qw, dtype=float)
    eng = Engine(lay, [ks[-1]] * n, mix=mix)
    single = np.array([float(qw @ eng.single(i)) for i in range(n)])
    order = [int(i) for i in np.argsort(-single, kind="stable")]  # tie-break order
    per_q = isinstance(pop, Empirical) or type(pop).__name__.endswith("PosteriorPopulation")
    Q = len(qw)
    cands = []
    for s in sizes:
        for combo in itertools.combinations(order, s):
            combo = sorted(combo, key=order.index)
            points = itertools.product(ks, repeat=s) if per_model_k else ((k,) * s for k in ks)
            for kk in points:
                if method == "vote":
                    v = eng.vote(combo, list(kk))
                else:
                    v = eng.mux(combo, list(kk), "per_k" if method == "mux" else "per_valid")[0]
                acc = float(qw @ v)
                se = float(np.sqrt(np.sum(qw**2 * (v - acc) ** 2) * Q / (Q - 1))) if per_q and Q > 1 else math.nan
                cands.append(Plan(tuple(names[i] for i in combo), tuple(int(x) for x in kk),
                                  float(sum(c[i] * x for i, x in zip(combo, kk))), acc, se))
    by_cost = sorted(range(len(cands)), key=lambda j: (cands[j].cost, -cands[j].accuracy, j))
    front, best_acc = [], -math.inf
    for j in by_cost:
        if cands[j].accuracy > best_acc + 1e-12:
            front.append(cands[j])
            best_acc = cands[j].accuracy
    within = [p for p in front if p.cost <= budget * (1 + 1e-12)]
    best = within[-1] if within else None
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
        yerr = None if math.isnan(b.se) else [[Z95 * b.se], [Z95 * b.se]]
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
