"""Latent classes with each question's abstention rate Beta distributed around its class's (``abstain_spread``):
the Beta-binomial likelihood, recovery by EM, the posterior quadrature, interval draws, the fit file."""

import dataclasses

import numpy as np
import pytest
from scipy import integrate, stats
from scipy.special import betaln, comb

from muxsim.fit import fit
from muxsim.exact.engine import Engine
from muxsim.fit.classes import _abstain_ll, beta_gauss, lattice
from muxsim.fit.io import load, save
from muxsim.logs.evaluate import AnswerTable
from tests.test_fit_locked import assert_exact_agrees_with_monte_carlo


def _table(rng, Q: int, m: int, mean: float, conc: float | None, acc=(0.7, 0.4)) -> AnswerTable:
    """Two models, one class: accuracy p ~ Beta(4 acc, 4 (1 - acc)) per question, abstention rate ~ Beta(conc mean,
    conc (1 - mean)) per question (``conc`` None: the same rate everywhere), a wrong draw one repeated answer with
    probability 1/2, else a unique one."""
    codes = np.zeros((Q, len(acc), m), dtype=np.int64)
    for q in range(Q):
        for i, mu in enumerate(acc):
            p = rng.beta(4 * mu, 4 * (1 - mu))
            ab = mean if conc is None else rng.beta(conc * mean, conc * (1 - mean))
            u = rng.random(m)
            wrong = np.where(rng.random(m) < 0.5, 1, 2 + np.arange(m))
            codes[q, i] = np.where(u < ab, -1, np.where(rng.random(m) < p, 0, wrong))
    return AnswerTable(tuple(f"q{q}" for q in range(Q)), tuple(f"m{i}" for i in range(len(acc))), codes,
                       tuple(() for _ in range(Q)))


@pytest.mark.parametrize("k,m,mean,conc", [(0, 3, 0.3, 2.0), (3, 3, 0.47, 0.8), (2, 5, 0.1, 15.0), (1, 4, 0.9, 3.0)])
def test_beta_binomial_abstention_is_the_binomial_averaged_over_the_rate(k, m, mean, conc):
    d = {"a": np.array([[k]]), "v": np.array([[m - k]]), "m": m}
    got = _abstain_ll(d, np.array([[[mean]]]), np.array([[[conc]]]))[0, 0, 0]
    want, _ = integrate.quad(lambda x: stats.binom.pmf(k, m, x) * stats.beta.pdf(x, conc * mean, conc * (1 - mean)),
                             0, 1, epsabs=1e-13, epsrel=1e-12, limit=200)
    assert got == pytest.approx(np.log(want), abs=1e-9)
    binom = _abstain_ll(d, np.array([[[mean]]]), None)[0, 0, 0]
    assert binom == pytest.approx(stats.binom.logpmf(k, m, mean), abs=1e-12)


def test_em_recovers_the_spread_and_aic_prefers_it_only_where_there_is_one():
    rng = np.random.default_rng(11)
    spread = _table(rng, Q=800, m=6, mean=0.3, conc=1.5)
    f = fit(spread, "classes", n_classes=1, abstain_spread=True)
    plain = fit(spread, "classes", n_classes=1)
    assert f.abstain[0] == pytest.approx([0.3, 0.3], abs=0.04)
    assert np.all((f.abstain_conc[0] > 1.5 / 1.6) & (f.abstain_conc[0] < 1.5 * 1.6))
    assert f.aic[1] < plain.aic[1] - 100
    flat = _table(rng, Q=800, m=6, mean=0.3, conc=None)
    g = fit(flat, "classes", n_classes=1, abstain_spread=True)
    assert np.all(g.abstain_conc[0] > 30)  # a constant rate: the Beta concentrates
    assert g.aic[1] > fit(flat, "classes", n_classes=1).aic[1] - 1  # two parameters more, no better fit


def test_predictions_integrate_each_questions_posterior():
    """Union of one model at k = 3 is 1 - E[(1 - (1 - ab) p)^3] with p and ab independent Betas per (question,
    class): Beta moments exactly; the lattice rows converge to it (quadrature error, not a bias)."""
    table = _table(np.random.default_rng(3), Q=60, m=3, mean=0.35, conc=1.0)
    f = fit(table, "classes", n_classes=(1, 2), starts=1, abstain_spread=True)
    i = 1
    Q, C = f.resp.shape
    q, c = np.repeat(np.arange(Q), C), np.tile(np.arange(C), Q)
    xa, xb = _posterior_shapes(f, table, q, c, i)
    pa, pb = f.a[c, i] + f.correct[q, i], f.b[c, i] + f.valid[q, i] - f.correct[q, i]
    miss = sum(comb(3, j) * (-1) ** j * np.exp(betaln(xa, xb + j) - betaln(xa, xb) + betaln(pa + j, pb) - betaln(pa, pb))
               for j in range(4))
    want = float(np.mean((f.resp.ravel() * (1 - miss)).reshape(Q, C).sum(axis=1)))
    assert _union(f, 400) == pytest.approx(want, abs=2e-4)
    u, v = lattice(12)
    assert sorted(v) == sorted(u) and not np.allclose(u, v)  # both margins stratified, not the diagonal


@pytest.mark.parametrize("G", [1, 2, 3, 6])
def test_beta_gauss_integrates_polynomials_exactly(G):
    """Gauss--Jacobi nodes of Beta(al, be): every moment of degree <= 2G - 1 exactly, over the optimiser's range."""
    rng = np.random.default_rng(G)
    al, be = np.exp(rng.uniform(-5, 7, 100)), np.exp(rng.uniform(-5, 7, 100))
    x, w = beta_gauss(al, be, G)
    assert np.all(np.diff(x, axis=-1) > 0) and np.all((x > 0) & (x < 1)) and np.all(w > 0)
    for d in range(2 * G + 1):
        err = np.abs((w * x**d).sum(axis=-1) - np.prod([(al + r) / (al + be + r) for r in range(d)], axis=0))
        if d < 2 * G:
            assert err.max() <= 1e-12, d
        else:  # and not beyond: degree 2G is off somewhere
            assert err.max() > 1e-9


def test_locked_rows_integrate_the_abstention_posterior_exactly():
    """A locked model is consistently wrong in k >= 2 draws iff none abstains: E[(1 - ab)^k] under each (question,
    class)'s posterior Beta, exactly (1e-12) for k <= 2 ceil(nodes / 2) - 1 and not at k = 2 ceil(nodes / 2)."""
    table = _table(np.random.default_rng(4), Q=50, m=3, mean=0.35, conc=1.0)
    f = fit(table, "classes", n_classes=2, starts=1, locked=True, abstain_spread=True)
    f = dataclasses.replace(f, lock=np.ones_like(f.lock))  # every cell locked: the regular rows weigh nothing
    Q, C = f.resp.shape
    g = np.where(f.resp > 1e-9, f.resp, 0.0)
    g /= g.sum(axis=1, keepdims=True)
    q, c = np.repeat(np.arange(Q), C), np.tile(np.arange(C), Q)
    for nodes, ks, off in ((12, (2, 3, 7, 11), 12), (3, (2, 3), 4)):
        lay, mix, qw = f.population(["m1", "m0"], nodes=nodes).layout()  # two models, not in the fit's order
        for pos, i in enumerate((1, 0)):
            xa, xb = _posterior_shapes(f, table, q, c, i)
            for k in ks + (off,):
                got = float(qw @ Engine(lay, [k, k], mix=mix).consistently_wrong(pos, k))
                want = float(np.mean((g.ravel() * np.prod([(xb + r) / (xa + xb + r) for r in range(k)], axis=0))
                                     .reshape(Q, C).sum(axis=1)))
                if k == off:
                    assert abs(got - want) > 1e-9
                else:
                    assert got == pytest.approx(want, abs=1e-12)


def _posterior_shapes(f, table, q, c, i):
    """Beta(conc ab + abstentions, conc (1 - ab) + valid draws) of model i, counted from the table's codes."""
    n_abst = (table.codes[:, i, :] < 0).sum(axis=1)
    conc, ab = f.abstain_conc[c, i], f.abstain[c, i]
    return conc * ab + n_abst[q], conc * (1 - ab) + table.codes.shape[2] - n_abst[q]


def _union(f, nodes: int) -> float:
    from muxsim.population import evaluate

    return float(evaluate(f.population(["m1"], nodes=nodes), [3], methods=["union"], with_paper=False).values["union"][0])


def test_exact_matches_monte_carlo_draws_and_round_trip(tmp_path):
    """With the lock and shared attractors as well: the exact evaluation agrees with the simulator; interval draws
    take each question's abstention rate from its posterior; the fit file keeps the spread."""
    table = _table(np.random.default_rng(5), Q=40, m=3, mean=0.3, conc=1.0)
    f = dataclasses.replace(fit(table, "classes", n_classes=2, starts=1, locked=True, abstain_spread=True), share=0.5)
    assert_exact_agrees_with_monte_carlo(f.population(nodes=3))
    meths = ["mux", "vote", "union", "contradiction"]
    save(f, tmp_path / "c.json")
    g = load(tmp_path / "c.json")
    np.testing.assert_array_equal(g.abstain_conc, f.abstain_conc)
    np.testing.assert_array_equal(g.pilot_abstain, f.pilot_abstain)
    for m in meths:
        assert g.predict(3, models=["m0", "m1"], methods=[m], level=None).values[m][0] == \
            f.predict(3, models=["m0", "m1"], methods=[m], level=None).values[m][0]
    # draws (the replaced fit has no refit bank: parameters held): the abstention column's mean over draws is the
    # posterior mean of each question's rate, averaged over its class posterior
    rng = np.random.default_rng(6)
    draws = np.stack([f.draw_laws(["m0"], rng)[:, 0, -1] for _ in range(2000)])
    Q, C = f.resp.shape
    q, c = np.repeat(np.arange(Q), C), np.tile(np.arange(C), Q)
    xa, xb = _posterior_shapes(f, table, q, c, 0)
    want = (f.resp.ravel() * xa / (xa + xb)).reshape(Q, C).sum(axis=1)
    assert np.abs(draws.mean(axis=0) - want).max() < 4 * draws.std(axis=0).max() / np.sqrt(2000) + 1e-9
