"""The worked values of SEMANTICS.md §3 (given to 4 d.p.) and their exact enumeration (1e-9)."""

import pytest

from muxsim import exact, paper
from muxsim.laws import AnswerLaw

from brute import brute

A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})


@pytest.mark.parametrize(
    "k, sc_a, sc_b, mux, vote",
    [(3, 0.7840, 0.1040, 0.5597, 0.5144), (5, 0.8369, 0.0579, 0.4922, 0.5627)],
)
def test_semantics_table(k, sc_a, sc_b, mux, vote):
    assert exact.self_consistency(A, k) == pytest.approx(sc_a, abs=5e-5)
    assert exact.self_consistency(B, k) == pytest.approx(sc_b, abs=5e-5)
    assert exact.mux([A, B], k) == pytest.approx(mux, abs=5e-5)
    assert exact.vote([A, B], k) == pytest.approx(vote, abs=5e-5)
    # and to 1e-9 against enumeration
    assert exact.mux([A, B], k) == pytest.approx(brute("mux", [A, B], [k, k]), abs=1e-9)
    assert exact.vote([A, B], k) == pytest.approx(brute("vote", [A, B], [k, k]), abs=1e-9)
    # the paper's approximation predicts > .9 for MUX here... with the best model's accuracy
    assert paper.mux_approx([0.7, 0.2], k) > exact.mux([A, B], k) + 0.2


def test_even_k_ties():
    law = AnswerLaw(0.4, {"W": 0.6})
    assert exact.self_consistency(law, 2) == pytest.approx(0.4, abs=1e-12)
    assert exact.self_consistency(law, 4) == pytest.approx(0.352, abs=1e-12)
    assert paper.binomial_majority(2, 0.4) == pytest.approx(0.64, abs=1e-12)
    assert paper.binomial_majority(4, 0.4) == pytest.approx(0.5248, abs=1e-12)


def test_more_samples_make_mux_worse_here():
    assert exact.mux([A, B], 5) < exact.mux([A, B], 3) < exact.self_consistency(A, 3)
