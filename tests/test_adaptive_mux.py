"""Adaptive SLM-MUX policies: the exact forward pass against enumeration of every joint draw sequence
(laws) and every joint order of the logged samples (pools), with the policies re-implemented here on
concrete answer codes; the decided rule's credit equal to fixed-k MUX on every joint sequence and its
accuracy equal to the exact engine's MUX; Monte Carlo within 4 SE; bad input."""

from __future__ import annotations

import itertools
import math
from collections import Counter
from fractions import Fraction

import numpy as np
import pytest
from sympy.utilities.iterables import multiset_permutations
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from muxsim import exact
from muxsim.adaptive import Lead, Run, policy_value
from muxsim.adaptive_mux import Decided, RunEach, mux_policy_value, simulate_mux_policy
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.rules import ABSTAIN, CORRECT, TAIL_BASE, mux, plurality
from tests.strategies import laws, pools


# ---------------------------------------------------------------- the policies, re-implemented on concrete codes


def _stats(codes):
    """(top, second, valid, the unique top answer or None) of concrete codes."""
    cnt = Counter(c for c in codes if c != ABSTAIN)
    vals = sorted(cnt.values(), reverse=True) + [0, 0]
    ans = max(cnt, key=cnt.get) if vals[0] > vals[1] else None
    return vals[0], vals[1], sum(cnt.values()), ans


def _decided(seqs, ks, score):
    """The decided rule along concrete sequences: (credit, draws, per-model draws)."""
    drawn = [[] for _ in seqs]
    n = len(seqs)
    while True:
        info = [_stats(d) for d in drawn]
        lo, hi = [], []
        for (t, _, v, _), d, k in zip(info, drawn, ks):
            m = k - len(d)
            if score == "per_k":
                lo.append(Fraction(t, k)), hi.append(Fraction(t + m, k))
            else:
                lo.append(Fraction(t, v + m) if v + m else Fraction(0))
                hi.append(Fraction(t + m, v + m) if v + m else Fraction(0))
        cands = [j for j in range(n) if not any(lo[i] > hi[j] or (lo[i] == hi[j] and i < j) for i in range(n) if i != j)]
        locked = [info[i][3] for i in cands if info[i][3] is not None and info[i][0] - info[i][1] > ks[i] - len(drawn[i])]
        if len(locked) == len(cands) and len(set(locked)) == 1:
            return float(locked[0] == CORRECT), sum(map(len, drawn)), drawn
        act = [i for i in cands if len(drawn[i]) < ks[i]]
        if not act:
            conf = {i: (Fraction(info[i][0], ks[i]) if score == "per_k" else
                        (Fraction(info[i][0], info[i][2]) if info[i][2] else Fraction(0))) for i in cands}
            w = max(cands, key=lambda i: (conf[i], -i))
            return float(plurality(np.array([drawn[w]]))[0][0]), sum(map(len, drawn)), drawn
        for i in act:
            drawn[i].append(seqs[i][len(drawn[i])])


def _run_each(seqs, ks, r, score):
    drawn = []
    for seq, k in zip(seqs, ks):
        d, last, run = [], None, 0
        for c in seq[:k]:
            d.append(c)
            agree = c != ABSTAIN and c < TAIL_BASE
            run = run + 1 if (agree and c == last) else (1 if agree else 0)
            last = c if agree else None
            if run >= r:
                break
        drawn.append(d)
    return float(mux([np.array([d]) for d in drawn], score)[0]), sum(map(len, drawn)), drawn


def _follow(policy, seqs, ks):
    if isinstance(policy, Decided):
        return _decided(seqs, ks, policy.score)
    return _run_each(seqs, ks, policy.r, policy.score)


def _codes_of(src, labels, model):
    """Categories of one source as (code, weight) with tail codes unique to the model (and the draw)."""
    cats = [(CORRECT, src.correct)] + [(1 + labels.index(l), src.wrong.get(l, 0)) for l in labels]
    return cats + [("tail", src.tail), (ABSTAIN, src.abstain)]


def _law_sequences(src, labels, model, k):
    cats = [(c, p) for c, p in _codes_of(src, labels, model) if p > 0]
    for seq in itertools.product(cats, repeat=k):
        codes = [TAIL_BASE + 1000 * model + t if c == "tail" else c for t, (c, _) in enumerate(seq)]
        yield math.prod(p for _, p in seq), codes


def _pool_orders(src, labels, model, k):
    """Every distinct order of the logged answers, equally likely (each stands for the same number of orders
    of the labelled samples)."""
    codes = []
    for c, m in _codes_of(src, labels, model):
        codes += [c] * m
    codes = [TAIL_BASE + 1000 * model + t if c == "tail" else c for t, c in enumerate(codes)]
    perms = list(multiset_permutations(codes))
    for p in perms:
        yield 1.0 / len(perms), list(p)


def _orders(p):
    """Number of distinct orders of a pool's answers (tails all distinct)."""
    return math.factorial(p.size) // math.prod(math.factorial(m) for m in (p.correct, *p.wrong.values(), p.abstain))


def brute(sources, policy, ks, check_fixed=False):
    """Expected (credit, draws) over every joint sequence / order; optionally check the credit pointwise
    against fixed-k MUX on the full sequences."""
    labels = sorted({l for s in sources for l in s.wrong})
    gen = _law_sequences if isinstance(sources[0], AnswerLaw) else _pool_orders
    per = [list(gen(s, labels, i, k)) for i, (s, k) in enumerate(zip(sources, ks))]
    acc, used = [], []
    for combo in itertools.product(*per):
        pr = math.prod(p for p, _ in combo)
        seqs = [c for _, c in combo]
        cr, n, _ = _follow(policy, seqs, ks)
        if check_fixed:
            full = float(mux([np.array([s[:k]]) for s, k in zip(seqs, ks)], policy.score)[0])
            assert cr == full, (seqs, cr, full)
        acc.append(pr * cr)
        used.append(pr * n)
    return math.fsum(acc), math.fsum(used)


# ---------------------------------------------------------------- enumeration

POLICIES = [Decided(), Decided("per_valid"), RunEach(1), RunEach(2), RunEach(2, "per_valid")]
A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
LAW_CASES = [
    ([A, B], [3, 3]),
    ([AnswerLaw(0.4, {"X": 0.3}, tail=0.2, abstain=0.1), AnswerLaw(0.3, {"X": 0.4}, abstain=0.3)], [3, 2]),
    ([AnswerLaw(0.5, {"X": 0.5}), AnswerLaw(0.5, {"Y": 0.3}, tail=0.2), AnswerLaw(0.6, abstain=0.4)], [2, 2, 2]),
]
POOL_CASES = [
    ([LoggedPool(2, {"X": 1}, tail=1), LoggedPool(1, {"X": 2}, abstain=1)], [4, 3]),
    ([LoggedPool(1, {"X": 2}, abstain=1), LoggedPool(2, {"Y": 1}, tail=1)], [3, 4]),
    ([LoggedPool(1, {"X": 1}, tail=1), LoggedPool(2, {"X": 1}), LoggedPool(1, abstain=2)], [3, 2, 3]),
]


@pytest.mark.parametrize("case", LAW_CASES + POOL_CASES, ids=lambda c: f"{type(c[0][0]).__name__}-{c[1]}")
@pytest.mark.parametrize("policy", POLICIES, ids=str)
def test_matches_enumeration_of_every_joint_sequence(case, policy):
    sources, ks = case
    want = brute(sources, policy, ks, check_fixed=isinstance(policy, Decided))
    got = mux_policy_value(sources, policy, ks)
    assert got.accuracy == pytest.approx(want[0], abs=1e-12)
    assert got.samples == pytest.approx(want[1], abs=1e-12)


@settings(max_examples=25, deadline=None)
@given(st.lists(pools(), min_size=2, max_size=2), st.sampled_from(POLICIES))
def test_random_pools_match_enumeration(ps, policy):
    if math.prod(_orders(p) for p in ps) > 20000:
        ps = [LoggedPool(p.correct, p.wrong, min(p.tail, 1), min(p.abstain, 1)) for p in ps]
    assume(math.prod(_orders(p) for p in ps) <= 20000)
    ks = [min(p.size, 4) for p in ps]
    want = brute(ps, policy, ks, check_fixed=isinstance(policy, Decided))
    got = mux_policy_value(ps, policy, ks)  # sums of up to 20000 terms: rounding up to ~1e-12
    assert got.accuracy == pytest.approx(want[0], abs=1e-10) and got.samples == pytest.approx(want[1], abs=1e-10)


# ---------------------------------------------------------------- the decided rule is fixed-k MUX


@settings(max_examples=40, deadline=None)
@given(st.lists(laws(), min_size=1, max_size=3), st.integers(1, 4), st.sampled_from(["per_k", "per_valid"]))
def test_decided_equals_fixed_k_mux_on_laws(ls, k, score):
    v = mux_policy_value(ls, Decided(score), k)
    assert v.accuracy == pytest.approx(exact.mux(ls, k, score), abs=1e-9)
    assert v.samples <= k * len(ls) + 1e-9


@settings(max_examples=40, deadline=None)
@given(st.lists(pools(min_size=4), min_size=1, max_size=3), st.integers(1, 4), st.sampled_from(["per_k", "per_valid"]))
def test_decided_equals_fixed_k_mux_on_pools(ps, k, score):
    v = mux_policy_value(ps, Decided(score), k)
    assert v.accuracy == pytest.approx(exact.mux(ps, k, score), abs=1e-9)
    assert v.samples <= k * len(ps) + 1e-9


def test_decided_saves_draws_on_the_worked_example():
    """SEMANTICS §3: MUX(5) = .4922 with 10 draws; the decided rule gets it with fewer."""
    v = mux_policy_value([A, B], Decided(), 5)
    assert v.accuracy == pytest.approx(0.49220584, abs=1e-9)
    assert v.samples < 9.5
    # per-model budgets, a model that can never win is dropped at once: budget 1 vs 4 with
    # c = 1 (confidence 1 after one draw) beats every completion of the second model only at its end
    v = mux_policy_value([AnswerLaw(1.0), AnswerLaw(0.5, {"X": 0.5})], Decided(), [1, 4])
    assert v.accuracy == pytest.approx(1.0) and v.samples == pytest.approx(2.0)


@pytest.mark.parametrize("score", ["per_k", "per_valid"])
def test_run_each_longer_than_the_budget_is_fixed_k_mux(score):
    """A run longer than the budget never stops early: MUX on k draws of every model (SEMANTICS for fixed k)."""
    for sources, ks in LAW_CASES + POOL_CASES:
        v = mux_policy_value(sources, RunEach(max(ks) + 1, score), ks)
        assert v.accuracy == pytest.approx(exact.mux(sources, ks, score), abs=1e-12) and v.samples == pytest.approx(sum(ks))


def test_one_model_policies_match_the_self_consistency_pass():
    law = AnswerLaw(0.5, {"X": 0.3}, tail=0.1, abstain=0.1)
    for pol in (Lead(), Run(2)):
        a, b = mux_policy_value([law], pol, 5), policy_value(law, pol, 5)
        assert a.accuracy == pytest.approx(b.accuracy, abs=1e-12) and a.samples == pytest.approx(b.samples, abs=1e-12)
    # one model: MUX is SC, so the decided rule is the lead rule
    a, b = mux_policy_value([law], Decided(), 5), policy_value(law, Lead(), 5)
    assert a.accuracy == pytest.approx(b.accuracy, abs=1e-12) and a.samples == pytest.approx(b.samples, abs=1e-12)


# ---------------------------------------------------------------- Monte Carlo


@pytest.mark.parametrize("case", [LAW_CASES[1], POOL_CASES[0]], ids=["laws", "pools"])
@pytest.mark.parametrize("policy", [Decided(), RunEach(2)], ids=str)
def test_monte_carlo_mirror_within_4_se(case, policy):
    sources, ks = case
    ex = mux_policy_value(sources, policy, ks)
    acc, n = simulate_mux_policy(sources, policy, ks, n_draws=3000, rng=np.random.default_rng(5))
    assert abs(acc.value - ex.accuracy) <= 4 * acc.se + 1e-12
    assert abs(n.value - ex.samples) <= 4 * n.se + 1e-12


# ---------------------------------------------------------------- bad input

BAD = [
    (lambda: mux_policy_value([LoggedPool(2, {"X": 1})], Decided(), 4), "budget=4 is larger than the K=3"),
    (lambda: mux_policy_value([], Decided(), 2), "empty"),
    (lambda: mux_policy_value([A, LoggedPool(1)], Decided(), 1), "mixes AnswerLaw and LoggedPool"),
    (lambda: mux_policy_value([A, B], Decided(), 0), "k=0"),
    (lambda: mux_policy_value([A, B], Decided(), [2, 2, 2]), "3 values for 2 models"),
    (lambda: mux_policy_value([A, B], Lead(), 3), "one-model"),
    (lambda: mux_policy_value([A, B], "lead", 3), "must be Decided"),
    (lambda: Decided("per_draw"), "score='per_draw'"),
    (lambda: RunEach(0), "r=0"),
    (lambda: simulate_mux_policy([A], Decided(), 2, n_draws=10, rng=0), "rng=0"),
]


@pytest.mark.parametrize("call,msg", BAD, ids=[m for _, m in BAD])
def test_bad_input(call, msg):
    with pytest.raises(MuxsimError, match=msg):
        call()
