"""Scaling curves: against the existing evaluation and the exact functions; the two-difficulty K* against the curve."""

from __future__ import annotations

import glob
import itertools
import math

import numpy as np
import pytest

from muxsim import exact
from muxsim import scaling as Sc
from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import answer_table, evaluate_logs
from muxsim.population import LatentDifficulty, ModelParams, evaluate

JHU = sorted(glob.glob("real_runs/logs/jhu-llm-temperature/*temp-0.7.csv.gz"))
THREE = ["gpt-4", "mistral-large", "gpt-35-turbo"]


@pytest.fixture(scope="module")
def jhu():
    from muxsim.calibrate_cli import read_logs

    return answer_table(read_logs(JHU))


def test_k_curve_equals_evaluate_logs(jhu):
    c = Sc.k_curve(jhu, range(1, 11), models=THREE, methods=["mux", "mux_valid", "vote", "union", "contradiction"])
    ref = evaluate_logs(jhu, range(1, 11), models=THREE, methods=["mux", "mux_valid", "vote", "union", "contradiction"])
    for m in c.values:
        assert np.allclose(c.values[m], ref.values[m], atol=1e-12, rtol=0), m
        assert np.allclose(c.se[m], ref.se[m], atol=1e-12, rtol=0), m


def test_per_model_k_equals_the_exact_functions_per_question(jhu):
    sub = jhu.select(THREE, questions=range(25))
    pools = sub.empirical().questions
    pts = [(3, 1, 2), (1, 4, 1)]
    c = Sc.k_curve(sub, pts, models=THREE, methods=["mux", "vote", "union", "contradiction"])
    for j, p in enumerate(pts):
        assert c.values["mux"][j] == pytest.approx(np.mean([exact.mux(q, list(p)) for q in pools]), abs=1e-12)
        assert c.values["vote"][j] == pytest.approx(np.mean([exact.vote(q, list(p)) for q in pools]), abs=1e-12)
        assert c.values["union"][j] == pytest.approx(np.mean([exact.union(q, list(p)) for q in pools]), abs=1e-12)
        assert c.values["contradiction"][j] == pytest.approx(np.mean([exact.contradiction(q, list(p)) for q in pools]), abs=1e-12)


def test_k_curve_on_a_parametric_population_equals_evaluate():
    pop = LatentDifficulty((ModelParams("a", a=2.0, b=1.0, attractor=0.6, loading=0.5),
                            ModelParams("b", a=1.0, b=1.5, abstain=0.1, attractor=0.3, loading=0.7)), nodes=8)
    c = Sc.k_curve(pop, [1, 2, 3, 5], methods=["mux", "vote"])
    ref = evaluate(pop, [1, 2, 3, 5], methods=["mux", "vote"])
    for m in ("mux", "vote"):
        assert np.allclose(c.values[m], ref.values[m], atol=1e-12, rtol=0)


def test_n_curve_is_the_best_subset_by_a_loop(jhu):
    sub = jhu.select(questions=range(40))
    rows = Sc.n_curve(sub, 3, [1, 2, 3])
    order = [sub.models[i] for i in np.argsort(-sub.accuracy(), kind="stable")]
    for row in rows:
        vals = {c: float(evaluate_logs(sub, [3], models=list(c), methods=["mux"]).values["mux"][0])
                for c in itertools.combinations(order, row["size"])}
        best = max(vals.values())
        assert row["value"] == pytest.approx(best, abs=1e-12)
        assert vals[tuple(row["models"])] == pytest.approx(best, abs=1e-12)


@pytest.mark.parametrize("values, monotone, turns", [
    ([1, 2, 3], True, ()), ([3, 2, 2, 1], True, ()), ([1, 3, 2], False, ((1, "max"),)),
    ([1, 2, 2, 1], False, ((1, "max"),)), ([3, 1, 2, 0], False, ((1, "min"), (2, "max"))), ([1, 1, 1], True, ()),
])
def test_shape(values, monotone, turns):
    s = Sc.shape(values)
    assert s.monotone == monotone and s.turns == turns


GRID = [(a, p1, p2) for a in (0.2, 0.5, 0.7, 0.9) for p1 in (0.6, 0.75, 0.9) for p2 in (0.1, 0.3, 0.45)]


@pytest.mark.parametrize("alpha, p1, p2", GRID)
def test_chen_k_star_is_the_argmax_of_the_exact_vote_curve(alpha, p1, p2):
    opt = Sc.chen_optimal_calls(alpha, p1, p2)
    ks = list(range(1, 602, 2))
    v = Sc.two_difficulty_vote(alpha, p1, p2, ks)
    if math.isinf(opt.k_star):  # the supremum is the limit alpha: the curve ends above every earlier point
        assert v[-1] >= v.max() - 1e-12 and alpha > v[0]
    else:
        best = ks[int(np.argmax(v))]
        assert opt.k_star == best or v[ks.index(int(opt.k_star))] == pytest.approx(v.max(), abs=1e-12)
    assert opt.monotone == Sc.shape(v, tol=1e-15).monotone


def test_two_difficulty_vote_equals_the_exact_engine():
    from muxsim.laws import AnswerLaw

    for K in (1, 2, 3, 4, 7, 10):
        e = 0.3 * exact.self_consistency(AnswerLaw(0.8, {"X": 0.2}), K) + 0.7 * exact.self_consistency(AnswerLaw(0.4, {"X": 0.6}), K)
        assert Sc.two_difficulty_vote(0.3, 0.8, 0.4, [K])[0] == pytest.approx(e, abs=1e-13)


def test_chen_bad_arguments():
    for args, msg in [((1.5, 0.8, 0.3), "alpha=1.5"), ((0.5, 0.4, 0.3), "p_easy=0.4"), ((0.5, 0.8, 0.5), "p_hard=0.5")]:
        with pytest.raises(MuxsimError, match=msg):
            Sc.chen_optimal_calls(*args)


def test_curve_bad_input(jhu):
    with pytest.raises(MuxsimError, match="k=11 is larger than the K=10"):
        Sc.k_curve(jhu, [11], models=THREE)
    with pytest.raises(MuxsimError, match="one per model"):
        Sc.k_curve(jhu, [(1, 2)], models=THREE)
    with pytest.raises(MuxsimError, match="unknown model"):
        Sc.k_curve(jhu, [1], models=["gpt-5"])
    with pytest.raises(MuxsimError, match="size=10 is larger"):
        Sc.n_curve(jhu, 3, [10])


def test_cli_scaling_json(capsys):
    import json

    from muxsim.cli import main

    assert main(["scaling", *JHU, "--models", ",".join(THREE), "--k", "1-10", "--methods", "mux,vote", "--sizes", "1-2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["models"] == THREE and len(d["values"]["vote"]) == 10
    assert d["shape"]["vote"]["monotone"] is False and d["shape"]["vote"]["turns"][0] == {"k": "5", "kind": "max"}
    assert [r["size"] for r in d["n_curve"]["best"]] == [1, 2]


@pytest.mark.parametrize("args, message", [
    (["--k", "12"], "k=12 is larger than the K=10"),
    (["--per-model-k", "1,2"], "gives 2 values for the 3 models"),
    (["--k", "3", "--per-model-k", "1,2,3"], "not both"),
    (["--methods", "best"], "choose from"),
])
def test_cli_scaling_bad_input(args, message, capsys):
    from muxsim.cli import main

    assert main(["scaling", *JHU, "--models", ",".join(THREE), *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_cli_scaling_of_a_fit_carries_predictive_intervals(jhu, tmp_path, capsys):
    """Curves of a fit (here a mixture of two families) carry the interval of ``Fit.predict``, point for point."""
    import json

    from muxsim.cli import main
    from muxsim.fit import MixtureFit, fit, save

    pilot = jhu.select(THREE, samples=slice(0, 3)).select(questions=list(range(40)))
    mix = MixtureFit((fit(pilot, "latent"), fit(pilot, "shrinkage", nodes=3, max_labels=2)), np.array([0.5, 0.5]))
    save(mix, tmp_path / "f.json")
    assert main(["scaling", "--fit", str(tmp_path / "f.json"), "--k", "1,3", "--methods", "mux,union",
                 "--draws", "6", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    want = mix.predict([1, 3], models=list(pilot.models), methods=["mux", "union"], level=0.9, draws=6,
                       with_paper=False)
    for m in ("mux", "union"):
        np.testing.assert_allclose(d["values"][m], want.values[m], atol=1e-12)
        np.testing.assert_allclose(d["lower"][m], want.lower[m], atol=1e-12)
        assert all(lo <= v <= hi for lo, v, hi in zip(d["lower"][m], d["values"][m], d["upper"][m]))
    assert d["level"] == 0.9
    assert main(["scaling", "--fit", str(tmp_path / "f.json"), "--per-model-k", "1,2,3"]) == 2
    assert "one k per point" in capsys.readouterr().err
