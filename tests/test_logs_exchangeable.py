"""The sample-position check (:mod:`muxsim.logs.exchangeable`): its ratio by brute force, its calibration under
exchangeable draws, its power against a run-level shift, and its errors."""

import numpy as np
import pytest

from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import NOT_SAMPLED, AnswerTable
from muxsim.logs.exchangeable import position_check


def _table(codes: np.ndarray) -> AnswerTable:
    Q, n, _ = codes.shape
    return AnswerTable(tuple(f"q{q}" for q in range(Q)), tuple(f"m{i}" for i in range(n)), codes,
                       tuple(("x",) for _ in range(Q)))


def _draws(rng, Q=100, n=3, K=10, shift=None) -> AnswerTable:
    """Per question and model an accuracy p ~ Beta(1, 1); each draw correct with p (+ ``shift[j]`` at position j),
    else wrong (1) or abstaining (-1) at random."""
    p = rng.random((Q, n, 1)) + (0 if shift is None else np.asarray(shift)[None, None, :])
    right = rng.random((Q, n, K)) < p
    return _table(np.where(right, 0, np.where(rng.random((Q, n, K)) < 0.2, -1, 1)).astype(np.int64))


def test_ratio_is_the_position_variance_over_its_exchangeable_expectation():
    t = _draws(np.random.default_rng(0), Q=7, n=2, K=4)
    got = position_check(t)
    for i in range(2):
        y = [[1.0 if t.codes[q, i, j] == 0 else 0.0 for j in range(4)] for q in range(7)]
        pos = [sum(y[q][j] for q in range(7)) / 7 for j in range(4)]
        var = sum((x - sum(pos) / 4) ** 2 for x in pos) / 3
        ph = [sum(r) / 4 for r in y]
        want = var / (sum(a * (1 - a) for a in ph) * 4 / 3 / 49)
        assert got.ratio[i] == pytest.approx(want, abs=1e-12)
    assert got.dof == 2 * 3 and got.pooled == pytest.approx(np.mean(got.ratio), abs=1e-12)


def test_p_value_is_calibrated_under_exchangeable_draws_and_detects_a_run_shift():
    rng = np.random.default_rng(1)
    ps = np.array([position_check(_draws(rng)).p_value for _ in range(400)])
    assert 0.02 <= np.mean(ps < 0.05) <= 0.09  # nominal 5% (binomial SD 1.1%)
    assert 0.4 <= np.mean(ps) <= 0.6
    shift = np.tile([0.08, -0.08], 5)  # every question's draws at even positions more often right
    c = position_check(_draws(rng, shift=shift))
    assert c.pooled > 2 and c.p_value < 1e-3


def test_bad_tables_are_refused_with_a_reason():
    codes = np.zeros((4, 2, 3), dtype=np.int64)
    codes[0, 0, 2] = NOT_SAMPLED
    with pytest.raises(MuxsimError, match="same number of samples"):
        position_check(_table(codes))
    with pytest.raises(MuxsimError, match=">= 2 samples"):
        position_check(_table(np.zeros((4, 2, 1), dtype=np.int64)))
    c = position_check(_table(np.zeros((4, 2, 3), dtype=np.int64)))  # always right: no variance to compare
    assert np.all(np.isnan(c.ratio)) and np.isnan(c.p_value) and "sample positions" in c.summary()


def test_a_fit_says_when_its_pilot_is_not_exchangeable():
    from muxsim.fit import fit

    rng = np.random.default_rng(2)
    table = _draws(rng, Q=80, n=2, K=3, shift=[0.2, -0.2, 0.0])
    shifted = fit(table, "latent")
    plain = fit(_draws(rng, Q=80, n=2, K=3), "latent")
    assert any("not like exchangeable draws" in d for d in shifted.diagnostics)
    assert not any("exchangeable" in d for d in plain.diagnostics)
    auto = fit(table, "auto", kinds=("latent", "shrinkage"))  # said once, not once per family as well
    assert sum("not like exchangeable draws" in d for d in auto.diagnostics) == 1, auto.diagnostics
