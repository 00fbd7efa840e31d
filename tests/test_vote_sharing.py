"""The pooled vote over sharing patterns (:meth:`Engine.vote_sharing`, the latent classes' law of shared wrong
answers) from per-model tables: equal to enumeration over the patterns, and to the classes population whose
layout expands every pattern into weighted question copies."""

from __future__ import annotations

import itertools
import warnings
from dataclasses import dataclass

import numpy as np
import pytest

from muxsim.errors import MuxsimError, MuxsimWarning
from muxsim.exact import engine as engine_mod
from muxsim.exact.engine import Engine
from muxsim.laws import AnswerLaw
from muxsim.layout import layout
from muxsim.population import evaluate
from tests.brute import brute

TOL = 1e-9


def _law(rng, i, label=None):
    p = rng.dirichlet([2.0, 1.5, 0.6, 0.3])
    return AnswerLaw(p[0], {label or f"own{i}": p[1]}, p[2], p[3])


def _renamed(law: AnswerLaw, label: str) -> AnswerLaw:
    return AnswerLaw(law.correct, {label: sum(law.wrong.values())}, law.tail, law.abstain)


@pytest.mark.parametrize("n, E", [(2, 1), (3, 2), (4, 1)])
def test_equals_enumeration_over_patterns(n, E):
    rng = np.random.default_rng(10 * n + E)
    share, Q = 0.35, 2
    rows = [[[_law(rng, i) for i in range(n)] for _ in range(E)] for _ in range(Q)]
    W = rng.dirichlet(np.ones(E), size=(n, Q)) if E > 1 else None
    eng = Engine(layout([rows[q][e] for q in range(Q) for e in range(E)]), 3, mix=None if E == 1 else (E, W))
    ks = [3, 2, 1, 2][:n]
    got = eng.vote_sharing(list(range(n)), ks, share)
    for q in range(Q):
        want = 0.0
        for sharing in itertools.product((0, 1), repeat=n):  # which models move their answer to the shared one
            ps = np.prod([share if s else 1 - share for s in sharing])
            for es in itertools.product(range(E), repeat=n):
                w = ps * np.prod([1.0 if W is None else W[i, q, e] for i, e in enumerate(es)])
                laws = [_renamed(rows[q][e][i], "shared") if s and sum(sharing) >= 2 else rows[q][e][i]
                        for i, (e, s) in enumerate(zip(es, sharing))]
                want += w * brute("vote", laws, ks)
        assert got[q] == pytest.approx(want, abs=TOL), (n, E, q)
    # share 0: the private vote
    np.testing.assert_allclose(eng.vote_sharing(list(range(n)), ks, 0.0), eng.vote(list(range(n)), ks), atol=1e-12)


def test_needs_private_answers():
    rng = np.random.default_rng(1)
    a, b = _law(rng, 0, "X"), _law(rng, 1, "X")
    eng = Engine(layout([[a, b]]), 2)
    with pytest.raises(MuxsimError, match="vote_sharing"):
        eng.vote_sharing([0, 1], [2, 2], 0.5)


def test_past_the_work_limit_is_nan_with_a_note(monkeypatch):
    rng = np.random.default_rng(2)
    eng = Engine(layout([[_law(rng, i) for i in range(3)]]), 2)
    monkeypatch.setattr(engine_mod, "VOTE_MAX_WORK", 0.0)
    with pytest.warns(MuxsimWarning, match="5 sharing patterns of 3 models"):
        assert np.isnan(eng.vote_sharing([0, 1, 2], [2, 2, 2], 0.5)).all()


@dataclass
class _Expanded:
    """A population through its layout only (every sharing pattern a weighted question copy)."""

    pop: object

    @property
    def models(self):
        return self.pop.models

    def layout(self):
        return self.pop.layout()


def test_classes_population_equals_its_expanded_layout():
    from tests.test_latent_class import _simulate
    from muxsim.fit import fit_classes

    table, *_ = _simulate(np.random.default_rng(3), Q=40, m=3)
    f = fit_classes(table, n_classes=2, starts=2)
    import dataclasses

    for share in (0.3, 1.0):
        pop = dataclasses.replace(f, share=share).population(nodes=4)
        meths = ["vote", "mux", "union", "contradiction"]
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            fast = evaluate(pop, [1, 2, 3], methods=meths, with_paper=False)
        slow = evaluate(_Expanded(pop), [1, 2, 3], methods=meths, with_paper=False)
        for m in meths:
            np.testing.assert_allclose(fast.values[m], slow.values[m], rtol=0, atol=1e-12, err_msg=m)
