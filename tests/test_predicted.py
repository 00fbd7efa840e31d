"""The predicted objective: every subset's value equals the population's own evaluation of that subset."""

from __future__ import annotations

import glob
import json
import math

import numpy as np
import pytest

from muxsim.cli import main
from muxsim.errors import MuxsimError
from muxsim.population import LatentDifficulty, ModelParams, evaluate
from muxsim.predicted import predicted_search
from muxsim.subset_eval import SubsetEvaluator

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
    from muxsim.fit import load

    fit = load(fit_path)
    for b in d["best"]:  # the best subset of each size has Fit.predict's interval for that subset
        p = fit.predict(3, models=b["models"], methods=["mux"], level=0.9, with_paper=False)
        assert b["objective"] == pytest.approx(p.values["mux"][0], abs=1e-12)
        assert [b["lower"], b["upper"]] == pytest.approx(list(p.conf_int("mux")[0]), abs=1e-12)
        assert b["level"] == 0.9 and b["lower"] <= b["objective"] <= b["upper"] and b["lower"] < b["upper"]
    assert all("lower" not in r for r in d["top"]["2"][1:])  # intervals: best only by default


# --- every fit kind: values equal Fit.predict, chunked or not; intervals from Fit.predict ---------------

@pytest.fixture(scope="module")
def small_table():
    from muxsim.calibrate_cli import read_logs
    from muxsim.logs.evaluate import answer_table

    return answer_table(read_logs(JHU), models=["gpt-4", "mistral-large", "gpt-35-turbo", "llama-2-7b-chat"]
                        ).select(questions=range(24))


@pytest.fixture(scope="module")
def fits(small_table):
    from muxsim.fit import fit

    pilot = small_table.select(samples=slice(0, 3))  # kind="auto": one cross-validation fold per pilot sample
    auto = fit(pilot, "auto", max_pairs=2, options={"classes": {"n_classes": (1, 2), "starts": 1}})
    return {"latent": fit(small_table, "latent"), "classes": fit(small_table, "classes", n_classes=(2,), starts=1),
            "shrinkage": fit(small_table, "shrinkage"), "auto": auto}


@pytest.mark.parametrize("kind", ["latent", "classes", "shrinkage", "auto"])
@pytest.mark.parametrize("method", ["mux", "vote"])
def test_every_fit_kind_equals_fit_predict(fits, kind, method):
    f = fits[kind]
    if kind == "classes":
        assert f.share > 0  # the sharing patterns (and the vote's per-subset path) are exercised
    if kind == "shrinkage":
        assert f.joint_dependent
    res = predicted_search(f, [2, 3], 2, method=method, top=10, r=1, intervals="none")
    for sr in res.sizes:
        assert len(sr.top) == math.comb(4, sr.size)
        for r in sr.top:
            names = [res.models[i] for i in r.idx]
            p = f.predict(2, models=names, methods=[method, "union", "contradiction"], level=None, with_paper=False)
            assert r.objective == pytest.approx(p.values[method][0], abs=1e-12)
            assert r.union == pytest.approx(p.values["union"][0], abs=1e-12)
            assert r.contradiction == pytest.approx(p.values["contradiction"][0], abs=1e-12)
            assert r.se is None and r.level is None


@pytest.mark.parametrize("kind", ["classes", "shrinkage", "mixture"])
def test_the_vote_without_shared_work_is_screened_by_the_predicted_mux(fits, kind):
    """Where each subset's vote is its own population (the classes' sharing patterns, a joint-dependent fit, or a
    mixture holding one), every subset is ranked by the predicted MUX and the best `screen` are rescored by the
    fit's own vote; the latent fit's vote shares work and is not screened."""
    from muxsim.fit import MixtureFit

    f = MixtureFit((fits["latent"], fits["classes"]), np.array([0.5, 0.5])) if kind == "mixture" else fits[kind]
    assert not SubsetEvaluator(f, None, 2).shares_work("vote") and SubsetEvaluator(fits["latent"], None, 2).shares_work("vote")
    res = predicted_search(f, [2, 3], 2, method="vote", top=2, intervals="none", screen=2)
    mux = predicted_search(f.pool_form(), [2, 3], 2, method="mux", top=10, intervals="none", screen=10**6)
    assert "predicted MUX" in res.settings["screen"]
    for sr, sm in zip(res.sizes, mux.sizes):
        assert sr.scored == 2 and not sr.proven and "predicted MUX" in sr.strategy
        assert {r.idx for r in sr.top} == {r.idx for r in sm.top[:2]}  # the MUX's best two, rescored
        for r in sr.top:
            names = [res.models[i] for i in r.idx]
            assert r.objective == pytest.approx(f.predict(2, models=names, methods=["vote"], level=None,
                                                          with_paper=False).values["vote"][0], abs=1e-12)
    assert not predicted_search(fits["latent"], [2], 2, method="vote", top=1, intervals="none", screen=1).settings.get("screen")


@pytest.mark.parametrize("kind", ["classes", "shrinkage"])
def test_chunks_of_questions_give_the_same_values(fits, kind, monkeypatch):
    import muxsim.subset_eval as SE

    f = fits[kind]
    whole = predicted_search(f, [2, 3], 3, top=4, intervals="none")
    monkeypatch.setattr(SE, "CHUNK_ROWS", 1)  # one question per chunk
    orig = SE.SubsetEvaluator.__init__
    chunks = []

    def small(self, *a, **kw):
        orig(self, *a, **kw, chunk_rows=1)
        chunks.append(self)

    monkeypatch.setattr(SE.SubsetEvaluator, "__init__", small)
    parts = predicted_search(f, [2, 3], 3, top=4, intervals="none")
    assert chunks
    for a, b in zip(whole.sizes, parts.sizes):
        assert [r.idx for r in a.top] == [r.idx for r in b.top]
        assert [r.objective for r in a.top] == pytest.approx([r.objective for r in b.top], abs=1e-12)


@pytest.mark.parametrize("kind", ["latent", "classes", "shrinkage", "auto"])
def test_top_intervals_equal_fit_predict(fits, kind):
    f = fits[kind]
    res = predicted_search(f, [2], 3, top=2, intervals="top", draws=6, level=0.8)
    for r in res.sizes[0].top:
        names = [res.models[i] for i in r.idx]
        p = f.predict(3, models=names, methods=["mux"], level=0.8, draws=6, with_paper=False)
        assert (r.lower, r.upper) == pytest.approx(tuple(p.conf_int("mux")[0]), abs=1e-12)
        assert r.level == 0.8 and r.lower <= r.objective <= r.upper
    d = res.to_dict()
    assert d["best"][0]["lower"] == res.sizes[0].top[0].lower and d["best"][0]["level"] == 0.8
    assert "80% interval" in res.table()


def test_cli_predicted_kind_classes_on_logs(capsys):
    assert main(["search", *JHU, "--objective", "predicted", "--kind", "classes", "--models",
                 "gpt-4,mistral-large,gpt-35-turbo", "--sizes", "2", "--draws", "4", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    b = d["best"][0]
    assert b["lower"] <= b["objective"] <= b["upper"] and b["level"] == 0.9


def test_cli_predicted_kind_auto_on_a_pilot(tmp_path, capsys):
    """--kind auto fits the pilot's families, weighs them on the pilot and searches their mixture."""
    from tests.tiny_logs import write_tiny_log

    log = write_tiny_log(tmp_path / "s.jsonl", {"a": 0.8, "b": 0.6, "c": 0.4}, seed=3)
    assert main(["search", str(log), "--objective", "predicted", "--kind", "auto", "--sizes", "2-3", "--draws", "4",
                 "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert [b["size"] for b in d["best"]] == [2, 3]
    for b in d["best"]:
        assert b["lower"] <= b["objective"] <= b["upper"]


@pytest.mark.parametrize("extra, message", [
    (["LOGS"], "not both"), (["--norm", "union", "--sizes", "2"], "--norm is for"), (["--sizes", "4"], "size 4 is larger than the pool of 3"),
    (["--k", "0", "--sizes", "2"], "k=0"), (["--kind", "classes"], "--kind classes is for fitting LOGS"),
    (["--level", "1.5", "--sizes", "2"], "--level 1.5"), (["--draws", "1", "--sizes", "2"], "--draws 1"),
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
    with pytest.raises(MuxsimError, match="intervals='all'"):
        predicted_search(POP, [2], 3, intervals="all")


def test_votes_past_the_work_limit_are_left_out_with_a_note(fits, monkeypatch):
    """A subset whose exact vote is past the engine's work limit is NaN, left out of the ranking and named in
    the settings; its size is not proven; the others are ranked as usual (no exception ends the search)."""
    from muxsim.exact import engine as engine_mod

    f = fits["latent"]
    full = predicted_search(f, [2, 3], 2, method="vote", top=10, intervals="none")
    monkeypatch.setattr(engine_mod, "VOTE_MAX_WORK", 0.0)  # every vote is past the limit
    res = predicted_search(f, [2, 3], 2, method="vote", top=10, intervals="none")
    for s, n in zip(res.sizes, (6, 4)):  # every pair and triple of the 4 models
        assert not s.top and not s.proven and s.strategy == f"exhaustive; {n} not computed (vote work limit)"
    assert res.settings["not computed"].startswith("10 subset(s)") and "vote at k=2" in res.settings["not computed"]
    assert all(s.proven and "not computed" not in s.strategy for s in full.sizes)
    screened = predicted_search(fits["classes"], [2, 3], 2, method="vote", top=2, intervals="none", screen=2)
    for s in screened.sizes:  # ranked by the MUX (no limit there), the two rescored are past the vote's limit
        assert not s.top and s.strategy.endswith("the best 2 rescored; 2 not computed (vote work limit)")


def test_no_screen_scores_every_subset_with_the_fit_itself(fits, monkeypatch):
    """``screen=None``: a joint-dependent fit's (shrinkage) every subset is scored by the fit itself -- proven,
    the same ranking and values as rescoring all of them after the screen -- and the same in blocks through a
    mapper (blocks of 2 subsets here, merged in order)."""
    import muxsim.predicted as P
    from muxsim.scale import local_mapper

    f = fits["shrinkage"]
    full = predicted_search(f, [2, 3], 2, method="vote", top=10, intervals="none", screen=None)
    assert all(s.proven and s.strategy == "exhaustive" and s.scored == s.n_subsets for s in full.sizes)
    assert "screen" not in full.settings
    rescored = predicted_search(f, [2, 3], 2, method="vote", top=10, intervals="none", screen=10)
    assert full.to_dict()["top"] == rescored.to_dict()["top"]
    monkeypatch.setattr(P, "BLOCK", 2)  # (and TASKS = 8: blocks of 1 for the 6 pairs)
    blocks = predicted_search(f, [2, 3], 2, method="vote", top=10, intervals="none", screen=None, mapper=local_mapper)
    assert blocks.to_dict() == full.to_dict()
    emp = predicted_search(POP, [2], 2, top=6, intervals="none", mapper=local_mapper)
    assert emp.to_dict() == predicted_search(POP, [2], 2, top=6, intervals="none").to_dict()


def test_cli_screen_all_on_a_dask_localcluster_equals_the_in_process_run(small_table, tmp_path, capsys):
    pytest.importorskip("distributed")
    from muxsim.fit import fit, save

    p = tmp_path / "fit.json"
    save(fit(small_table.select(models=list(small_table.models[:3])), "shrinkage"), p)
    args = ["search", "--objective", "predicted", "--fit", str(p), "--sizes", "2", "--method", "vote", "--json",
            "--intervals", "none", "--screen", "all"]
    assert main(args) == 0
    plain = json.loads(capsys.readouterr().out)
    assert plain["best"][0]["models"] and "screen" not in plain.get("settings", {})
    assert main(args + ["--workers", "2"]) == 0
    assert json.loads(capsys.readouterr().out) == plain
    assert main(args[:-1] + ["0"]) == 2
    assert "--screen 0: give an integer >= 1 or 'all'" in capsys.readouterr().err
