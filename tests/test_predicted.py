"""The predicted objective: every subset's value equals the population's own evaluation of that subset."""

from __future__ import annotations

import glob
import json
import math

import pytest

from muxsim.cli import main
from muxsim.errors import MuxsimError
from muxsim.population import LatentDifficulty, ModelParams, evaluate
from muxsim.predicted import predicted_search

JHU = sorted(glob.glob("real_runs/logs/jhu-llm-temperature/*temp-0.7.csv.gz"))
POP = LatentDifficulty((ModelParams("a", a=2.0, b=1.0, attractor=0.6, loading=0.5),
                        ModelParams("b", a=1.0, b=1.5, abstain=0.1, attractor=0.3, loading=0.7),
                        ModelParams("c", a=3.0, b=1.0, attractor=0.8, loading=0.4),
                        ModelParams("d", a=1.5, b=1.5, attractor=0.2, loading=0.6)), nodes=8)


@pytest.mark.parametrize("method", ["mux", "vote"])
def test_every_subset_equals_the_population_evaluation(method):
    res = predicted_search(POP, [1, 2, 3], 3, method=method, top=10)
    single = {m: float(evaluate(POP, [1], models=[m], methods=[f"single[{m}]"]).values[f"single[{m}]"][0]) for m in POP.models}
    order = sorted(POP.models, key=lambda m: -single[m])
    assert list(res.models) == order
    for sr in res.sizes:
        assert len(sr.top) == math.comb(4, sr.size)
        for r in sr.top:
            names = [res.models[i] for i in r.idx]
            sub = LatentDifficulty(tuple(next(p for p in POP.params if p.name == m) for m in names), nodes=8)
            ev = evaluate(sub, [3], methods=[method, "union", "contradiction"])
            assert r.objective == pytest.approx(ev.values[method][0], abs=1e-12)
            assert r.union == pytest.approx(ev.values["union"][0], abs=1e-12)
            assert r.contradiction == pytest.approx(ev.values["contradiction"][0], abs=1e-12)
            assert math.isnan(r.se)  # parametric: no per-question SE
        vals = [r.objective for r in sr.top]
        assert vals == sorted(vals, reverse=True)


def test_on_logged_pools_with_standard_errors():
    from muxsim.calibrate_cli import read_logs
    from muxsim.logs.evaluate import answer_table, evaluate_logs

    tab = answer_table(read_logs(JHU)).select(questions=range(40))
    res = predicted_search(tab.empirical(), [2], 3, top=3)
    for r in res.sizes[0].top:
        names = [res.models[i] for i in r.idx]
        ev = evaluate_logs(tab, [3], models=names, methods=["mux"])
        assert r.objective == pytest.approx(ev.values["mux"][0], abs=1e-12)
        assert r.se == pytest.approx(ev.se["mux"][0], rel=1e-9)


@pytest.fixture(scope="module")
def fit_path(tmp_path_factory):
    from muxsim.calibrate import fit_latent, save_fit
    from muxsim.calibrate_cli import read_logs
    from muxsim.logs.evaluate import answer_table

    tab = answer_table(read_logs(JHU), models=["gpt-4", "mistral-large", "gpt-35-turbo"])
    p = tmp_path_factory.mktemp("fit") / "fit.json"
    save_fit(fit_latent(tab), p)
    return str(p)


def test_cli_predicted_with_a_fit(fit_path, capsys):
    assert main(["search", "--objective", "predicted", "--fit", fit_path, "--sizes", "1-2", "--k", "3", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["objective"] == "predicted" and [b["size"] for b in d["best"]] == [1, 2]
    assert all("se" in b for b in d["best"])


@pytest.mark.parametrize("extra, message", [
    (["LOGS"], "not both"), (["--norm", "union", "--sizes", "2"], "--norm is for"), (["--sizes", "4"], "size 4 is larger than the pool of 3"),
    (["--k", "0", "--sizes", "2"], "k=0"),
])
def test_cli_predicted_bad_input(fit_path, extra, message, capsys):
    extra = [JHU[0] if x == "LOGS" else x for x in extra]
    assert main(["search", "--objective", "predicted", "--fit", fit_path, *extra]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and message in err, err


def test_bad_arguments():
    with pytest.raises(MuxsimError, match="method='best'"):
        predicted_search(POP, [2], 3, method="best")
    with pytest.raises(MuxsimError, match="size=5 is larger"):
        predicted_search(POP, [5], 3)
