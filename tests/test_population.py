"""Populations: empirical means, model subsets, quadrature convergence."""

import numpy as np
import pytest

from muxsim import exact
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.population import Empirical, LatentDifficulty, ModelParams, evaluate


def test_empirical_is_mean_of_questions_and_subsets_select_models():
    qs = [
        [AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"X": 0.5}, 0.3), AnswerLaw(0.4, {"Y": 0.2}, abstain=0.4)],
        [AnswerLaw(0.1, {"Y": 0.9}), AnswerLaw(0.6, {"Y": 0.1}, 0.3), AnswerLaw(0.5, tail=0.5)],
    ]
    pop = Empirical(qs, ("a", "b", "c"))
    cur = evaluate(pop, [2, 3], models=["c", "a"])
    assert cur.models == ("a", "c")  # population (tie-break) order is kept
    for j, k in enumerate([2, 3]):
        for name, f in [("mux", lambda s: exact.mux(s, k)), ("vote", lambda s: exact.vote(s, k)),
                        ("union", lambda s: exact.union(s, k)), ("contradiction", lambda s: exact.contradiction(s, k))]:
            want = np.mean([f([q[0], q[2]]) for q in qs])
            assert cur.values[name][j] == pytest.approx(want, abs=1e-12)
        vals = [exact.vote([q[0], q[2]], k) for q in qs]
        assert cur.se["vote"][j] == pytest.approx(np.std(vals, ddof=1) / np.sqrt(2), abs=1e-12)


def test_pool_population():
    qs = [[LoggedPool(3, {"X": 2}), LoggedPool(1, {"X": 3}, 1)], [LoggedPool(0, {"Y": 4}, 1), LoggedPool(4, {}, 1)]]
    cur = evaluate(Empirical(qs), [1, 3, 5])
    assert cur.values["sc[m0]"][2] == pytest.approx(np.mean([1.0, 0.0]))


def test_quadrature_converges():
    params = (ModelParams("a", 0.8, 0.6, 0.1, 0.5, 0.7), ModelParams("b", 2, 1, 0.0, 0.9, 0.4))
    lo = evaluate(LatentDifficulty(params, nodes=24), [5])
    hi = evaluate(LatentDifficulty(params, nodes=48), [5])
    for m in ("mux", "vote", "sc[a]"):
        assert lo.values[m][0] == pytest.approx(hi.values[m][0], abs=2e-3)


def test_zero_loading_and_private_attractors():
    params = (ModelParams("a", 3, 2, 0.0, 1.0, 0.0), ModelParams("b", 3, 2, 0.0, 1.0, 0.0))
    shared = evaluate(LatentDifficulty(params, shared_wrong=True, nodes=16), [3], methods=["vote", "contradiction"])
    private = evaluate(LatentDifficulty(params, shared_wrong=False, nodes=16), [3], methods=["vote", "contradiction"])
    # a shared misconception can outvote the truth; private ones cannot pool
    assert shared.values["vote"][0] < private.values["vote"][0]


def test_vote_in_chunks_equals_one_batch(monkeypatch):
    from muxsim.exact import combine

    params = (ModelParams("a", 3, 2, 0.1, 0.6, 0.5), ModelParams("b", 2, 2, 0.0, 0.8, 0.5))
    pop = LatentDifficulty(params, shared_wrong=False, nodes=8)
    whole = evaluate(pop, [2, 3], methods=["vote"]).values["vote"]
    monkeypatch.setattr(combine, "VOTE_CHUNK_CELLS", 1)  # one question per chunk
    np.testing.assert_allclose(evaluate(pop, [2, 3], methods=["vote"]).values["vote"], whole, atol=1e-12)


def test_private_attractor_vote_equals_grid_path():
    """Mixtures (quadrature) with private attractors: the grid-free vote equals the margin-grid vote."""
    from muxsim.exact.engine import Engine

    params = (ModelParams("a", 3, 2, 0.1, 0.6, 0.5), ModelParams("b", 2, 2, 0.05, 0.8, 0.3),
              ModelParams("c", 1.5, 3, 0.0, 0.4, 0.6))
    pop = LatentDifficulty(params, shared_wrong=False, nodes=6)
    lay, mix, qw = pop.layout()
    eng = Engine(lay, 3, mix=mix)
    for k in (1, 2, 3):
        units = eng.vote(range(3), [k] * 3, path="units")
        np.testing.assert_allclose(eng.vote(range(3), [k] * 3, path="grid"), units, atol=1e-12)
        assert qw @ units == pytest.approx(evaluate(pop, [k], methods=["vote"]).values["vote"][0], abs=1e-12)


def test_beta_quantile_far_tail_no_warning():
    """boost's ibeta_inv gives up at s = 1e-17 (a RuntimeWarning and 6e-213); the tail expansion is used there."""
    import warnings

    from scipy.stats import beta, norm

    from muxsim.population import beta_quantile_z

    z = np.array([-8.478621822183513, -3.0, 0.0, 3.0, 8.478621822183513])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        x = beta_quantile_z(z, 1.028, 0.972)
    assert np.all(np.diff(x) > 0)
    assert beta.cdf(x[0], 1.028, 0.972) == pytest.approx(norm.cdf(z[0]), rel=1e-7)
    assert beta.cdf(x[1:4], 1.028, 0.972) == pytest.approx(norm.cdf(z[1:4]), rel=1e-9)


@pytest.mark.parametrize("score", ["per_k", "per_valid"])
def test_many_subsets_at_once_equal_one_by_one(score):
    """The engine's vectorised MUX, union and contradiction of many subsets (a search's blocks) equal the
    one-subset methods row by row, with a different k per position; and a row's value does not depend on
    the block it is computed in (bit for bit)."""
    import itertools

    from muxsim.exact.engine import Engine

    params = (ModelParams("a", 3, 2, 0.1, 0.6, 0.5), ModelParams("b", 2, 2, 0.05, 0.8, 0.3),
              ModelParams("c", 1.5, 3, 0.0, 0.4, 0.6), ModelParams("d", 1, 1, 0.2, 0.5, 0.2))
    lay, mix, _ = LatentDifficulty(params, shared_wrong=False, nodes=6).layout()
    eng = Engine(lay, 3, mix=mix)
    for n, ks in [(2, [3, 1]), (3, [2, 3, 1]), (4, [3, 3, 3, 3])]:
        sub = np.array([p for c in itertools.combinations(range(4), n) for p in itertools.permutations(c)])
        mux, un, co = eng.mux_many(sub, ks, score), eng.union_many(sub, ks, 2), eng.contradiction_many(sub, ks, 2)
        for b, row in enumerate(sub.tolist()):
            np.testing.assert_allclose(mux[b], eng.mux(row, ks, score)[0], rtol=0, atol=1e-14)
            np.testing.assert_allclose(un[b], eng.union(row, ks, 2), rtol=0, atol=1e-14)
            np.testing.assert_allclose(co[b], eng.contradiction(row, ks, 2), rtol=0, atol=1e-14)
        assert (eng.mux_many(sub[3:4], ks, score)[0] == mux[3]).all()
    assert mux.min() < mux.max() and co.max() > 0  # (not a degenerate case)
