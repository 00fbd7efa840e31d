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
