"""Mixtures of fits (``kind="auto"``, the default): exact weighted expectations, intervals from the
mixture, files, stacking weights from the pilot alone, and every consumer (search, scaling, plan) on
a mixture; the screened search of a joint-dependent fit (shrinkage) rescores exactly."""

import json

import numpy as np
import pytest

from muxsim.errors import MuxsimError
from muxsim.fit import MixtureFit, fit, load, save
from muxsim.fit.auto import stacking_weights
from muxsim.predicted import predicted_search
from muxsim.subset_eval import SubsetEvaluator
from tests.test_calibrate import TRUE, synthetic

METHODS = ["mux", "vote", "union", "contradiction"]


@pytest.fixture(scope="module")
def parts():
    _, table = synthetic(Q=30, m=3, seed=4, params=TRUE)
    latent = fit(table, "latent")
    classes = fit(table, "classes", n_classes=(1, 2), starts=1)
    shrink = fit(table, "shrinkage", nodes=3, max_labels=2)
    return table, latent, classes, shrink


def test_mixture_predicts_the_weighted_expectation_exactly(parts):
    table, latent, classes, shrink = parts
    w = np.array([0.25, 0.35, 0.4])
    mix = MixtureFit((latent, classes, shrink), w)
    sel = list(table.models[:2])
    got = mix.predict([1, 3], models=sel, methods=METHODS + [f"sc[{sel[0]}]"], level=None)
    for m in METHODS + [f"sc[{sel[0]}]"]:
        want = sum(wj * f.predict([1, 3], models=sel, methods=[m], level=None).values[m]
                   for wj, f in zip(w, (latent, classes, shrink)))
        np.testing.assert_allclose(got.values[m], want, atol=1e-12, err_msg=m)
    # the same numbers through the population (scaling's k curve) and the subset evaluator (search, plan)
    from muxsim.scaling import k_curve

    kc = k_curve(mix.population(sel), [1, 3], models=sel, methods=["mux", "union"])
    np.testing.assert_allclose(kc.values["mux"], got.values["mux"], atol=1e-12)
    ev = SubsetEvaluator(mix, list(table.models), 3)
    v, _ = ev.values([((0, 1), (3, 3))], "vote", union=True)
    np.testing.assert_allclose(v[0], [got.values["vote"][1], got.values["union"][1], got.values["contradiction"][1]],
                               atol=1e-12)


def test_mixture_intervals_hold_the_point_and_draw_from_every_component(parts):
    table, latent, classes, _ = parts
    mix = MixtureFit((latent, classes), np.array([0.5, 0.5]))
    p = mix.predict([1, 3], models=list(table.models[:2]), methods=["mux", "union"], draws=16, seed=3)
    for m in ("mux", "union"):
        ci = p.conf_int(m)
        assert np.all(ci[:, 0] <= p.values[m] + 1e-12) and np.all(p.values[m] <= ci[:, 1] + 1e-12)
    rng = np.random.default_rng(0)
    shapes = {mix.draw_laws(list(table.models[:2]), rng).shape for _ in range(30)}
    assert len(shapes) == 2  # the latent fit draws fresh questions, the classes the pilot's: both appear
    with pytest.raises(MuxsimError, match="sum to 1"):
        MixtureFit((latent, classes), np.array([0.5, 0.6]))
    with pytest.raises(MuxsimError, match="one weight per component"):
        MixtureFit((latent, classes), np.array([1.0]))


def test_mixture_file_round_trips(parts, tmp_path):
    table, latent, classes, shrink = parts
    mix = MixtureFit((latent, shrink), np.array([0.6, 0.4]), ["shrinkage: a note"])
    save(mix, tmp_path / "m.json")
    back = load(tmp_path / "m.json")
    assert isinstance(back, MixtureFit) and back.diagnostics == ["shrinkage: a note"]
    sel = list(table.models[:2])
    a = mix.predict([2], models=sel, methods=["mux", "vote"], level=None)
    b = back.predict([2], models=sel, methods=["mux", "vote"], level=None)
    for m in ("mux", "vote"):
        np.testing.assert_allclose(a.values[m], b.values[m], atol=1e-12)
    d = json.loads((tmp_path / "m.json").read_text())
    d["components"][0]["kind"] = "nonsense"
    (tmp_path / "bad.json").write_text(json.dumps(d))
    with pytest.raises(MuxsimError, match="mixture component 0"):
        load(tmp_path / "bad.json")


def test_stacking_weights_recover_a_known_blend_and_prefer_fewer_components():
    rng = np.random.default_rng(0)
    a, b, c = rng.random(200), rng.random(200), rng.random(200)
    w = stacking_weights({"a": a, "b": b, "c": c}, 0.3 * a + 0.7 * b)
    assert w == pytest.approx({"a": 0.3, "b": 0.7, "c": 0.0})
    assert stacking_weights({"a": a, "b": b}, b) == {"a": 0.0, "b": 1.0}
    assert stacking_weights({"a": a, "b": a.copy()}, a) == {"a": 1.0, "b": 0.0}  # a tie: the first, alone


def test_auto_is_the_default_mixes_by_the_pilot_and_records_why(tmp_path):
    _, table = synthetic(Q=30, m=3, seed=2, params=TRUE[:2])
    opts = {"classes": {"n_classes": (1, 2), "starts": 1}, "shrinkage": {"nodes": 2}}
    f = fit(table, options=opts, max_pairs=1)  # kind="auto" by default
    sel = f.selection
    assert set(sel["weights"]) == {"latent", "classes", "shrinkage"}
    assert sum(sel["weights"].values()) == pytest.approx(1.0)
    used = [k for k, w in sel["weights"].items() if w > 0]
    assert sel["chosen"] == "+".join(used)
    if len(used) > 1:
        assert isinstance(f, MixtureFit) and len(f.components) == len(used)
        np.testing.assert_allclose(f.weights, [sel["weights"][k] for k in used])
    # the weighted CV error is no worse than the best single family's (the grid holds every vertex)
    assert sel["mixed_cv_mae_points"] <= min(sel["cv_mae_points"].values()) + 1e-9
    assert any(d.startswith("auto: ") for d in f.diagnostics)
    save(f, tmp_path / "auto.json")
    assert load(tmp_path / "auto.json").selection == sel


def test_auto_does_not_depend_on_the_order_of_the_models():
    """The criterion is built on the models by pilot accuracy (ties by name), every pair by default: the same
    weights and scores whichever order the table lists the models in; ``max_pairs`` spreads over the pairs."""
    from muxsim.fit.auto import _targets, canonical_order

    _, table = synthetic(Q=30, m=3, seed=5, params=TRUE)
    opts = {"classes": {"n_classes": (1, 2), "starts": 1}, "shrinkage": {"nodes": 2}}
    a = fit(table, options=opts).selection
    b = fit(table.select(list(table.models)[::-1]), options=opts).selection
    assert a["weights"] == b["weights"]
    for part in ("cv_mae_points", "loo_k1_mae_points", "ppc_mae_points"):  # equal up to the optimisers' tolerance
        for k in a[part]:
            assert a[part][k] == pytest.approx(b[part][k], abs=1e-3), (part, k)
    order = canonical_order(table)
    acc = dict(zip(table.models, table.accuracy()))
    assert all(acc[x] >= acc[y] for x, y in zip(order, order[1:]))
    pairs = [tuple(sel) for sel, meths in _targets(table, None) if len(sel) == 2]
    assert len(pairs) == 3 and [tuple(sel) for sel, _ in _targets(table, 2) if len(sel) == 2] == [pairs[0], pairs[2]]
    assert not [sel for sel, _ in _targets(table, 0) if len(sel) == 2]
    with pytest.raises(MuxsimError, match="max_pairs"):
        fit(table, max_pairs=-1)


def test_cli_fit_defaults_to_auto(tmp_path, capsys):
    from muxsim.calibrate_cli import fit_main, predict_fit_main
    from tests.tiny_logs import write_tiny_log

    log = write_tiny_log(tmp_path / "s.jsonl", {"a": 0.8, "b": 0.5}, questions=16, seed=1)
    fp = tmp_path / "f.json"
    assert fit_main([str(log), "-o", str(fp), "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert "selection" in d["fit"] and "weights" in d["fit"]["selection"]
    assert any(x.startswith("auto: ") for x in d["diagnostics"])
    assert predict_fit_main([str(fp), "--k", "1-2", "--methods", "mux", "--draws", "4", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)["predicted"]
    assert all(lo <= v <= hi for lo, v, hi in zip(p["lower"]["mux"], p["values"]["mux"], p["upper"]["mux"]))


def test_predicted_search_on_a_mixture_and_screened_search_of_a_joint_dependent_fit(parts):
    table, latent, _, shrink = parts
    assert shrink.joint_dependent and not shrink.pool_form().joint_dependent
    mix = MixtureFit((latent, shrink), np.array([0.5, 0.5]))
    for src in (shrink, mix):
        res = predicted_search(src, [2, 3], 2, method="vote", top=1, intervals="none", screen=1)
        assert res.sizes[0].n_subsets == 3 and not res.sizes[0].proven  # the pairs are screened
        for s in res.sizes:
            assert s.scored == 1  # max(screen, top) rescored
            if s.scored < s.n_subsets:
                assert not s.proven and s.strategy.startswith("screened")
            else:  # every subset rescored: the fit's own ranking
                assert s.proven and s.strategy == "exhaustive"
            for row in s.top:  # the reported values are the fit's own, exactly
                sel = [res.models[i] for i in row.idx]
                p = src.predict([2], models=sel, methods=["vote", "union"], level=None)
                assert row.objective == pytest.approx(float(p.values["vote"][0]), abs=1e-12)
                assert row.union == pytest.approx(float(p.values["union"][0]), abs=1e-12)
        assert "screen" in res.settings
    # screening everything ranks exactly as scoring every subset with the fit itself
    full = predicted_search(shrink, [2], 2, method="mux", top=10, intervals="none", screen=10**6)
    ev = SubsetEvaluator(shrink, list(full.models), 2)
    import itertools

    vals = {c: ev.values([(c, (2, 2))], "mux")[0][0, 0] for c in itertools.combinations(range(len(full.models)), 2)}
    assert [r.idx for r in full.sizes[0].top][:3] == sorted(vals, key=lambda c: -vals[c])[:3]
    with pytest.raises(MuxsimError, match="screen"):
        predicted_search(shrink, [2], 2, screen=0)


class _LawFit:
    """A stand-in fit that predicts from given per-question laws (for auto's predictive check)."""

    def __init__(self, questions, models):
        from muxsim.population import Empirical

        self.pop = Empirical(questions, models)

    def predict(self, ks, *, models, methods, level=None, with_paper=False):
        from muxsim.population import evaluate

        return evaluate(self.pop, ks, models=models, methods=methods, with_paper=False)


def test_auto_predictive_check_sees_the_repeats_that_k1_cannot():
    """Pilots drawn from known laws: the true laws' fresh-draw predictions at k = 2, 3 match the pilot's own
    values (exchangeability), while laws with the same single-draw accuracies but no repeated wrong answer
    (all wrong mass fresh) miss; at k = 1 both are the same law."""
    from muxsim.fit.auto import ppc_predictions
    from muxsim.laws import AnswerLaw
    from muxsim.logs.evaluate import AnswerTable

    rng = np.random.default_rng(7)
    Q, n, m = 600, 2, 3
    pc = rng.uniform(0.1, 0.9, (Q, n))
    rep = rng.uniform(0.5, 1.0, (Q, n))  # share of the wrong mass on the one shared wrong answer
    true = [[AnswerLaw(pc[q, i], {"X": (1 - pc[q, i]) * rep[q, i]}, (1 - pc[q, i]) * (1 - rep[q, i]))
             for i in range(n)] for q in range(Q)]
    fresh = [[AnswerLaw(pc[q, i], {}, 1 - pc[q, i]) for i in range(n)] for q in range(Q)]
    codes = np.zeros((Q, n, m), dtype=np.int64)
    labels = []
    for q in range(Q):
        nxt = 2
        for i in range(n):
            for j in range(m):
                u = rng.random()
                if u < pc[q, i]:
                    codes[q, i, j] = 0
                elif u < pc[q, i] + (1 - pc[q, i]) * rep[q, i]:
                    codes[q, i, j] = 1
                else:
                    codes[q, i, j], nxt = nxt, nxt + 1
        labels.append(tuple(["X"] + [f"t{c}" for c in range(2, nxt)]))
    table = AnswerTable(tuple(f"q{q}" for q in range(Q)), ("a", "b"), codes, tuple(labels))
    fits = {"true": _LawFit(true, ("a", "b")), "fresh": _LawFit(fresh, ("a", "b"))}
    pred, obs = ppc_predictions(table, fits, max_pairs=1)
    assert len(obs) == 2 * (n + 4)  # k = 2, 3 x (SC of each model; MUX, vote, union, contradiction of the pair)
    err = {k: 100 * np.abs(v - obs) for k, v in pred.items()}
    assert err["true"].mean() < 1.5  # within the pilot's sampling noise (600 questions)
    assert err["fresh"].mean() > 3 * err["true"].mean()
    assert err["fresh"].max() > 10  # e.g. the contradiction: never with fresh wrong answers
