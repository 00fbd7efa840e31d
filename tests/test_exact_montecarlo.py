"""Exact values agree with Monte Carlo within 4 standard errors on larger random cases."""

import numpy as np
import pytest

from muxsim import exact, simulate
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.population import LatentDifficulty, ModelParams, evaluate
from muxsim import simulate as mc

N = 20_000


def random_law(rng, labels=("X", "Y")):
    p = rng.dirichlet(np.ones(2 + len(labels) + 1) * 0.8)
    return AnswerLaw(1 - p[1:].sum(), dict(zip(labels, p[1:3])), p[3], p[4] * 0.5 + 0.0 if False else p[4])


def random_pool(rng, K):
    cats = rng.multinomial(K, rng.dirichlet(np.ones(5)))
    return LoggedPool(int(cats[0]), {"X": int(cats[1]), "Y": int(cats[2])}, int(cats[3]), int(cats[4]))


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_laws_within_4se(seed):
    rng = np.random.default_rng(seed)
    srcs = [random_law(rng) for _ in range(5)]
    ks = list(rng.integers(5, 10, size=5))
    checks = [
        (exact.mux(srcs, ks), simulate.mux(srcs, ks, n_draws=N, rng=rng)),
        (exact.mux(srcs, ks, "per_valid"), simulate.mux(srcs, ks, "per_valid", n_draws=N, rng=rng)),
        (exact.vote(srcs, ks), simulate.vote(srcs, ks, n_draws=N, rng=rng)),
        (exact.union(srcs, ks, 2), simulate.union(srcs, ks, 2, n_draws=N, rng=rng)),
        (exact.contradiction(srcs, ks), simulate.contradiction(srcs, ks, n_draws=N, rng=rng)),
        (exact.self_consistency(srcs[0], 9), simulate.self_consistency(srcs[0], 9, n_draws=N, rng=rng)),
    ]
    for ex, est in checks:
        assert abs(ex - est.value) <= 4 * est.se + 1e-12, (ex, est)


def test_pools_within_4se():
    rng = np.random.default_rng(7)
    srcs = [random_pool(rng, 12) for _ in range(4)]
    for k in (5, 9):
        for ex, est in [
            (exact.mux(srcs, k), simulate.mux(srcs, k, n_draws=N, rng=rng)),
            (exact.vote(srcs, k), simulate.vote(srcs, k, n_draws=N, rng=rng)),
            (exact.contradiction(srcs, k), simulate.contradiction(srcs, k, n_draws=N, rng=rng)),
        ]:
            assert abs(ex - est.value) <= 4 * est.se + 1e-12, (ex, est)


def test_parametric_quadrature_within_4se():
    pop = LatentDifficulty(
        (ModelParams("a", 3, 2, 0.05, 0.6, 0.5), ModelParams("b", 2, 2, 0.1, 0.3, 0.7), ModelParams("c", 1, 1, 0.0, 0.8, 0.6))
    )
    ks = [1, 4, 7]
    ex = evaluate(pop, ks)
    sim = mc.evaluate(pop, ks, n_draws=N, rng=np.random.default_rng(11))
    for m, v in sim.values.items():
        if m.startswith("paper"):
            continue
        assert np.all(np.abs(ex.values[m] - v) <= 4 * sim.se[m] + 1e-9), (m, ex.values[m], v, sim.se[m])


def test_seeded_runs_reproduce():
    law = AnswerLaw(0.5, {"X": 0.3}, tail=0.2)
    a = simulate.vote([law, law], 3, n_draws=1000, rng=np.random.default_rng(5))
    b = simulate.vote([law, law], 3, n_draws=1000, rng=np.random.default_rng(5))
    assert a == b
