"""Analysis and report pieces on a small synthetic log (no torch, no vLLM)."""

import json

import numpy as np
import pytest

from muxsim.logs.evaluate import answer_table
from muxsim.logs.format import Sample
from real_runs.testbed import analysis, report
from real_runs.testbed.tasks import TestbedError


def _samples(Q=12, K=6, seed=0):
    """Three models: 'hi' mostly right, 'mid' mixed, 'bad' often confidently wrong on a shared answer."""
    rng = np.random.default_rng(seed)
    out = []
    for q in range(Q):
        op = ("add", "sub", "mul")[q % 3]
        qid = f"arith/{op}/{q}_1"
        for name, p_right, p_attr in (("hi", 0.8, 0.1), ("mid", 0.5, 0.3), ("bad", 0.2, 0.7)):
            for j in range(K):
                u = rng.random()
                if u < p_right:
                    a = "7"
                elif u < p_right + (1 - p_right) * p_attr:
                    a = "99"
                elif rng.random() < 0.1:
                    a = None
                else:
                    a = str(100 + int(rng.integers(0, 1000)))
                out.append(Sample(qid, name, j, a, a == "7", reference="7"))
    return out


@pytest.fixture(scope="module")
def res():
    tab = answer_table(_samples(), ["mid", "bad", "hi"])
    return analysis.analyse(tab, m=3, k_max=3, select_k=2, chunk=5)


def test_split_orders_by_pilot_accuracy():
    tab = answer_table(_samples(), ["bad", "mid", "hi"])
    pilot, held = analysis.split(tab, 3)
    assert pilot.K == 3 and held.K == 3
    acc = pilot.accuracy()
    assert list(acc) == sorted(acc, reverse=True)
    with pytest.raises(TestbedError):
        analysis.split(tab, 6)
    with pytest.raises(TestbedError):
        analysis.split(tab, 0)


def test_analyse_covers_every_subset_and_method(res):
    assert len(res["subsets"]) == 7
    for sub in res["subsets"]:
        for meth in analysis.methods_for(sub):
            assert (sub, meth) in res["observed"] and (sub, meth) in res["predicted"]
            v = res["predicted"][(sub, meth)]
            assert v.shape == (3,) and np.all((v >= -1e-12) & (v <= 1 + 1e-12))
    for sub in res["subsets"]:
        if len(sub) == 1:
            assert np.all(res["observed"][(sub, "contradiction")][0] == 0)
    s = res["score"]
    # 3 singles x 3 methods + 4 multi-model subsets x 5 methods, each at k = 1..3
    assert s["exact"]["n"] == (3 * 3 + 4 * 5) * 3
    assert s["paper"]["n"] == s["exact_on_paper_methods"]["n"]
    # the other two fits predict every method too, the vote included
    assert s["latent"]["n"] == s["shrinkage"]["n"] == s["exact"]["n"]
    assert any(k[1] == "vote" for k in res["predicted_latent"])
    assert [r["size"] for r in res["selection"]["predicted_latent"]] == [1, 2, 3]


def test_chunked_prediction_equals_one_chunk():
    tab = answer_table(_samples(Q=6), ["hi", "mid"])
    pilot, _ = analysis.split(tab, 3)
    from muxsim.fit import fit_shrinkage

    fit = fit_shrinkage(pilot)
    subs = analysis.subsets(list(pilot.models))
    pop_of = lambda sub, qs: fit.population(sub, questions=qs)  # noqa: E731
    a = analysis.predict(pop_of, subs, [1, 2], chunk=2, n_questions=6)
    b = analysis.predict(pop_of, subs, [1, 2], chunk=100, n_questions=6)
    for key in a:
        np.testing.assert_allclose(a[key], b[key], atol=1e-12)


def test_observed_sc_matches_enumeration():
    # SC(1) on held-out pools is the held-out per-sample accuracy
    tab = answer_table(_samples(), ["hi", "mid", "bad"])
    _, held = analysis.split(tab, 3)
    obs = analysis.observe(held, [(m,) for m in held.models], [1])
    for i, m in enumerate(held.models):
        assert obs[((m,), "sc")][0][0] == pytest.approx(held.accuracy()[i])


def test_select_picks_max_objective():
    models = ["a", "b", "c"]
    vals = {}
    for sub in analysis.subsets(models):
        u = 0.3 + 0.1 * len(sub) + (0.05 if "c" in sub else 0)
        c = 0.2 if ("a" in sub and "b" in sub) else 0.0
        vals[(sub, "union")] = np.array([u, u])
        vals[(sub, "contradiction")] = np.array([c, c])
    rows = analysis.select(vals, models, [1, 2], 2, lam=1.0)
    assert [r["size"] for r in rows] == [1, 2, 3]
    assert rows[0]["best"] == ["c"]
    assert rows[1]["best"] in (["a", "c"], ["b", "c"]) and rows[1]["best"] == ["a", "c"]  # tie -> earlier subset
    assert rows[2]["objective"] == pytest.approx(0.6 + 0.05 - 0.2)
    with pytest.raises(TestbedError):
        analysis.select(vals, models, [1, 2], 5)


def test_mae_in_points():
    obs = {(("a",), "sc"): (np.array([0.5, 0.6]), np.zeros(2))}
    pred = {(("a",), "sc"): np.array([0.52, 0.57])}
    m = analysis.mae(obs, pred)
    assert m["mae"] == pytest.approx(2.5) and m["n"] == 2 and m["max"] == pytest.approx(3.0)
    assert m["by_method"]["sc"]["bias"] == pytest.approx(-0.5)
    assert np.isnan(analysis.mae(obs, {})["mae"])


def test_md_table():
    t = report.md_table(["a", "b"], [[1, "x|y"]])
    assert t.splitlines() == ["| a | b |", "|---|---|", "| 1 | x\\|y |"]
    with pytest.raises(ValueError):
        report.md_table(["a"], [[1, 2]])


def test_figures_results_markdown(res, tmp_path):
    pytest.importorskip("matplotlib")
    figs = report.figures(res, tmp_path / "figures", "test provenance line")
    assert [f.name for f in figs] == ["pred_vs_obs.png", "pool_curves.png", "sc_curves.png", "selection.png"]
    for f in figs:
        assert f.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert b"test provenance line" in f.read_bytes()  # PNG metadata
    extra = {"run_id": "r1", "config": {"temperature": 0.8}, "seeds": {"held_out": 0}, "provenance": {"versions": {}}}
    rj = report.results_json(res, extra)
    json.dumps(rj)
    full = "+".join(res["models"])
    assert rj["seeds"] == {"held_out": 0} and f"{full}|vote" in rj["predicted"]
    assert rj["fit"]["kind"] == "muxsim.fit/latent-class-1" and rj["shrinkage_fit"]["codes"] == "omitted"
    run = {"run_id": "r1", "config": {"temperature": 0.8}, "seeds": {"held_out": 0}, "provenance": {"versions": {}},
           "timings": {}, "pool": {m: {"cached": True, "training": {"member": {"hidden": 64, "layers": 2, "steps": 1},
                                                                     "parameters": 1, "train_s": 0.1}}
                                   for m in res["models"]}}
    md = report.markdown(res, run=run, figs=figs, per_op=report.per_op_table(_samples(), res["models"]), out=tmp_path)
    for section in ("## Headline", "## Models", "## Model selection", "## Provenance", "figures/pred_vs_obs.png"):
        assert section in md


def test_per_op_table():
    rows = report.per_op_table(_samples(), ["hi", "bad"])
    assert rows[0] == ["model", "add", "mul", "sub", "no answer"]
    assert [r[0] for r in rows[1:]] == ["hi", "bad"]
    assert float(rows[1][1]) > float(rows[2][1])
