"""Adaptive sampling for self-consistency: stop drawing from a model once more draws cannot help.

Policies (one model, a budget of ``budget`` draws; the answer is always the
plurality of the draws made, by :func:`muxsim.rules.plurality`):

* ``Lead()`` -- stop as soon as the top answer's lead over the runner-up is
  larger than the draws left (``top - second > budget - n``): no other answer
  can reach the top count any more, so the answer is the one SC(budget) would
  give, with fewer draws (the "cannot be overturned" rule of adaptive
  consistency, Aggarwal et al. 2023).  Its accuracy equals SC(budget) exactly.
* ``Run(r)`` -- stop after ``r`` consecutive draws of the same answer (the
  correct one or a named wrong one; tail answers are unique and abstentions
  break a run), in the spirit of early-stopping self-consistency (Li et al.
  2024), or at the budget.

:func:`policy_value` gives the exact expected credit and expected number of
draws of a policy on one source: an ``AnswerLaw`` (draws with replacement) or a
``LoggedPool`` of K logged answers (draws without replacement: the exact
expectation over the order of the logged samples).  It is a forward pass over
the states (counts per answer so far [and the current run]), O(budget x
#states x (L + 3)); the number of states grows as budget^(L + 2), so it is
meant for the few labels of one question.  :func:`simulate_policy` is its
Monte Carlo mirror (estimate with its standard error), and
:func:`evaluate_policy` averages a policy over the questions of a log.

Several models (SLM-MUX): :mod:`muxsim.adaptive_mux`; populations and logs against
fixed k: :mod:`muxsim.adaptive_population`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Sequence

import numpy as np

from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool, Source
from muxsim.simulate import Estimate

__all__ = ["Lead", "Run", "policy_value", "simulate_policy", "evaluate_policy", "PolicyValue"]


@dataclass(frozen=True)
class Lead:
    """Stop when the top answer can no longer be overturned within the budget."""

    def stops(self, counts: np.ndarray, n: int, budget: int, run: int) -> bool:
        top, second = _top_two(counts)
        return top - second > budget - n

    def __str__(self) -> str:
        return "lead"


@dataclass(frozen=True)
class Run:
    """Stop after ``r`` consecutive equal answers (correct or a named wrong answer)."""

    r: int = 3

    def __post_init__(self) -> None:
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise MuxsimError(f"Run: r={self.r!r} must be an integer >= 1")

    def stops(self, counts: np.ndarray, n: int, budget: int, run: int) -> bool:
        return run >= self.r

    def __str__(self) -> str:
        return f"run{self.r}"


@dataclass(frozen=True)
class PolicyValue:
    """Exact expected credit (accuracy) and expected number of draws of a policy."""

    accuracy: float
    samples: float


def _categories(src: Source) -> tuple[np.ndarray, str]:
    """[correct, named wrong..., tail, abstain] as probabilities (law) or counts (pool), and the mode."""
    if isinstance(src, AnswerLaw):
        return np.array([src.correct, *src.wrong.values(), src.tail, src.abstain], dtype=float), "law"
    if isinstance(src, LoggedPool):
        return np.array([src.correct, *src.wrong.values(), src.tail, src.abstain], dtype=float), "pool"
    raise MuxsimError(f"source {src!r} must be an AnswerLaw or a LoggedPool")


def _top_two(counts: np.ndarray) -> tuple[int, int]:
    """Highest and second-highest count of a distinct answer (tail draws count 1 each; abstain none)."""
    named = sorted(counts[:-2].tolist(), reverse=True)
    vals = named + [1] * int(counts[-2])
    vals.sort(reverse=True)
    vals += [0, 0]
    return int(vals[0]), int(vals[1])


def _draws_of(counts: np.ndarray) -> np.ndarray:
    """Concrete answer codes with these category counts (for :func:`muxsim.rules.plurality`)."""
    L = len(counts) - 3
    out = [rules.CORRECT] * int(counts[0])
    for j in range(L):
        out += [1 + j] * int(counts[1 + j])
    out += [rules.TAIL_BASE + t for t in range(int(counts[-2]))]
    out += [rules.ABSTAIN] * int(counts[-1])
    return np.array(out, dtype=np.int64)


def _credit(counts: np.ndarray) -> float:
    if counts.sum() == 0:
        return 0.0
    return float(rules.plurality(_draws_of(counts)[None, :])[0][0])


def _check(budget: int, w: np.ndarray, mode: str) -> None:
    if isinstance(budget, bool) or not isinstance(budget, (int, np.integer)) or budget < 1:
        raise MuxsimError(f"budget={budget!r} must be an integer >= 1")
    if mode == "pool" and budget > w.sum():
        raise MuxsimError(f"budget={budget} is larger than the K={int(w.sum())} logged answers")


def policy_value(src: Source, policy, budget: int) -> PolicyValue:
    """Exact expected credit and draws of ``policy`` on one model's source (see module notes)."""
    w, mode = _categories(src)
    _check(budget, w, mode)
    C = len(w)
    L = C - 3
    states: dict[tuple, float] = {(tuple([0] * C), -1, 0): 1.0}  # (counts, last answer category, run length)
    acc = samples = 0.0
    for n in range(budget + 1):
        nxt: dict[tuple, float] = {}
        for (cnt, last, run), pr in states.items():
            counts = np.array(cnt)
            if n == budget or (n > 0 and policy.stops(counts, n, budget, run)):
                acc += pr * _credit(counts)
                samples += pr * n
                continue
            if mode == "law":
                probs = w
            else:
                left = w - counts
                probs = left / left.sum()
            for j in range(C):
                if probs[j] <= 0:
                    continue
                c2 = list(cnt)
                c2[j] += 1
                agree = j <= L  # the correct answer or a named wrong one can repeat
                run2 = run + 1 if (agree and j == last) else (1 if agree else 0)
                key = (tuple(c2), j if agree else -1, run2)
                nxt[key] = nxt.get(key, 0.0) + pr * probs[j]
        states = nxt
    return PolicyValue(acc, samples)


def simulate_policy(src: Source, policy, budget: int, *, n_draws: int, rng: np.random.Generator) -> tuple[Estimate, Estimate]:
    """Monte Carlo mirror of :func:`policy_value`: (accuracy, draws) estimates with standard errors."""
    w, mode = _categories(src)
    _check(budget, w, mode)
    C = len(w)
    L = C - 3
    credit = np.zeros(n_draws)
    used = np.zeros(n_draws)
    for d in range(n_draws):
        if mode == "law":
            seq = rng.choice(C, size=budget, p=w / w.sum())
        else:
            seq = rng.permutation(np.repeat(np.arange(C), w.astype(int)))[:budget]
        counts = np.zeros(C, dtype=int)
        last, run, n = -1, 0, 0
        for j in seq:
            counts[j] += 1
            n += 1
            agree = j <= L
            run = run + 1 if (agree and j == last) else (1 if agree else 0)
            last = j if agree else -1
            if n == budget or policy.stops(counts, n, budget, run):
                break
        credit[d] = _credit(counts)
        used[d] = n
    se = lambda x: float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")  # noqa: E731
    return Estimate(float(credit.mean()), se(credit), n_draws), Estimate(float(used.mean()), se(used), n_draws)


def evaluate_policy(table, model: str, policies: Sequence, budget: int) -> dict:
    """Mean over a log's questions of each policy's exact (accuracy, expected draws), beside fixed SC(budget)
    (entry ``fixed``).

    Draws are without replacement from each question's K logged answers of
    ``model`` (the exact expectation over their order)."""
    i = table.models.index(model) if model in table.models else None
    if i is None:
        raise MuxsimError(f"model {model!r} is not in the log; it has {list(table.models)}")
    from muxsim import exact

    pools = [row[0] for row in table.pools([i])]
    out = {"fixed": {"accuracy": float(np.mean([exact.self_consistency(p, budget) for p in pools])),
                     "samples": float(budget)}}
    for pol in policies:
        vals = [policy_value(p, pol, budget) for p in pools]
        out[str(pol)] = {"accuracy": float(np.mean([v.accuracy for v in vals])),
                         "samples": float(np.mean([v.samples for v in vals]))}
    return {"model": model, "budget": budget, "questions": len(pools), "policies": out}
