"""Budgeted plans: the best plan within the budget, the Pareto front, the accuracies, costs from the log."""

from __future__ import annotations

import glob
import json

import pytest

from muxsim.cli import main
from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import answer_table, evaluate_logs
from muxsim.plan import costs_from_samples, plan

JHU = sorted(glob.glob("real_runs/logs/jhu-llm-temperature/*temp-0.7.csv.gz"))
COSTS = {"claude-3-opus-20240229": 15, "cohere-command-r-plus": 3, "gemini-1.0-pro": 1, "gemini-1.5-pro-preview-0409": 7,
         "gpt-35-turbo": 1, "gpt-4": 30, "llama-2-70b-chat": 1, "llama-2-7b-chat": 0.2, "mistral-large": 8}


@pytest.fixture(scope="module")
def table():
    from muxsim.calibrate_cli import read_logs

    return answer_table(read_logs(JHU)).select(questions=range(40))


@pytest.mark.parametrize("per_model_k", [False, True])
def test_best_and_front_against_the_candidates(table, per_model_k):
    res = plan(table.empirical(), COSTS, 12.0, sizes=[1, 2], ks=[1, 2, 3], per_model_k=per_model_k)
    fits = [p for p in res.candidates if p.cost <= 12.0]
    top = max(p.accuracy for p in fits)
    assert res.best.accuracy == pytest.approx(top, abs=1e-12) and res.best.cost <= 12.0
    for p in res.candidates:  # every plan is matched by a front plan no more costly and at least as accurate
        assert any(f.cost <= p.cost and f.accuracy >= p.accuracy - 1e-12 for f in res.front)
    costs = [f.cost for f in res.front]
    accs = [f.accuracy for f in res.front]
    assert costs == sorted(costs) and all(b > a for a, b in zip(accs, accs[1:]))


def test_plan_accuracy_is_the_exact_evaluation(table):
    res = plan(table.empirical(), COSTS, 100.0, sizes=[2], ks=[3])
    for p in res.candidates[:5]:
        ev = evaluate_logs(table, [3], models=list(p.models), methods=["mux"])
        assert p.accuracy == pytest.approx(ev.values["mux"][0], abs=1e-12)
        assert p.se == pytest.approx(ev.se["mux"][0], rel=1e-9)
        assert p.cost == pytest.approx(3 * sum(COSTS[m] for m in p.models))


def test_costs_from_samples():
    from muxsim.logs.format import Sample

    s = [Sample("q1", "a", 0, "1", True, tokens_in=10, tokens_out=5), Sample("q1", "a", 1, "2", False, tokens_in=10, tokens_out=7),
         Sample("q1", "b", 0, "1", True, tokens_in=4, tokens_out=1, latency_s=0.5)]
    assert costs_from_samples(s) == {"a": 6.0, "b": 1.0}
    assert costs_from_samples(s, "tokens") == {"a": 16.0, "b": 5.0}
    with pytest.raises(MuxsimError, match="has no latency_s"):
        costs_from_samples(s, "latency_s")


def test_cli_plan_json_and_plot(tmp_path, capsys):
    cost = ",".join(f"{m}={c}" for m, c in COSTS.items())
    out = tmp_path / "plan.png"
    assert main(["plan", *JHU, "--budget", "10", "--cost", cost, "--sizes", "1-2", "--k", "1-3", "--json", "--plot", str(out)]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["best"]["cost"] <= 10 and len(d["best"]["interval95"]) == 2 and out.stat().st_size > 0


@pytest.mark.parametrize("args, message", [
    (["--budget", "10"], "has no tokens_out"),
    (["--budget", "10", "--cost", "gpt-4=1"], "no cost per sample for model(s)"),
    (["--budget", "-1", "--cost", ",".join(f"{m}={c}" for m, c in COSTS.items())], "budget=-1.0"),
    (["--budget", "10", "--k", "11", "--cost", ",".join(f"{m}={c}" for m, c in COSTS.items())], "k=11 is larger than the K=10"),
    (["--budget", "10", "--cost", "gpt-4"], "is not MODEL=COST"),
])
def test_cli_plan_bad_input(args, message, capsys):
    assert main(["plan", *JHU, *args]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


@pytest.fixture(scope="module")
def class_fit(table):
    from muxsim.fit import fit

    return fit(table.select(models=["gpt-4", "mistral-large", "gpt-35-turbo", "llama-2-7b-chat"]), "classes",
               n_classes=(2,), starts=1)


@pytest.mark.parametrize("method", ["mux", "vote"])
def test_plan_on_a_fit_equals_fit_predict_with_its_interval(class_fit, method):
    f = class_fit
    res = plan(f, {m: COSTS[m] for m in f.models}, 20.0, sizes=[1, 2, 3], ks=[1, 2, 3], method=method, draws=5, level=0.8)
    for p in res.candidates[::7]:
        pr = f.predict(p.k[0], models=list(p.models), methods=[method], level=None, with_paper=False)
        assert p.accuracy == pytest.approx(pr.values[method][0], abs=1e-12)
    b = res.best
    pr = f.predict(b.k[0], models=list(b.models), methods=[method], level=0.8, draws=5, with_paper=False)
    assert (b.lower, b.upper) == pytest.approx(tuple(pr.conf_int(method)[0]), abs=1e-12)
    assert b.level == 0.8 and b.interval() == (b.lower, b.upper) and b.lower <= b.accuracy <= b.upper
    d = res.to_dict()["best"]
    assert d["lower"] == b.lower and d["level"] == 0.8 and "80% predictive interval" in res.table()


def test_plan_per_model_k_on_a_fit_has_no_interval_for_unequal_k(class_fit):
    res = plan(class_fit, {m: COSTS[m] for m in class_fit.models}, 1e9, sizes=[2], ks=[1, 3], per_model_k=True, draws=3)
    b = res.best
    if len(set(b.k)) > 1:  # Fit.predict takes one k for all models: no interval rather than a wrong one
        assert b.level is None and b.to_dict().get("lower") is None
    else:
        assert b.level == 0.9
    assert all(p.level is None for p in res.candidates)  # candidates carry no interval; only the best


def test_cli_plan_with_a_classes_fit(class_fit, tmp_path, capsys):
    from muxsim.fit import save

    path = tmp_path / "fit.json"
    save(class_fit, path)
    cost = ",".join(f"{m}={COSTS[m]}" for m in class_fit.models)
    assert main(["plan", *JHU, "--models", ",".join(class_fit.models), "--budget", "10", "--cost", cost, "--sizes", "1-2",
                 "--k", "1-3", "--fit", str(path), "--draws", "3", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)["best"]
    assert d["level"] == 0.9 and d["lower"] <= d["accuracy"] <= d["upper"]
