"""Mixtures whose weights differ by model and question (``mix=(E, W)`` with W of shape (n_models, Q, E)).

Each model draws its row of the question once (its k draws share it), with its own weights, independently
of the other models; so every exact value is the weight-product sum of enumeration over the rows."""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np
import pytest

from muxsim import simulate
from muxsim.errors import MuxsimError
from muxsim.exact.engine import Engine
from muxsim.laws import AnswerLaw
from muxsim.layout import layout
from muxsim.population import evaluate
from tests.brute import brute

TOL = 1e-9
E, N_MODELS, Q = 3, 3, 2


def _laws(rng):
    """rows[q][e][i]: model i's law in row e of question q (shared answers X, Y; model 2 has its own Z)."""
    def law(i):
        names = ["X", "Y"] + (["Z"] if i == 2 else [])
        p = rng.dirichlet(np.r_[2.0, np.ones(len(names)), 0.6, 0.4])
        return AnswerLaw(p[0], dict(zip(names, p[1:-2])), p[-2], p[-1])

    return [[[law(i) for i in range(N_MODELS)] for _ in range(E)] for _ in range(Q)]


def _weights(rng):
    W = rng.dirichlet(np.ones(E), size=(N_MODELS, Q))
    W[0, 1] = [0.0, 1.0, 0.0]  # a model held to one row on one question
    W[2, 0] = [0.7, 0.0, 0.3]
    return W


def _want(rows, W, q, models, ks, method, score="per_k", r=1):
    total = 0.0
    for es in itertools.product(range(E), repeat=len(models)):
        w = np.prod([W[i, q, e] for i, e in zip(models, es)])
        if w:
            total += w * brute(method, [rows[q][e][i] for i, e in zip(models, es)], ks, score, r)
    return total


@pytest.mark.parametrize("seed", [0, 1])
def test_per_model_weights_equal_enumeration(seed):
    rng = np.random.default_rng(seed)
    rows, W = _laws(rng), _weights(rng)
    eng = Engine(layout([rows[q][e] for q in range(Q) for e in range(E)]), 3, mix=(E, W))
    for models, ks in [([0, 1, 2], [2, 3, 2]), ([2, 0], [3, 2]), ([1], [3])]:
        for q in range(Q):
            for score in ("per_k", "per_valid"):
                assert eng.mux(models, ks, score)[0][q] == pytest.approx(_want(rows, W, q, models, ks, "mux", score),
                                                                          abs=TOL)
            if len(models) > 1:
                for path in ("grid", None):  # (the label pass is for E = 1 only)
                    assert eng.vote(models, ks, path=path)[q] == pytest.approx(_want(rows, W, q, models, ks, "vote"),
                                                                              abs=TOL), (models, q, path)
                for r in (1, 2):
                    assert eng.union(models, ks, r)[q] == pytest.approx(_want(rows, W, q, models, ks, "union", r=r),
                                                                        abs=TOL)
                    assert eng.contradiction(models, ks, r)[q] == pytest.approx(
                        _want(rows, W, q, models, ks, "contradiction", r=r), abs=TOL)
            else:
                assert eng.sc(models[0], ks[0])[q] == pytest.approx(_want(rows, W, q, models, ks, "sc"), abs=TOL)


def test_common_weights_are_the_per_model_case():
    """A (E,) set of weights gives the same values as that set repeated for every model and question."""
    rng = np.random.default_rng(3)
    rows = _laws(rng)
    lay = layout([rows[q][e] for q in range(Q) for e in range(E)])
    w = np.array([0.2, 0.5, 0.3])
    a, b = Engine(lay, 3, mix=(E, w)), Engine(lay, 3, mix=(E, np.tile(w, (N_MODELS, Q, 1))))
    np.testing.assert_allclose(a.vote([0, 1, 2], [3, 3, 3]), b.vote([0, 1, 2], [3, 3, 3]), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.mux([0, 2], [3, 2])[0], b.mux([0, 2], [3, 2])[0], rtol=0, atol=1e-12)


@dataclass
class _Pop:
    lay: object
    W: np.ndarray
    models: tuple = tuple(f"m{i}" for i in range(N_MODELS))

    def layout(self):
        return self.lay, (E, self.W), np.full(Q, 1 / Q)


def test_monte_carlo_draws_each_models_row_with_its_own_weights():
    rng = np.random.default_rng(5)
    rows, W = _laws(rng), _weights(rng)
    pop = _Pop(layout([rows[q][e] for q in range(Q) for e in range(E)]), W)
    methods = ["mux", "vote", "union", "contradiction"]
    ex = evaluate(pop, [2, 3], methods=methods, with_paper=False)
    mc = simulate.evaluate(pop, [2, 3], n_draws=20_000, rng=rng, methods=methods, with_paper=False)
    for m in methods:
        assert np.all(np.abs(ex.values[m] - mc.values[m]) <= 4 * mc.se[m] + 1e-12), m


@pytest.mark.parametrize("bad, match", [
    (np.full((N_MODELS, Q, E), 0.5), "sum to 1"),
    (np.full((N_MODELS, Q + 1, E), 1 / E), "shape"),
    (np.where(np.arange(E) == 0, -0.5, 0.75) * np.ones((N_MODELS, Q, 1)), ">= 0"),
])
def test_bad_weights_are_named(bad, match):
    rows = _laws(np.random.default_rng(0))
    with pytest.raises(MuxsimError, match=match):
        Engine(layout([rows[q][e] for q in range(Q) for e in range(E)]), 3, mix=(E, bad))
