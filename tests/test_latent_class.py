"""Latent-class calibration: recovery of known classes, posterior predictions, bad arguments."""

import numpy as np
import pytest
from scipy.special import betaln

from muxsim.errors import MuxsimError
from muxsim.fit import fit_classes
from muxsim.logs.evaluate import AnswerTable
from muxsim.population import evaluate


def _simulate(rng, Q=400, m=5):
    """Two classes: model 'a' good on class 0, model 'b' good on class 1 (complementary); 'b' repeats
    one wrong answer on class 0 (attractor 0.9), otherwise wrong answers are unique."""
    weights = np.array([0.6, 0.4])
    mean = np.array([[0.8, 0.1], [0.2, 0.7]])  # class x model
    attractor = np.array([[0.0, 0.9], [0.0, 0.0]])
    cls = rng.choice(2, size=Q, p=weights)
    codes = np.zeros((Q, 2, m), dtype=np.int64)
    for q in range(Q):
        fresh = 1
        for i in range(2):
            p = rng.beta(4 * mean[cls[q], i], 4 * (1 - mean[cls[q], i]))
            att = None
            for j in range(m):
                if rng.random() < p:
                    codes[q, i, j] = 0
                elif rng.random() < attractor[cls[q], i]:
                    att = att or (fresh := fresh + 1)
                    codes[q, i, j] = att
                else:
                    codes[q, i, j] = (fresh := fresh + 1)
    table = AnswerTable(tuple(f"q{q}" for q in range(Q)), ("a", "b"), codes, tuple(() for _ in range(Q)))
    return table, weights, mean, attractor


def test_recovers_two_complementary_classes():
    table, weights, mean, attractor = _simulate(np.random.default_rng(0))
    fit = fit_classes(table, n_classes=(1, 2, 3), starts=3)
    assert fit.n_classes == 2
    order = np.argsort(-fit.weights)  # the larger class first, as simulated
    np.testing.assert_allclose(fit.weights[order], weights, atol=0.06)
    np.testing.assert_allclose((fit.a / (fit.a + fit.b))[order], mean, atol=0.06)
    np.testing.assert_allclose(fit.attractor[order][:, 1], attractor[:, 1], atol=0.1)
    assert set(fit.aic) == {1, 2, 3}


def test_predictions_are_posterior_expectations():
    """With one class, SC(1) of a model is the mean over questions of its posterior mean accuracy and
    union at k is 1 - E[(1 - p)^k] under each question's posterior Beta (no abstention here)."""
    table, *_ = _simulate(np.random.default_rng(1), Q=60, m=3)
    fit = fit_classes(table, n_classes=1)
    a, b = fit.a[0, 0], fit.b[0, 0]
    c, v = fit.correct[:, 0], fit.valid[:, 0]
    res = evaluate(fit.population(["a"], nodes=400), [1, 4], methods=["sc[a]", "union"], with_paper=False)
    assert res.values["sc[a]"][0] == pytest.approx(np.mean((a + c) / (a + b + v)), abs=2e-3)
    pa, pb = a + c, b + v - c
    union4 = np.mean(1 - np.exp(betaln(pa, pb + 4) - betaln(pa, pb)))
    assert res.values["union"][1] == pytest.approx(union4, abs=2e-3)


def test_class_posteriors_couple_the_models():
    """Complementary models: a question model 'a' got right is likely class 0, where 'b' is weak; the
    joint prediction must see that (union of both below the independent combination)."""
    table, *_ = _simulate(np.random.default_rng(2), Q=300, m=3)
    fit = fit_classes(table, n_classes=2, starts=3)
    pop = fit.population(["a", "b"])
    res = evaluate(pop, [3], methods=["union", "vote", "mux"], with_paper=False)
    ua = evaluate(fit.population(["a"]), [3], methods=["union"], with_paper=False).values["union"][0]
    ub = evaluate(fit.population(["b"]), [3], methods=["union"], with_paper=False).values["union"][0]
    assert res.values["union"][0] >= max(ua, ub) - 1e-12
    assert 0 <= res.values["vote"][0] <= res.values["union"][0] + 1e-12


@pytest.mark.parametrize("call, match", [
    (lambda f: f.population(["zz"]), "not in the fit"),
    (lambda f: f.population(["a", "a"]), "named twice"),
    (lambda f: f.population(nodes=0), "nodes"),
    (lambda f: f.population(questions=[999]), "questions"),
])
def test_bad_population_arguments(call, match):
    table, *_ = _simulate(np.random.default_rng(3), Q=20, m=3)
    fit = fit_classes(table, n_classes=1)
    with pytest.raises(MuxsimError, match=match):
        call(fit)


def test_bad_fit_arguments():
    table, *_ = _simulate(np.random.default_rng(4), Q=20, m=3)
    with pytest.raises(MuxsimError, match="n_classes"):
        fit_classes(table, n_classes=0)
    with pytest.raises(MuxsimError, match="n_classes"):
        fit_classes(table, n_classes=[])


def test_exact_predictions_match_monte_carlo():
    """The fitted population (classes as weighted question copies, per-model mixtures of laws)
    evaluated exactly agrees with the simulator drawing every model's law independently."""
    from muxsim import simulate

    table, *_ = _simulate(np.random.default_rng(5), Q=40, m=3)
    fit = fit_classes(table, n_classes=2, starts=2)
    pop = fit.population(nodes=4)
    meths = ["sc[a]", "mux", "vote", "union", "contradiction"]
    ex = evaluate(pop, [1, 3], methods=meths, with_paper=False)
    mc = simulate.evaluate(pop, [1, 3], n_draws=3000, rng=np.random.default_rng(6), methods=meths, with_paper=False)
    for m in meths:
        assert np.all(np.abs(ex.values[m] - mc.values[m]) <= 4 * mc.se[m] + 1e-12), m


def test_shared_attractors_mix_sharing_patterns():
    """Two models: with probability share^2 both attractors are the question's shared answer, so the
    vote is (1 - share^2) * vote(private) + share^2 * vote(shared); other methods do not depend on it."""
    import dataclasses

    table, *_ = _simulate(np.random.default_rng(7), Q=30, m=3)
    fit = fit_classes(table, n_classes=2, starts=2)
    meths = ["mux", "vote", "union", "contradiction"]
    private = evaluate(dataclasses.replace(fit, share=0.0).population(nodes=4), [1, 3], methods=meths, with_paper=False)
    shared = evaluate(dataclasses.replace(fit, share=1.0).population(nodes=4), [1, 3], methods=meths, with_paper=False)
    mixed = evaluate(dataclasses.replace(fit, share=0.4).population(nodes=4), [1, 3], methods=meths, with_paper=False)
    np.testing.assert_allclose(mixed.values["vote"], 0.84 * private.values["vote"] + 0.16 * shared.values["vote"],
                               atol=1e-12)
    for m in ("mux", "union", "contradiction"):
        np.testing.assert_allclose(mixed.values[m], private.values[m], atol=1e-12)
    assert np.all(shared.values["vote"] <= private.values["vote"] + 1e-12)  # shared wrong answers win more often
