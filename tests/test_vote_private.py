"""The pooled vote's ``private`` path: no named wrong answer given by two of the voting models, per-model tables
shared across subsets.  It must equal enumeration and the other exact paths, also for mixtures of rows with
weights per model and question, logged pools and different k per model."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from muxsim.errors import MuxsimError
from muxsim.exact.engine import Engine
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.layout import layout
from tests.brute import brute

TOL = 1e-9


def _own(i: int, m: int) -> list[str]:
    return [f"m{i}w{j}" for j in range(m)]


def _law(rng, i, m):
    p = rng.dirichlet(np.r_[1.5, np.ones(m), 0.7, 0.4])
    return AnswerLaw(p[0], dict(zip(_own(i, m), p[1:-2])), p[-2], p[-1])


def _pool(rng, i, m, size=5):
    c = rng.multinomial(size, rng.dirichlet(np.r_[1.5, np.ones(m), 0.7, 0.4]))
    return LoggedPool(int(c[0]), {w: int(x) for w, x in zip(_own(i, m), c[1:-2]) if x}, int(c[-2]), int(c[-1]))


@pytest.mark.parametrize("E", [1, 2])
def test_private_path_equals_enumeration_and_the_grid(E):
    rng = np.random.default_rng(E)
    m = [1, 2, 0, 3]  # named answers per model (model 2 has none: tail and abstentions only)
    Q = 2
    rows = [[[_law(rng, i, m[i]) for i in range(4)] for _ in range(E)] for _ in range(Q)]
    W = rng.dirichlet(np.ones(E), size=(4, Q)) if E > 1 else None
    eng = Engine(layout([rows[q][e] for q in range(Q) for e in range(E)]), 3, mix=None if E == 1 else (E, W))
    for models, ks in [([0, 1], [3, 2]), ([3, 0, 2], [2, 3, 1]), ([1, 2, 3, 0], [1, 1, 2, 2])]:
        assert eng._own_labels(models) is not None
        fast = eng.vote(models, ks)
        if sum(m[i] for i in models) <= 4:  # the grid's (2K + 1)^L cells
            np.testing.assert_allclose(fast, eng.vote(models, ks, path="grid"), rtol=0, atol=1e-12)
        np.testing.assert_allclose(fast, eng.vote(models, ks, path="units"), rtol=0, atol=1e-12)
        for q in range(Q):
            want = 0.0
            for es in itertools.product(range(E), repeat=len(models)):
                w = np.prod([1.0 if W is None else W[i, q, e] for i, e in zip(models, es)])
                want += w * brute("vote", [rows[q][e][i] for i, e in zip(models, es)], ks)
            assert fast[q] == pytest.approx(want, abs=TOL), (models, ks, q)


def test_private_path_on_logged_pools():
    rng = np.random.default_rng(11)
    qs = [[_pool(rng, i, m) for i, m in enumerate([2, 1, 3])] for _ in range(3)]
    eng = Engine(layout(qs), 4)
    for models, ks in [([0, 1, 2], [2, 3, 2]), ([2, 0], [4, 1])]:
        fast = eng.vote(models, ks, path="private")
        for q in range(3):
            assert fast[q] == pytest.approx(brute("vote", [qs[q][i] for i in models], ks), abs=TOL)
        np.testing.assert_allclose(fast, eng.vote(models, ks, path="sparse"), rtol=0, atol=1e-12)


def test_a_shared_answer_takes_another_path():
    """Two models giving the same named answer on one question: not private; values stay exact."""
    rng = np.random.default_rng(2)
    a, c = _law(rng, 0, 2), _law(rng, 2, 1)
    b = AnswerLaw(0.4, {"m0w1": 0.2, "m1w0": 0.2}, 0.1, 0.1)  # gives model 0's answer m0w1 too
    eng = Engine(layout([[a, b, c], [a, c, c]]), 3)
    assert eng._own_labels([0, 1]) is None and eng._own_labels([0, 2]) is not None
    assert eng.vote([0, 1], [3, 2])[0] == pytest.approx(brute("vote", [a, b], [3, 2]), abs=TOL)
    with pytest.raises(MuxsimError, match="vote at k="):
        eng.vote([0, 1], [3, 2], path="private")


def test_tables_are_shared_across_subsets():
    """The per-model tables are built once per (model, k, K, L): a second subset of the same size reuses them."""
    rng = np.random.default_rng(4)
    eng = Engine(layout([[_law(rng, i, 1) for i in range(4)] for _ in range(3)]), 3)
    eng.vote([0, 1], [3, 3])
    before = {key for key in eng._memo if key[0] == "private"}
    eng.vote([0, 2], [3, 3])
    after = {key for key in eng._memo if key[0] == "private"}
    new = after - before
    assert len(new) == 1 and next(iter(new))[1] == 2  # model 2's tables only; model 0's are reused
