"""Adaptive policies on populations and logs: the mixture pass against per-row values (one model), the
decided rule against the engine's fixed-k MUX on a latent population and on a log, Monte Carlo within
4 SE, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from muxsim import adaptive_population as ap
from muxsim.adaptive import Lead, Run, evaluate_policy, policy_value
from muxsim.adaptive_mux import Decided, RunEach, mux_policy_value
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw
from muxsim.logs.evaluate import AnswerTable, evaluate_logs
from muxsim.population import Empirical, LatentDifficulty, ModelParams

POP = LatentDifficulty((ModelParams("a", 2.0, 1.0, 0.1, 0.5, 0.6), ModelParams("b", 1.5, 1.5, 0.15, 0.7, 0.6, 0.8)),
                       nodes=6)


def test_one_model_mixture_equals_the_mixture_of_per_row_values():
    """For one model a policy's value is linear in the mixture weights given each row's law."""
    res = ap.evaluate(POP, [Lead(), Run(2)], [2, 4], models=["b"])
    lay, (E, mw), qw = POP.layout()
    for name, pol in (("lead", Lead()), ("run2", Run(2))):
        for j, k in enumerate((2, 4)):
            per_row = []
            for w in lay.weights[:, 1, :]:
                law = AnswerLaw(w[0], {f"w{c}": w[1 + c] for c in range(len(w) - 3)}, w[-2], w[-1])
                per_row.append(policy_value(law, pol, k))
            acc = np.array([v.accuracy for v in per_row]).reshape(-1, E) @ mw
            n = np.array([v.samples for v in per_row]).reshape(-1, E) @ mw
            assert res.policies[name]["accuracy"][j] == pytest.approx(qw @ acc, abs=1e-12)
            assert res.policies[name]["samples"][j] == pytest.approx(qw @ n, abs=1e-12)
    assert res.fixed_method == "sc[b]"
    assert res.policies["lead"]["accuracy"] == pytest.approx(res.fixed["accuracy"][[1, 3]], abs=1e-9)


def test_decided_equals_the_engines_fixed_mux_on_a_latent_population():
    res = ap.evaluate(POP, [Decided(), RunEach(2)], [1, 2, 3, 4])
    assert res.fixed_method == "mux"
    assert res.policies["decided"]["accuracy"] == pytest.approx(res.fixed["accuracy"], abs=1e-9)
    assert np.all(res.policies["decided"]["samples"] <= 2 * res.budgets + 1e-9)
    assert res.policies["decided"]["samples"][-1] < 8 - 0.5  # it saves draws here
    res = ap.evaluate(POP, [Decided("per_valid")], [3])
    assert res.fixed_method == "mux_valid"
    assert res.policies["decided_valid"]["accuracy"] == pytest.approx(res.fixed["accuracy"][[2]], abs=1e-9)


@pytest.mark.parametrize("models,policies", [(["a"], [Lead(), Run(2)]), (None, [Decided(), RunEach(2)])])
def test_monte_carlo_mirror_within_4_se(models, policies):
    ex = ap.evaluate(POP, policies, [2, 4], models=models)
    mc = ap.simulate(POP, policies, [2, 4], models=models, n_draws=2500, rng=np.random.default_rng(11))
    for name in ex.policies:
        for q in ("accuracy", "samples"):
            gap = np.abs(mc.policies[name][q] - ex.policies[name][q])
            assert np.all(gap <= 4 * mc.policies[name][q + "_se"] + 1e-12), (name, q, gap)


def _table():
    codes = np.array([[[0, 0, 1, 0, -1], [2, 2, 0, 2, 0]],
                      [[1, 1, 0, 2, 1], [0, 0, 0, 1, 3]],
                      [[0, 0, 0, 0, 0], [4, 5, -1, 4, 0]]], dtype=np.int64)
    return AnswerTable(("q0", "q1", "q2"), ("a", "b"), codes, ((), (), ()))


def test_log_decided_equals_fixed_mux_and_one_model_matches_evaluate_policy():
    t = _table()
    res = ap.evaluate_log(t, [Decided(), RunEach(2)], [2, 3, 5], models=["b", "a"])
    assert res.models == ("b", "a")
    fixed = evaluate_logs(t, [2, 3, 5], models=["b", "a"], methods=["mux"])
    assert res.policies["decided"]["accuracy"] == pytest.approx(fixed.values["mux"], abs=1e-9)
    assert np.all(res.policies["decided"]["samples"] <= 2 * res.budgets + 1e-9)
    # per question, the same as the one-question pass on the log's pools
    pools = t.pools([1, 0])
    want = np.mean([mux_policy_value(p, RunEach(2), 3).accuracy for p in pools])
    assert res.policies["run2_each"]["accuracy"][1] == pytest.approx(want, abs=1e-12)
    one = ap.evaluate_log(t, [Lead(), Run(2)], [4], models=["a"])
    old = evaluate_policy(t, "a", [Lead(), Run(2)], 4)
    for name in ("lead", "run2"):
        assert one.policies[name]["accuracy"][0] == pytest.approx(old["policies"][name]["accuracy"], abs=1e-12)
        assert one.policies[name]["samples"][0] == pytest.approx(old["policies"][name]["samples"], abs=1e-12)
    d = res.to_dict()
    assert d["fixed_method"] == "mux" and d["policies"]["decided"]["samples"] == pytest.approx(
        list(res.policies["decided"]["samples"]))
    assert "decided" in res.table()


BAD = [
    (lambda: ap.evaluate_log(_table(), [Decided()], [6]), "budget=6 is larger than the 5 logged samples"),
    (lambda: ap.evaluate_log(_table(), [Decided()], [2], models=["c"]), "unknown model"),
    (lambda: ap.evaluate_log(_table(), [Decided()], [2], models=[]), "empty selection"),
    (lambda: ap.evaluate_log(_table(), [], [2]), "non-empty list of policies"),
    (lambda: ap.evaluate_log(_table(), [Lead()], [2]), "one-model"),
    (lambda: ap.evaluate(POP, [Decided()], [0]), "budgets=\\[0\\]"),
    (lambda: ap.evaluate(POP, [Decided(), Decided()], [2]), "named twice"),
    (lambda: ap.simulate(POP, [Decided()], [2], n_draws=1, rng=np.random.default_rng(0)), "n_draws=1"),
    (lambda: ap.evaluate(Empirical([[AnswerLaw(1.0)]]), [RunEach(2)], [2], models=["zz"]), "unknown model"),
]


@pytest.mark.parametrize("call,msg", BAD, ids=[m for _, m in BAD])
def test_bad_input(call, msg):
    with pytest.raises(MuxsimError, match=msg):
        call()


def test_monte_carlo_mirror_on_a_log_within_4_se():
    t = _table()
    pols = [Decided(), RunEach(2)]
    ex = ap.evaluate_log(t, pols, [3, 5])
    mc = ap.simulate(t.empirical(), pols, [3, 5], n_draws=3000, rng=np.random.default_rng(2))
    for name in ex.policies:
        for q in ("accuracy", "samples"):
            gap = np.abs(mc.policies[name][q] - ex.policies[name][q])
            assert np.all(gap <= 4 * mc.policies[name][q + "_se"] + 1e-12), (name, q, gap)
