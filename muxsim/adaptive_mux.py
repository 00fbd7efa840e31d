"""Adaptive sampling for SLM-MUX: stop drawing from models once the winner is decided.

Setting (SEMANTICS.md §2): n models in tie-break order (descending validation
accuracy), model i with a budget of k_i draws.  Fixed-k SLM-MUX draws all k_i,
gives model i the confidence ``top_i / k_i`` (``per_k``) or ``top_i / valid_i``
(``per_valid``), and returns the plurality answer of the most confident model
(equal confidences: the earlier model; tied answers within a model: uniform;
no answer: wrong).

Draw order (both policies): **rounds**.  At the start of a round the policy
looks at every model's draws so far and names the *active* models; each active
model then makes one draw, in model order.  No active model = stop.  Only the
answers are looked at, never whether they are correct, so each policy can run
on a real deployment.

:class:`Decided` (exact).  After n_i of k_i draws (m_i = k_i - n_i left, top
count t_i, v_i non-abstain draws), whatever the remaining answers are, model
i's final confidence lies in [lo_i, hi_i]:

* ``per_k``: lo = t/k, hi = (t + m)/k;
* ``per_valid``: lo = t/(v + m), hi = (t + m)/(v + m) (both 0 if v + m = 0),

and both ends are reached by some completion (fresh unique answers or
abstentions; every draw joining the top answer).  Model j is *out* when some
other model i has lo_i > hi_j, or lo_i = hi_j with i before j: j wins for no
completion (and, the models being independent, for none of the others'
completions either); conversely a model that is not out wins for some joint
completion.  Out is permanent (lo never falls; an out model stops drawing, so
its hi stays).  A model that is not out is a *candidate*; its answer is
*locked* when its top answer is unique and leads the runner-up by more than
m_i (``t - second > m``), so no completion changes it.  The policy stops when
every candidate is locked on the same answer (that answer is returned), or
when no candidate has draws left (then the winner among the candidates, by
their exact final confidences, gives its plurality answer).  Active models are
the candidates with draws left.  In both cases the returned answer is the one
fixed-k MUX returns for every completion of every model's remaining draws, so
the accuracy equals fixed-k SLM-MUX exactly (draw for draw, not only in
expectation) and the expected number of draws is at most sum_i k_i.

:class:`RunEach` (heuristic).  Model i draws until r consecutive equal answers
(the correct one or one named wrong answer; tail answers are unique and
abstentions break a run, as :class:`muxsim.adaptive.Run`) or its budget; the
answer is fixed-rule SLM-MUX on the draws made, with k_i = n_i (the draws
actually made): confidence ``top_i / n_i`` (``per_k``) or ``top_i / valid_i``.

Exact evaluation (:func:`mux_policy_value`): a forward pass over joint states
(every model's counts per answer [and its current run]), round by round, with
one-draw probabilities from an ``AnswerLaw`` (with replacement) or from what is
left of a ``LoggedPool`` (without replacement: the exact expectation over the
order of each model's logged samples).  With C answer categories and budget k,
one model has at most C(k + C, C) count states, the joint pass at most their
n-th power, each state branching into C^(#active) successors: small cases only
(2-3 models, a few labels, k up to about 8).  :func:`simulate_mux_policy` is its
Monte Carlo mirror; :mod:`muxsim.adaptive_population` averages over the
questions of a population or a log.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from fractions import Fraction
from functools import lru_cache
from typing import Sequence

import numpy as np

from muxsim import adaptive
from muxsim.adaptive import PolicyValue
from muxsim.errors import MuxsimError
from muxsim.exact.engine import check_k
from muxsim.laws import AnswerLaw, LoggedPool, Source, check_sources
from muxsim.layout import layout
from muxsim.rules import check_score
from muxsim.simulate import Estimate

__all__ = ["Decided", "RunEach", "mux_policy_value", "simulate_mux_policy", "is_mux_policy"]

#: one model's state: (counts per category [correct, labels..., tail, abstain], last agreeing category or -1, run)
ModelState = tuple[tuple[int, ...], int, int]


@lru_cache(maxsize=1 << 16)
def summary(counts: tuple[int, ...]) -> tuple[int, int, int, object]:
    """(top, second, valid, answer) of one model's counts; ``answer`` is the category of the unique top
    answer (``"tail"`` for a lone tail draw) or None when the top is tied or nothing is valid."""
    named = counts[:-2]
    tails = counts[-2]
    vals = sorted(list(named) + [1] * tails, reverse=True) + [0, 0]
    top, second = vals[0], vals[1]
    valid = sum(counts) - counts[-1]
    answer: object = None
    if top > second:
        answer = named.index(top) if top in named else "tail"
    return top, second, valid, answer


@lru_cache(maxsize=1 << 16)
def credit(counts: tuple[int, ...]) -> float:
    """Plurality credit of concrete counts (:func:`muxsim.rules.plurality`); 0 for no draws."""
    return adaptive._credit(np.array(counts))


def _conf(top: int, valid: int, k: int, score: str) -> Fraction:
    """Exact MUX confidence of a model with ``k`` draws (SEMANTICS §2)."""
    if score == "per_k":
        return Fraction(top, k)
    return Fraction(top, valid) if valid > 0 else Fraction(0)


def _winner(confs: Sequence[Fraction], among: Sequence[int]) -> int:
    """The first of ``among`` (in model order) with the highest confidence."""
    best = among[0]
    for i in among[1:]:
        if confs[i] > confs[best]:
            best = i
    return best


@dataclass(frozen=True)
class Decided:
    """Stop drawing from a model once it cannot win; stop all once the answer is fixed (module notes).

    Accuracy equals fixed-k SLM-MUX with the same ``score`` exactly."""

    score: str = "per_k"
    uses_run = False

    def __post_init__(self) -> None:
        check_score(self.score)

    def _bounds(self, st: ModelState, k: int) -> tuple[Fraction, Fraction]:
        t, _, v, _ = summary(st[0])
        m = k - sum(st[0])
        if self.score == "per_k":
            return Fraction(t, k), Fraction(t + m, k)
        d = v + m
        return (Fraction(t, d), Fraction(t + m, d)) if d else (Fraction(0), Fraction(0))

    def candidates(self, states: Sequence[ModelState], budgets: Sequence[int]) -> list[int]:
        """Models that still win for some completion of everyone's remaining draws."""
        b = [self._bounds(s, k) for s, k in zip(states, budgets)]
        return [j for j in range(len(states))
                if not any(i != j and (b[i][0] > b[j][1] or (b[i][0] == b[j][1] and i < j)) for i in range(len(states)))]

    def _locked(self, states, budgets, cands) -> object:
        """The common locked answer of all candidates, or None."""
        answers = set()
        for i in cands:
            t, s, _, a = summary(states[i][0])
            if a is None or t - s <= budgets[i] - sum(states[i][0]):
                return None
            answers.add(("tail", i) if a == "tail" else a)
        return answers.pop() if len(answers) == 1 else None

    def active(self, states: Sequence[ModelState], budgets: Sequence[int]) -> tuple[int, ...]:
        cands = self.candidates(states, budgets)
        if self._locked(states, budgets, cands) is not None:
            return ()
        return tuple(i for i in cands if sum(states[i][0]) < budgets[i])

    def credit(self, states: Sequence[ModelState], budgets: Sequence[int]) -> float:
        cands = self.candidates(states, budgets)
        a = self._locked(states, budgets, cands)
        if a is not None:
            return 1.0 if a == 0 else 0.0
        confs = {}
        for i in cands:
            t, _, v, _ = summary(states[i][0])
            confs[i] = _conf(t, v, budgets[i], self.score)
        return credit(states[_winner(confs, cands)][0])

    def __str__(self) -> str:
        return "decided" if self.score == "per_k" else "decided_valid"


@dataclass(frozen=True)
class RunEach:
    """Each model stops after ``r`` consecutive equal answers or at its budget; MUX on the draws made
    (confidence over the draws made, ``k_i = n_i``)."""

    r: int = 3
    score: str = "per_k"
    uses_run = True

    def __post_init__(self) -> None:
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise MuxsimError(f"RunEach: r={self.r!r} must be an integer >= 1")
        check_score(self.score)

    def active(self, states: Sequence[ModelState], budgets: Sequence[int]) -> tuple[int, ...]:
        return tuple(i for i, (s, k) in enumerate(zip(states, budgets)) if sum(s[0]) < k and s[2] < self.r)

    def credit(self, states: Sequence[ModelState], budgets: Sequence[int]) -> float:
        confs = []
        for s in states:
            t, _, v, _ = summary(s[0])
            confs.append(_conf(t, v, sum(s[0]), self.score))
        return credit(states[_winner(confs, list(range(len(states))))][0])

    def __str__(self) -> str:
        return f"run{self.r}_each" + ("" if self.score == "per_k" else "_valid")


@dataclass(frozen=True)
class Single:
    """A one-model policy of :mod:`muxsim.adaptive` (``Lead``, ``Run``) seen as a policy over one model."""

    policy: object
    uses_run = True

    def active(self, states: Sequence[ModelState], budgets: Sequence[int]) -> tuple[int, ...]:
        (cnt, _, run), k = states[0], budgets[0]
        n = sum(cnt)
        if n == k or (n > 0 and self.policy.stops(np.array(cnt), n, k, run)):
            return ()
        return (0,)

    def credit(self, states: Sequence[ModelState], budgets: Sequence[int]) -> float:
        return credit(states[0][0])

    def __str__(self) -> str:
        return str(self.policy)


def is_mux_policy(policy: object) -> bool:
    return isinstance(policy, (Decided, RunEach))


def as_joint(policy: object, n_models: int):
    """A policy over ``n_models`` models: MUX policies as they are, a one-model policy wrapped for one model."""
    if is_mux_policy(policy):
        return policy
    if isinstance(policy, (adaptive.Lead, adaptive.Run)):
        if n_models != 1:
            raise MuxsimError(f"policy {policy} is a one-model (self-consistency) policy; give exactly one model, "
                              f"not {n_models}")
        return Single(policy)
    raise MuxsimError(f"policy {policy!r} must be Decided, RunEach, adaptive.Lead or adaptive.Run")


class Predictive:
    """Next-draw probabilities of one model given its counts so far (exchangeable draws).

    ``kind`` "law": iid with weights ``w`` (C,); "pool": without replacement from counts ``w`` (C,);
    "mix": iid given a component e of weights ``mix`` (E,) with laws ``w`` (E, C) -- the predictive is
    the posterior mixture, prop. to mix_e prod_c w_ec^counts_c.
    """

    def __init__(self, kind: str, w: np.ndarray, mix: np.ndarray | None = None):
        self.kind, self.w, self.mix = kind, np.asarray(w, dtype=float), mix
        self._cache: dict[tuple[int, ...], np.ndarray] = {}

    @property
    def width(self) -> int:
        return self.w.shape[-1]

    def probs(self, counts: tuple[int, ...]) -> np.ndarray:
        p = self._cache.get(counts)
        if p is None:
            if self.kind == "law":
                p = self.w / self.w.sum()
            elif self.kind == "pool":
                left = self.w - np.array(counts)
                p = left / left.sum()
            else:
                post = self.mix * np.prod(self.w ** np.array(counts)[None, :], axis=1)
                p = post @ self.w / post.sum()
            self._cache[counts] = p
        return p


def _step(st: ModelState, j: int, uses_run: bool, C: int) -> ModelState:
    cnt, last, run = st
    c2 = cnt[:j] + (cnt[j] + 1,) + cnt[j + 1:]
    if not uses_run:
        return c2, -1, 0
    agree = j <= C - 3  # the correct answer or a named wrong one can repeat
    return c2, (j if agree else -1), (run + 1 if (agree and j == last) else (1 if agree else 0))


def joint_value(preds: Sequence[Predictive], policy, budgets: Sequence[int]) -> PolicyValue:
    """Exact (expected credit, expected total draws) of a joint policy over per-model predictives (module notes)."""
    C = preds[0].width
    uses_run = policy.uses_run
    start: tuple[ModelState, ...] = tuple(((0,) * C, -1, 0) for _ in preds)
    states: dict[tuple[ModelState, ...], float] = {start: 1.0}
    acc = drawn = 0.0
    branch_cache: dict[tuple[int, ModelState], list[tuple[ModelState, float]]] = {}
    while states:
        nxt: dict[tuple[ModelState, ...], float] = {}
        for st, pr in states.items():
            act = policy.active(st, budgets)
            if not act:
                acc += pr * policy.credit(st, budgets)
                drawn += pr * sum(sum(s[0]) for s in st)
                continue
            branches = []
            for i in act:
                key = (i, st[i])
                b = branch_cache.get(key)
                if b is None:
                    p = preds[i].probs(st[i][0])
                    b = [(_step(st[i], j, uses_run, C), float(p[j])) for j in range(C) if p[j] > 0]
                    branch_cache[key] = b
                branches.append(b)
            for combo in itertools.product(*branches):
                new = list(st)
                q = pr
                for i, (s2, p) in zip(act, combo):
                    new[i] = s2
                    q *= p
                t = tuple(new)
                nxt[t] = nxt.get(t, 0.0) + q
        states = nxt
    return PolicyValue(acc, drawn)


def _prepare(sources: Sequence[Source], budget) -> tuple[list[Predictive], list[int], str]:
    if isinstance(sources, (AnswerLaw, LoggedPool)):
        sources = [sources]
    mode = check_sources(sources, "sources")
    ks = check_k(budget, len(sources))
    lay = layout([list(sources)])
    w = lay.weights[0]  # (n, L + 3), labels aligned across models
    if mode == "pool":
        for i, (k, K) in enumerate(zip(ks, w.sum(axis=1))):
            if k > K:
                raise MuxsimError(f"budget={k} is larger than the K={int(K)} logged answers of model {i}")
    return [Predictive(mode, row) for row in w], ks, mode


def mux_policy_value(sources: Sequence[Source], policy, budget) -> PolicyValue:
    """Exact expected credit and expected total draws (over all models) of ``policy`` on one question.

    ``sources``: one AnswerLaw per model (draws with replacement) or one LoggedPool per model (draws
    without replacement, expectation over the order of each model's logged answers), in tie-break
    order; ``budget``: k for every model or one k_i per model.  ``policy``: :class:`Decided`,
    :class:`RunEach`, or (one model) :class:`muxsim.adaptive.Lead` / :class:`muxsim.adaptive.Run`.

    >>> from muxsim import AnswerLaw, exact
    >>> A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
    >>> v = mux_policy_value([A, B], Decided(), 3)
    >>> round(v.accuracy, 4) == round(exact.mux([A, B], 3), 4) == 0.5597, v.samples < 6
    (True, True)
    """
    preds, ks, _ = _prepare(sources, budget)
    return joint_value(preds, as_joint(policy, len(preds)), ks)


def follow(seqs: Sequence[Sequence[int]], policy, budgets: Sequence[int], C: int) -> tuple[float, int]:
    """Run a joint policy along concrete category sequences (one per model, at least k_i long):
    (credit, total draws)."""
    uses_run = policy.uses_run
    st = [((0,) * C, -1, 0) for _ in seqs]
    while True:
        act = policy.active(tuple(st), budgets)
        if not act:
            return policy.credit(tuple(st), budgets), sum(sum(s[0]) for s in st)
        for i in act:
            st[i] = _step(st[i], int(seqs[i][sum(st[i][0])]), uses_run, C)


def draw_sequence(pred: Predictive, k: int, rng: np.random.Generator) -> np.ndarray:
    """k categories of one model: iid from a law, a random order of a pool, or iid given a random component."""
    C = pred.width
    if pred.kind == "law":
        return rng.choice(C, size=k, p=pred.w / pred.w.sum())
    if pred.kind == "pool":
        return rng.permutation(np.repeat(np.arange(C), pred.w.astype(int)))[:k]
    e = rng.choice(len(pred.mix), p=pred.mix / pred.mix.sum())
    return rng.choice(C, size=k, p=pred.w[e] / pred.w[e].sum())


def simulate_joint(preds: Sequence[Predictive], policy, budgets: Sequence[int], *, n_draws: int,
                   rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Per-replicate (credit, draws) of a joint policy: the Monte Carlo mirror of :func:`joint_value`."""
    C = preds[0].width
    cr = np.zeros(n_draws)
    used = np.zeros(n_draws)
    for d in range(n_draws):
        seqs = [draw_sequence(p, k, rng) for p, k in zip(preds, budgets)]
        cr[d], used[d] = follow(seqs, policy, budgets, C)
    return cr, used


def _estimate(x: np.ndarray) -> Estimate:
    se = float(x.std(ddof=1) / math.sqrt(len(x))) if len(x) > 1 else float("nan")
    return Estimate(float(x.mean()), se, len(x))


def simulate_mux_policy(sources: Sequence[Source], policy, budget, *, n_draws: int,
                        rng: np.random.Generator) -> tuple[Estimate, Estimate]:
    """Monte Carlo mirror of :func:`mux_policy_value`: (accuracy, total draws) with standard errors."""
    if not isinstance(rng, np.random.Generator):
        raise MuxsimError(f"rng={rng!r} must be a numpy Generator, e.g. numpy.random.default_rng(0)")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 2:
        raise MuxsimError(f"n_draws={n_draws!r} must be an integer >= 2")
    preds, ks, _ = _prepare(sources, budget)
    cr, used = simulate_joint(preds, as_joint(policy, len(preds)), ks, n_draws=n_draws, rng=rng)
    return _estimate(cr), _estimate(used)
