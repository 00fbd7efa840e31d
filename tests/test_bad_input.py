"""Every bad argument raises MuxsimError (a ValueError) whose message names the bad value."""

import json

import numpy as np
import pytest

from muxsim import exact, simulate, paper
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.population import Empirical, LatentDifficulty, ModelParams, evaluate
from muxsim.spec import parse

A = AnswerLaw(0.7, {"X": 0.3})
P = LoggedPool(2, {"X": 1})

BAD = [
    (lambda: AnswerLaw(0.7, {"X": 0.4}), "sums to 1.1"),
    (lambda: AnswerLaw(-0.1, {"X": 1.1}), "correct=-0.1"),
    (lambda: AnswerLaw(float("nan")), "correct=nan"),
    (lambda: AnswerLaw(0.5, {"": 0.5}), "label ''"),
    (lambda: AnswerLaw(0.5, {3: 0.5}), "label 3"),
    (lambda: AnswerLaw("0.5", {"X": 0.5}), "correct='0.5'"),
    (lambda: AnswerLaw(0.5, {"X": 0.5}, tail=0.2, abstain=-0.2), "abstain=-0.2"),
    (lambda: LoggedPool(-1), "correct=-1"),
    (lambda: LoggedPool(0), "size 0"),
    (lambda: LoggedPool(1, {"X": 1.5}), "wrong['X']=1.5"),
    (lambda: exact.self_consistency(A, 0), "k=0"),
    (lambda: exact.self_consistency(A, True), "k=True"),
    (lambda: exact.mux([A, A], [1, 2, 3]), "3 values for 2 models"),
    (lambda: exact.mux([A, P], 1), "mixes AnswerLaw and LoggedPool"),
    (lambda: exact.mux([], 1), "empty"),
    (lambda: exact.mux([A, "A"], 1), "not an AnswerLaw"),
    (lambda: exact.mux([A], 2, "per_answer"), "score='per_answer'"),
    (lambda: exact.self_consistency(P, 4), "k=4 is larger than the 3 logged samples"),
    (lambda: exact.union([A], 2, r=0), "r=0"),
    (lambda: exact.contradiction([A], 2, r=1.5), "r=1.5"),
    (lambda: simulate.mux([A], 2, n_draws=10, rng=0), "numpy Generator"),
    (lambda: simulate.mux([A], 2, n_draws=1, rng=np.random.default_rng()), "n_draws=1"),
    (lambda: paper.binomial_majority(0, 0.5), "N=0"),
    (lambda: paper.binomial_majority(3, 1.5), "p="),
    (lambda: ModelParams("m", a=0, b=1), "a=0"),
    (lambda: ModelParams("m", a=1, b=1, loading=1.0), "loading=1.0"),
    (lambda: evaluate(Empirical([[A]], ("m",)), [1], models=["zz"]), "unknown model(s) ['zz']"),
    (lambda: evaluate(Empirical([[A, A]], ("m", "n")), [1], models=["m", "m"]), "named twice"),
    (lambda: evaluate(Empirical([[A]], ("m",)), [0]), "k="),
    (lambda: evaluate(Empirical([[A]], ("m",)), [1], methods=["best"]), "unknown method(s) ['best']"),
    (lambda: Empirical([[A], [A, A]]), "question 1 has 2 models"),
    (lambda: parse({"models": ["A"], "questions": [{"laws": {"B": {"correct": 1}}}]}), "unknown model(s) ['B']"),
    (lambda: parse({"models": ["A"], "questions": [{"laws": {"A": {"correct": 0.5}}}]}), "sums to 0.5"),
    (lambda: parse({"models": ["A"], "k": "3", "questions": [{"laws": {"A": {"correct": 1}}}]}), "k='3'"),
    (lambda: parse({"population": {"family": "beta"}}), "latent_difficulty"),
    (lambda: parse([1, 2]), "JSON object"),
]


@pytest.mark.parametrize("call, message", BAD, ids=[m for _, m in BAD])
def test_bad_input_raises_with_the_value(call, message):
    with pytest.raises(MuxsimError) as e:
        call()
    assert message in str(e.value)


def test_vote_refuses_a_grid_too_large_instead_of_hanging():
    many = AnswerLaw(0.2, {f"w{i}": 0.1 for i in range(8)})  # (2*36+1)^8 cells
    with pytest.raises(MuxsimError, match=r"vote at k=9: 1 question\(s\) with L = 8 .* more work than the limit"):
        exact.vote([many] * 4, 9)
