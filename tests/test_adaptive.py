"""Adaptive sampling policies: exact values against enumeration of every draw order (pools) and every
draw sequence (laws), the lead rule's accuracy equal to SC(budget), Monte Carlo within 4 SE, bad input."""

import itertools
import math

import numpy as np
import pytest

from muxsim import exact
from muxsim.adaptive import Lead, Run, evaluate_policy, policy_value, simulate_policy
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.logs.evaluate import AnswerTable
from muxsim.rules import ABSTAIN, CORRECT, TAIL_BASE, plurality

POLICIES = [Lead(), Run(1), Run(2), Run(3)]


def _codes(src):
    """Concrete codes of each category: correct, named wrong labels, tail (unique codes), abstain."""
    return [CORRECT] + [1 + j for j in range(len(src.wrong))], ABSTAIN


def _follow(seq, policy, budget):
    """Run a policy along one concrete sequence of codes: (credit, draws used)."""
    drawn, last, run = [], None, 0
    for code in seq[:budget]:
        drawn.append(code)
        agree = code != ABSTAIN and code < TAIL_BASE
        run = run + 1 if (agree and code == last) else (1 if agree else 0)
        last = code if agree else None
        counts = _counts(drawn)
        if len(drawn) == budget or policy.stops(counts, len(drawn), budget, run):
            break
    return float(plurality(np.array(drawn)[None, :])[0][0]), len(drawn)


def _counts(drawn):
    """Category counts [correct, labels 1..L, tail, abstain] of concrete codes (L = 4 columns max here)."""
    L = 4
    c = np.zeros(L + 3, dtype=int)
    for x in drawn:
        if x == CORRECT:
            c[0] += 1
        elif x == ABSTAIN:
            c[-1] += 1
        elif x >= TAIL_BASE:
            c[-2] += 1
        else:
            c[x] += 1
    return c


def _pad(src):
    """The same source with exactly 4 named labels (zeros added) so the brute force's counts line up."""
    wrong = dict(src.wrong)
    for j in range(len(wrong), 4):
        wrong[f"zz{j}"] = 0
    return type(src)(src.correct, wrong, src.tail, src.abstain)


POOLS = [LoggedPool(2, {"X": 2}, tail=1, abstain=1), LoggedPool(3, {"X": 1, "Y": 1}), LoggedPool(1, {"X": 3}, abstain=2),
         LoggedPool(2, {}, tail=2, abstain=1), LoggedPool(3, {"X": 3})]


@pytest.mark.parametrize("pool", POOLS)
@pytest.mark.parametrize("policy", POLICIES, ids=str)
def test_pools_match_enumeration_of_every_order(pool, policy):
    pool = _pad(pool)
    codes = [CORRECT] * pool.correct
    for j, v in enumerate(pool.wrong.values()):
        codes += [1 + j] * v
    codes += [TAIL_BASE + t for t in range(pool.tail)] + [ABSTAIN] * pool.abstain
    K = len(codes)
    for budget in range(1, K + 1):
        perms = list(itertools.permutations(codes))
        res = [_follow(list(p), policy, budget) for p in perms]
        want = np.mean([r[0] for r in res]), np.mean([r[1] for r in res])
        got = policy_value(pool, policy, budget)
        assert got.accuracy == pytest.approx(want[0], abs=1e-12), (budget, got, want)
        assert got.samples == pytest.approx(want[1], abs=1e-12), (budget, got, want)


LAWS = [AnswerLaw(0.5, {"X": 0.3}, tail=0.1, abstain=0.1), AnswerLaw(0.4, {"X": 0.6}), AnswerLaw(0.3, {"X": 0.3, "Y": 0.3}, 0.1)]


@pytest.mark.parametrize("law", LAWS)
@pytest.mark.parametrize("policy", POLICIES, ids=str)
def test_laws_match_enumeration_of_every_sequence(law, policy):
    law = _pad(law)
    cats = [CORRECT] + [1 + j for j in range(4)] + ["tail", ABSTAIN]
    probs = [law.correct, *law.wrong.values(), law.tail, law.abstain]
    budget = 4
    acc = used = 0.0
    for seq in itertools.product(range(len(cats)), repeat=budget):
        pr = math.prod(probs[j] for j in seq)
        if pr == 0:
            continue
        codes = [TAIL_BASE + t if cats[j] == "tail" else cats[j] for t, j in enumerate(seq)]
        c, n = _follow(codes, policy, budget)
        acc += pr * c
        used += pr * n
    got = policy_value(law, policy, budget)
    assert got.accuracy == pytest.approx(acc, abs=1e-12) and got.samples == pytest.approx(used, abs=1e-12)


@pytest.mark.parametrize("src", LAWS + POOLS)
def test_lead_rule_keeps_sc_accuracy_with_fewer_draws(src):
    K = src.size if isinstance(src, LoggedPool) else 6
    for budget in range(1, K + 1):
        v = policy_value(src, Lead(), budget)
        assert v.accuracy == pytest.approx(exact.self_consistency(src, budget), abs=1e-12), budget
        assert v.samples <= budget + 1e-12


@pytest.mark.parametrize("src", [LAWS[0], POOLS[0]])
def test_monte_carlo_mirror_within_4_se(src):
    budget = 5 if isinstance(src, AnswerLaw) else src.size
    for pol in (Lead(), Run(2)):
        ex = policy_value(src, pol, budget)
        acc, n = simulate_policy(src, pol, budget, n_draws=4000, rng=np.random.default_rng(3))
        assert abs(acc.value - ex.accuracy) <= 4 * acc.se + 1e-12
        assert abs(n.value - ex.samples) <= 4 * n.se + 1e-12


def test_evaluate_policy_on_a_log_and_bad_input():
    codes = np.array([[[0, 0, 1, 0, -1]], [[1, 1, 0, 2, 1]], [[0, 0, 0, 0, 0]]], dtype=np.int64)
    t = AnswerTable(("q0", "q1", "q2"), ("a",), codes, ((), (), ()))
    res = evaluate_policy(t, "a", [Lead(), Run(2)], 5)
    assert res["policies"]["lead"]["accuracy"] == pytest.approx(res["policies"]["fixed"]["accuracy"], abs=1e-12)
    assert res["policies"]["lead"]["samples"] < 5 and res["policies"]["run2"]["samples"] < 5
    with pytest.raises(MuxsimError, match="budget=6 is larger"):
        policy_value(LoggedPool(2, {"X": 3}), Lead(), 6)
    with pytest.raises(MuxsimError, match="budget=0"):
        policy_value(AnswerLaw(1.0), Lead(), 0)
    with pytest.raises(MuxsimError, match="r=0"):
        Run(0)
    with pytest.raises(MuxsimError, match="not in the log"):
        evaluate_policy(t, "b", [Lead()], 3)
