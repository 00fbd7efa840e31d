"""Invariants of the exact engine (hypothesis) and large-k precision."""

import math
from fractions import Fraction

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from muxsim import exact
from muxsim.laws import AnswerLaw, LoggedPool

from strategies import laws

SETTINGS = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@SETTINGS
@given(laws(), st.integers(1, 8))
def test_one_model_mux_and_vote_equal_sc(law, k):
    sc = exact.self_consistency(law, k)
    assert exact.mux([law], k) == pytest.approx(sc, abs=1e-12)
    assert exact.mux([law], k, "per_valid") == pytest.approx(sc, abs=1e-12)
    assert exact.vote([law], k) == pytest.approx(sc, abs=1e-12)


@SETTINGS
@given(laws())
def test_sc1_is_single(law):
    assert exact.self_consistency(law, 1) == pytest.approx(exact.single(law), abs=1e-12)
    assert exact.single(law) == pytest.approx(law.correct, abs=1e-15)


@SETTINGS
@given(st.lists(laws(), min_size=2, max_size=3), st.integers(1, 4), st.randoms(use_true_random=False))
def test_union_bounds_and_order(srcs, k, rnd):
    u = exact.union(srcs, k)
    for v in [exact.mux(srcs, k), exact.mux(srcs, k, "per_valid"), exact.vote(srcs, k)] + [exact.self_consistency(s, k) for s in srcs]:
        assert v <= u + 1e-12
    perm = list(srcs)
    rnd.shuffle(perm)
    assert exact.union(perm, k) == pytest.approx(u, abs=1e-12)
    assert exact.vote(perm, k) == pytest.approx(exact.vote(srcs, k), abs=1e-12)
    assert exact.contradiction(perm, k) == pytest.approx(exact.contradiction(srcs, k), abs=1e-12)
    assert 0 <= exact.contradiction(srcs, k) <= u + 1e-12


@SETTINGS
@given(st.lists(laws(abstain=False), min_size=1, max_size=3), st.integers(1, 5))
def test_scores_agree_without_abstention(srcs, k):
    assert exact.mux(srcs, k, "per_k") == pytest.approx(exact.mux(srcs, k, "per_valid"), abs=1e-12)


@SETTINGS
@given(st.lists(laws(), min_size=1, max_size=3), st.integers(1, 5))
def test_attribution_sums(srcs, k):
    sel, cor = exact.mux_attribution(srcs, k)
    assert sel.sum() == pytest.approx(1.0, abs=1e-12)
    assert cor.sum() == pytest.approx(exact.mux(srcs, k), abs=1e-12)
    assert np.all(cor <= sel + 1e-12)


def test_degenerate_laws():
    right, wrong, mute = AnswerLaw(1.0), AnswerLaw(0.0, {"X": 1.0}), AnswerLaw(0.0, abstain=1.0)
    for k in (1, 2, 5):
        assert exact.self_consistency(right, k) == 1.0
        assert exact.self_consistency(wrong, k) == 0.0
        assert exact.self_consistency(mute, k) == 0.0
        assert exact.mux([mute, right], k) == pytest.approx(1.0)
        assert exact.mux([right, wrong], k) == pytest.approx(1.0)  # tie at confidence 1 -> first model
        assert exact.mux([wrong, right], k) == pytest.approx(0.0)
        assert exact.vote([mute, mute], k) == 0.0
        assert exact.union([wrong, mute], k) == 0.0
    assert exact.contradiction([wrong, right], 3) == pytest.approx(1.0)
    assert exact.contradiction([wrong, right], 1) == 0.0  # k = 1 is never "consistently" wrong
    all_tail = AnswerLaw(0.0, tail=1.0)
    assert exact.contradiction([all_tail, right], 3) == 0.0


def _sc_binary_exact(c: Fraction, k: int) -> Fraction:
    """SC(k) for a law with one wrong answer, in rational arithmetic."""
    total = Fraction(0)
    for j in range(k + 1):
        p = math.comb(k, j) * c**j * (1 - c) ** (k - j)
        total += p if 2 * j > k else (p / 2 if 2 * j == k else 0)
    return total


@pytest.mark.parametrize("k", [64, 128])
def test_large_k_precision(k):
    c = Fraction(47, 100)
    law = AnswerLaw(0.47, {"X": 0.53})
    assert exact.self_consistency(law, k) == pytest.approx(float(_sc_binary_exact(c, k)), abs=1e-12)
    rich = AnswerLaw(0.3, {"X": 0.2, "Y": 0.15}, tail=0.25, abstain=0.1)
    for v in (exact.self_consistency(rich, k), exact.mux([rich, law], k), exact.mux([rich, law], k, "per_valid"),
              exact.union([rich, law], k), exact.contradiction([rich, law], k)):
        assert np.isfinite(v) and -1e-12 <= v <= 1 + 1e-12
    # a two-model vote at large k stays a probability and matches a direct sum
    v = exact.vote([law, AnswerLaw(0.6, {"X": 0.4})], [k, 8])
    assert 0 < v < 1


def test_large_k_pool_without_replacement_is_deterministic_at_k_equal_K():
    pool = LoggedPool(70, {"X": 40}, tail=10, abstain=8)
    assert exact.self_consistency(pool, pool.size) == 1.0
    assert 0 < exact.self_consistency(pool, 64) < 1


@SETTINGS
@given(
    st.lists(laws(), min_size=1, max_size=3),
    st.lists(st.lists(st.integers(1, 5), min_size=3, max_size=3), min_size=1, max_size=5),
)
def test_vote_curve_equals_points(srcs, points):
    """Running powers across the points of a curve (any order, per-model k) give each point's vote."""
    from muxsim.exact import Engine
    from muxsim.layout import layout

    n = len(srcs)
    points = [p[:n] for p in points]
    eng = Engine(layout([srcs]), [5] * n)
    curve = eng.vote_curve(range(n), points)
    for p, row in zip(points, curve):
        assert row[0] == pytest.approx(exact.vote(srcs, p), abs=1e-12)
