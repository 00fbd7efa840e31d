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

Exact evaluation (:func:`mux_policy_value`): for :class:`Decided`, a forward pass over joint states
(every model's counts per answer), round by round, with one-draw probabilities from an ``AnswerLaw``
(with replacement) or from what is left of a ``LoggedPool`` (without replacement: the exact
expectation over the order of each model's logged samples).  With C answer categories and budget k,
one model has at most C(k + C - 1, C - 1) count states after k draws, the joint pass at most their
n-th power, each state branching into C^(#active) successors: small cases only (2-3 models, a few
labels, k up to about 8; e.g. 2 models, k = 6, 24 quadrature rows: about 1 s).  For
:class:`RunEach` each model stops on its own draws, so its final counts (with its run) come from a
one-model pass and the models are combined exactly as independent, O(n^2 G^2) for G distinct
confidences.  :func:`simulate_mux_policy` is the Monte Carlo mirror (it follows the rounds);
:mod:`muxsim.adaptive_population` averages over the questions of a population or a log.
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


def _winner(confs, among: Sequence[int]) -> int:
    """The first of ``among`` (in model order) with the highest confidence."""
    best = among[0]
    for i in among[1:]:
        if confs[i] > confs[best]:
            best = i
    return best


@lru_cache(maxsize=1 << 18)
def _bounds(counts: tuple[int, ...], k: int, score: str) -> tuple[int, int, int, int]:
    """[lo, hi] of a model's final confidence over every completion of its draws, as (lo_num, lo_den, hi_num,
    hi_den) with positive denominators (module notes)."""
    t, _, v, _ = summary(counts)
    m = k - sum(counts)
    if score == "per_k":
        return t, k, t + m, k
    d = v + m
    return (t, d, t + m, d) if d else (0, 1, 0, 1)


@dataclass(frozen=True)
class Decided:
    """Stop drawing from a model once it cannot win; stop all once the answer is fixed (module notes).

    Accuracy equals fixed-k SLM-MUX with the same ``score`` exactly."""

    score: str = "per_k"
    uses_run = False
    per_model = False

    def __post_init__(self) -> None:
        check_score(self.score)

    def candidates(self, states: Sequence[ModelState], budgets: Sequence[int]) -> list[int]:
        """Models that still win for some completion of everyone's remaining draws."""
        b = [_bounds(s[0], k, self.score) for s, k in zip(states, budgets)]
        n = len(b)
        out = []
        for j in range(n):
            hn, hd = b[j][2], b[j][3]
            beaten = False
            for i in range(n):
                if i != j:
                    lhs, rhs = b[i][0] * hd, hn * b[i][1]  # lo_i vs hi_j
                    if lhs > rhs or (lhs == rhs and i < j):
                        beaten = True
                        break
            if not beaten:
                out.append(j)
        return out

    def step(self, states: Sequence[ModelState], budgets: Sequence[int]) -> tuple[tuple[int, ...], float]:
        """(active models, credit); the credit counts only when no model is active."""
        cands = self.candidates(states, budgets)
        answers = set()
        for i in cands:
            t, s, _, a = summary(states[i][0])
            if a is None or t - s <= budgets[i] - sum(states[i][0]):
                break
            answers.add(("tail", i) if a == "tail" else a)
        else:
            if len(answers) == 1:  # every candidate locked on one answer
                return (), (1.0 if answers.pop() == 0 else 0.0)
        act = tuple(i for i in cands if sum(states[i][0]) < budgets[i])
        if act:
            return act, 0.0
        confs = {}
        for i in cands:
            t, _, v, _ = summary(states[i][0])
            confs[i] = _conf(t, v, budgets[i], self.score)
        return (), credit(states[_winner(confs, cands)][0])

    def __str__(self) -> str:
        return "decided" if self.score == "per_k" else "decided_valid"


@dataclass(frozen=True)
class RunEach:
    """Each model stops after ``r`` consecutive equal answers or at its budget; MUX on the draws made
    (confidence over the draws made, ``k_i = n_i``)."""

    r: int = 3
    score: str = "per_k"
    uses_run = True
    per_model = True  #: each model stops on its own draws: the exact pass combines independent models

    def __post_init__(self) -> None:
        if isinstance(self.r, bool) or not isinstance(self.r, int) or self.r < 1:
            raise MuxsimError(f"RunEach: r={self.r!r} must be an integer >= 1")
        check_score(self.score)

    def stops(self, st: ModelState, k: int) -> bool:
        return sum(st[0]) >= k or st[2] >= self.r

    def conf(self, counts: tuple[int, ...]) -> Fraction:
        t, _, v, _ = summary(counts)
        return _conf(t, v, sum(counts), self.score)

    def step(self, states: Sequence[ModelState], budgets: Sequence[int]) -> tuple[tuple[int, ...], float]:
        act = tuple(i for i, (s, k) in enumerate(zip(states, budgets)) if not self.stops(s, k))
        if act:
            return act, 0.0
        confs = [self.conf(s[0]) for s in states]
        return (), credit(states[_winner(confs, list(range(len(states))))][0])

    def __str__(self) -> str:
        return f"run{self.r}_each" + ("" if self.score == "per_k" else "_valid")


@dataclass(frozen=True)
class Single:
    """A one-model policy of :mod:`muxsim.adaptive` (``Lead``, ``Run``) seen as a policy over one model."""

    policy: object
    uses_run = True
    per_model = True

    def stops(self, st: ModelState, k: int) -> bool:
        cnt, _, run = st
        n = sum(cnt)
        return n >= k or (n > 0 and bool(self.policy.stops(np.array(cnt), n, k, run)))

    def conf(self, counts: tuple[int, ...]) -> Fraction:
        return Fraction(0)

    def step(self, states: Sequence[ModelState], budgets: Sequence[int]) -> tuple[tuple[int, ...], float]:
        if not self.stops(states[0], budgets[0]):
            return (0,), 0.0
        return (), credit(states[0][0])

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
    if policy.per_model:
        return _independent_value(preds, policy, budgets)
    C = preds[0].width
    uses_run = policy.uses_run
    start: tuple[ModelState, ...] = tuple(((0,) * C, -1, 0) for _ in preds)
    states: dict[tuple[ModelState, ...], float] = {start: 1.0}
    acc = drawn = 0.0
    branch_cache: dict[tuple[int, ModelState], list[tuple[ModelState, float]]] = {}
    while states:
        nxt: dict[tuple[ModelState, ...], float] = {}
        for st, pr in states.items():
            act, cr = policy.step(st, budgets)
            if not act:
                acc += pr * cr
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


def _terminals(pred: Predictive, policy, k: int) -> dict[tuple[int, ...], float]:
    """Distribution of one model's final counts under a per-model stopping rule (forward pass over its states)."""
    C = pred.width
    states: dict[ModelState, float] = {((0,) * C, -1, 0): 1.0}
    out: dict[tuple[int, ...], float] = {}
    while states:
        nxt: dict[ModelState, float] = {}
        for st, pr in states.items():
            if policy.stops(st, k):
                out[st[0]] = out.get(st[0], 0.0) + pr
                continue
            p = pred.probs(st[0])
            for j in range(C):
                if p[j] > 0:
                    s2 = _step(st, j, policy.uses_run, C)
                    nxt[s2] = nxt.get(s2, 0.0) + pr * float(p[j])
        states = nxt
    return out


def _independent_value(preds: Sequence[Predictive], policy, budgets: Sequence[int]) -> PolicyValue:
    """A per-model stopping rule: the models' final counts are independent, so with P_i(c) and
    E_i[credit; c] the law of model i's confidence, MUX's accuracy is
    sum_i sum_c E_i[credit; conf = c] prod_{j < i} P_j(conf < c) prod_{j > i} P_j(conf <= c)
    (earlier models win ties), O(n^2 G^2) for G distinct confidences; draws add up over models."""
    groups = []  # per model: conf -> [P(conf), E(credit; conf)]
    drawn = 0.0
    for pred, k in zip(preds, budgets):
        g: dict[Fraction, list[float]] = {}
        for cnt, p in _terminals(pred, policy, k).items():
            e = g.setdefault(policy.conf(cnt), [0.0, 0.0])
            e[0] += p
            e[1] += p * credit(cnt)
            drawn += p * sum(cnt)
        groups.append(g)
    acc = 0.0
    for i, gi in enumerate(groups):
        for c, (_, ec) in gi.items():
            w = ec
            for j, gj in enumerate(groups):
                if j != i:
                    w *= sum(p for cj, (p, _) in gj.items() if (cj < c if j < i else cj <= c))
            acc += w
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
        act, cr = policy.step(tuple(st), budgets)
        if not act:
            return cr, sum(sum(s[0]) for s in st)
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
