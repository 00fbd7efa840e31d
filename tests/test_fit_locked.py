"""The state 'locked on one wrong answer' (muxsim.fit.locked) and the shrinkage fit that carries it."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from muxsim.exact import combine
from muxsim.exact.engine import Engine
from muxsim.fit import fit
from muxsim.fit.common import model_key
from muxsim.fit.io import load, save
from muxsim.fit.shrinkage import PosteriorPopulation
from muxsim.fit.locked import compatible, lock_loglik, posterior, repeat_loglik
from muxsim.logs.evaluate import AnswerTable


def _table(rng, Q=600, m=4, pi=(0.25, 0.0, 0.1)):
    """Three models; model i is locked on question q with probability pi[i] (every draw one wrong answer),
    else right with probability p ~ Beta(2, 2) and wrong with a fresh or the question's shared answer."""
    n = len(pi)
    codes = np.zeros((Q, n, m), dtype=np.int64)
    locked = rng.random((Q, n)) < np.asarray(pi)
    for q in range(Q):
        for i in range(n):
            if locked[q, i]:
                codes[q, i] = 7
                continue
            p = rng.beta(2, 2)
            for j in range(m):
                u = rng.random()
                codes[q, i, j] = 0 if u < p else 7 if u < p + (1 - p) / 2 else 100 + 10 * i + j
    names = tuple(f"m{i}" for i in range(n))
    return AnswerTable(tuple(f"q{q}" for q in range(Q)), names, codes, tuple(() for _ in range(Q))), locked


def test_em_recovers_the_locked_share_and_only_compatible_questions_can_be_locked():
    table, locked = _table(np.random.default_rng(0))
    f = fit(table, "shrinkage", locked=True, cross_model=False)
    np.testing.assert_allclose(f.lock_share, [0.25, 0.0, 0.1], atol=0.04)
    codes = table.codes
    ok = ((codes == 0).sum(axis=2) == 0) & (codes == codes[:, :, :1]).all(axis=2)  # (no abstentions here)
    np.testing.assert_array_equal(compatible(codes), ok)
    assert np.all(f.lock[~ok] == 0)
    # the truly locked cells get high posteriors where the model is often locked
    assert f.lock[locked[:, 0], 0].mean() > 0.8
    # the regular prior is refitted without the locked cells: model 0's prior mean of the correct share is
    # near the unlocked cells' Beta(2, 2) mean, the plain fit's is pulled towards wrong by the locked quarter
    plain = fit(table, "shrinkage", cross_model=False)
    assert abs(f.mean["m0"][0] - 0.5) < 0.04 < abs(plain.mean["m0"][0] - 0.5)


def test_lock_pieces_on_a_small_case():
    """compatible cells (abstentions allowed), the lock's abstention likelihood at the pilot rate, the urn's
    repeat probability and the posterior, against hand-computed values."""
    codes = np.array([[[5, 5, -1], [0, 5, 5]], [[5, 6, 5], [-1, -1, -1]]])  # (Q=2, n=2, m=3)
    np.testing.assert_array_equal(compatible(codes), [[True, False], [False, True]])
    rate = np.array([1 / 6, 3 / 6])  # model 0 abstains once in 6 draws, model 1 three times
    want = np.array([[np.log(rate[0]) + 2 * np.log(1 - rate[0]), 3 * np.log(1 - rate[1])],
                     [3 * np.log(1 - rate[0]), 3 * np.log(rate[1])]])
    np.testing.assert_allclose(lock_loglik(codes), want, atol=1e-12)
    beta, tau = 2.0, 0.5
    rep = repeat_loglik(codes, beta, tau)
    pi = 2 / (2 + tau)  # cell (0, 0): answer 5 given twice by model 1, whose wrong total is 2
    assert rep[0, 0] == pytest.approx(np.log((1 + beta * pi) / (1 + beta)), abs=1e-12)
    assert rep[1, 1] == 0.0 and rep[0, 1] == 0.0
    post = posterior(np.array([0.2, 0.5]), np.log(np.full((2, 2), 0.3)), np.log(np.full((2, 2), 0.1)),
                     compatible(codes))
    assert post[0, 0] == pytest.approx(0.2 * 0.3 / (0.2 * 0.3 + 0.8 * 0.1), abs=1e-12)
    assert post[0, 1] == 0.0 and post[1, 1] == pytest.approx(0.5 * 0.3 / (0.5 * 0.3 + 0.5 * 0.1), abs=1e-12)


def test_shrinkage_with_lock_is_the_mixture_of_its_rows():
    """With the lock, union and contradiction of a pair are the per-model mixtures: P(>= 1 correct) times
    (1 - post), P(consistently wrong) = post (1 - abstain)^k + (1 - post) times the fit's own value (the base
    rows are drawn from the same seeded streams)."""
    table, _ = _table(np.random.default_rng(1), Q=80, m=3)
    f = fit(table, "shrinkage", locked=True, cross_model=False)
    base = dataclasses.replace(f, lock=None, lock_share=None)
    names = ["m0", "m2"]
    lay, mix, qw = f.population(names).layout()
    assert mix[1].shape == (2, 80, f.nodes + 1)
    blay, bmix, _ = base.population(names).layout()
    eng, beng = Engine(lay, 3, mix=mix), Engine(blay, 3, mix=bmix)
    post = f.lock[:, [0, 2]]
    for k in (2, 3):
        cw = [post[:, a] * 1.0 ** k + (1 - post[:, a]) * beng.consistently_wrong(a, k) for a in (0, 1)]
        right = [(1 - post[:, a]) * beng._at_least(a, k, 1) for a in (0, 1)]
        np.testing.assert_allclose(eng.union([0, 1], [k, k]), combine.union(right), atol=1e-12)
        np.testing.assert_allclose(eng.contradiction([0, 1], [k, k]), combine.contradiction(cw, right), atol=1e-12)
    # a question whose posterior is 0 for both models predicts as without the lock
    zero = np.flatnonzero((post == 0).all(axis=1))
    assert len(zero)
    np.testing.assert_allclose(eng.vote([0, 1], [3, 3])[zero], beng.vote([0, 1], [3, 3])[zero], atol=1e-12)
    assert f.predict(3, models=names, methods=["contradiction"], level=None).values["contradiction"][0] > \
        base.predict(3, models=names, methods=["contradiction"], level=None).values["contradiction"][0]


def test_lock_round_trip_and_interval_draws(tmp_path):
    table, _ = _table(np.random.default_rng(2), Q=60, m=3)
    f = fit(table, "shrinkage", locked=True)
    save(f, tmp_path / "f.json")
    g = load(tmp_path / "f.json")
    np.testing.assert_array_equal(g.lock, f.lock)
    np.testing.assert_array_equal(g.lock_share, f.lock_share)
    a = f.predict([1, 3], models=["m0", "m1"], methods=["vote", "mux"], level=None)
    b = g.predict([1, 3], models=["m0", "m1"], methods=["vote", "mux"], level=None)
    for m in ("vote", "mux"):
        np.testing.assert_array_equal(a.values[m], b.values[m])
    # interval draws (one posterior draw per question, priors and urn refitted on a bootstrap resample): a row
    # is the locked law (no correct draw, every draw on the pilot's wrong answer, the first label; no abstentions
    # in this table) exactly where the seeded Bernoulli(posterior) draw locks the cell
    Q = len(f.question_ids)
    locked_rows = 0
    for seed in range(1, 201):
        W, _ = PosteriorPopulation(f, ("m0",), 1, tuple(range(Q)), seed, tuple(range(Q))).weights()
        drawn = np.random.default_rng([seed, 17, model_key("m0")]).random(Q) < f.lock[:, 0]
        looks = (W[:, 0, 0] == 0) & (W[:, 0, 1] == 1.0)
        np.testing.assert_array_equal(looks, drawn)
        locked_rows += drawn.sum()
    assert 0 < locked_rows < 200 * Q


# -- the latent classes' locked state ------------------------------------------------------------------------


def test_classes_em_recovers_the_locked_share():
    """One class: the locked share per model is recovered, only compatible cells get a posterior, and the
    regular accuracy is refitted without the locked cells (the plain fit's is pulled towards wrong)."""
    table, locked = _table(np.random.default_rng(0))
    f = fit(table, "classes", n_classes=1, locked=True)
    np.testing.assert_allclose(f.lock_share[0], [0.25, 0.0, 0.1], atol=0.04)
    ok = compatible(table.codes)
    assert f.lock.shape == (600, 1, 3) and np.all(f.lock[:, 0][~ok] == 0)
    assert f.lock[locked[:, 0], 0, 0].mean() > 0.8
    plain = fit(table, "classes", n_classes=1)
    mean = lambda g: g.a[0, 0] / (g.a[0, 0] + g.b[0, 0])  # noqa: E731
    assert abs(mean(f) - 0.5) < 0.04 < abs(mean(plain) - 0.5)
    assert "lock" in f.table()
    # no cell can be locked (every pilot cell has a correct draw): the share sits at its bound, and the fit says so
    codes = np.zeros((50, 2, 3), dtype=np.int64)
    codes[:, :, 0] = np.arange(100).reshape(50, 2) + 1
    none = fit(AnswerTable(tuple(f"q{q}" for q in range(50)), ("a", "b"), codes, tuple(() for _ in range(50))),
               "classes", n_classes=1, locked=True)
    assert np.all(none.lock == 0) and any("locked share at its lower bound 1e-06" in x for x in none.diagnostics)


def test_classes_with_lock_is_the_mixture_of_its_rows():
    """Union and contradiction of a pair under the classes' lock are the per-model mixtures of the locked law
    (no correct draw, every draw one wrong answer: no abstentions in this table) and the regular rows, question
    copy by question copy; a copy where neither model can be locked votes as without the lock."""
    table, _ = _table(np.random.default_rng(1), Q=80, m=3)
    f = fit(table, "classes", n_classes=2, starts=1, locked=True)
    base = dataclasses.replace(f, lock=None, lock_share=None, share=0.0)
    names = ["m0", "m2"]
    lay, mix, qw = dataclasses.replace(f, share=0.0).population(names, nodes=4).layout()
    blay, bmix, bqw = base.population(names, nodes=4).layout()
    np.testing.assert_array_equal(qw, bqw)
    assert mix[0] == 5 and mix[1].shape == (2, len(qw), 5)
    post = mix[1][:, :, -1].T  # (copies, models): P(locked)
    eng, beng = Engine(lay, 3, mix=mix), Engine(blay, 3, mix=bmix)
    for k in (2, 3):
        cw = [post[:, a] + (1 - post[:, a]) * beng.consistently_wrong(a, k) for a in (0, 1)]
        right = [(1 - post[:, a]) * beng._at_least(a, k, 1) for a in (0, 1)]
        np.testing.assert_allclose(eng.union([0, 1], [k, k]), combine.union(right), atol=1e-12)
        np.testing.assert_allclose(eng.contradiction([0, 1], [k, k]), combine.contradiction(cw, right), atol=1e-12)
    zero = np.flatnonzero((post == 0).all(axis=1))
    assert len(zero) and (post > 0.5).any()
    np.testing.assert_allclose(eng.vote([0, 1], [3, 3])[zero], beng.vote([0, 1], [3, 3])[zero], atol=1e-12)


def assert_exact_agrees_with_monte_carlo(pop, meths=("mux", "vote", "union", "contradiction")) -> None:
    """The exact evaluation of ``pop`` at k = 1, 3 within 4 SE of 3,000 simulated draws, for each method."""
    from muxsim import simulate
    from muxsim.population import evaluate

    ex = evaluate(pop, [1, 3], methods=list(meths), with_paper=False)
    mc = simulate.evaluate(pop, [1, 3], n_draws=3000, rng=np.random.default_rng(4), methods=list(meths),
                           with_paper=False)
    for m in meths:
        assert np.all(np.abs(ex.values[m] - mc.values[m]) <= 4 * mc.se[m] + 1e-12), m


def test_classes_lock_exact_matches_monte_carlo_and_round_trips(tmp_path):
    """With the lock and shared attractors, the exact evaluation (per-model mixture weights, the vote summing
    the sharing patterns) agrees with the simulator; the fit file keeps the lock; interval draws lock a model
    (every valid draw on its attractor) at the rate of its posterior."""
    table, _ = _table(np.random.default_rng(3), Q=40, m=3)
    f = fit(table, "classes", n_classes=2, starts=1, locked=True)
    f = dataclasses.replace(f, share=0.5)
    assert_exact_agrees_with_monte_carlo(f.population(["m0", "m1", "m2"], nodes=3))
    save(f, tmp_path / "c.json")
    g = load(tmp_path / "c.json")
    np.testing.assert_array_equal(g.lock, f.lock)
    assert g.predict(3, models=["m0", "m1"], methods=["vote"], level=None).values["vote"][0] == \
        f.predict(3, models=["m0", "m1"], methods=["vote"], level=None).values["vote"][0]
    rng = np.random.default_rng(5)  # (the replaced fit has no refit bank: draws hold the fitted parameters)
    hits = sum(((W[:, 0, 0] == 0) & (W[:, 0, 1] + W[:, 0, 2] == 1.0)).sum()
               for W in (f.draw_laws(["m0"], rng) for _ in range(200)))
    want = 200 * (f.resp * f.lock[:, :, 0]).sum()  # E[locked draws] = sum_q sum_c P(class c) P(locked | c)
    assert want > 50 and abs(hits - want) < 4 * np.sqrt(want)
