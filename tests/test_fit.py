"""The muxsim.fit package: one interface for the three fits, predictions with intervals, diagnostics
(parameters at a bound, NaNs, fallbacks) in the summary and the saved file, fit files versioned, and two
regressions of issue 9 item 5 (a shrinkage model's own SC moving with the other models of the call; a
scipy ibeta root-finding warning from the latent fit)."""

import json
import warnings

import numpy as np
import pytest
from scipy.stats import beta as beta_dist
from scipy.stats import norm

from muxsim import evaluate
from muxsim.errors import MuxsimError
from muxsim.fit import Fit, Prediction, fit, fit_classes, fit_latent, fit_shrinkage, goodness_of_fit, load, save
from muxsim.laws import AnswerLaw
from muxsim.logs.evaluate import AnswerTable
from muxsim.population import Empirical, ModelParams, beta_quantile_z
from tests.test_calibrate import TRUE, synthetic


def _table(codes):
    Q, n, _ = codes.shape
    return AnswerTable(tuple(f"q{q}" for q in range(Q)), tuple(f"m{i}" for i in range(n)), codes,
                       tuple(() for _ in range(Q)))


def _step_table(seed, Q=150, m=12, n=2, spread=(0.02, 0.02), unique_wrong=False):
    """Questions a model (nearly) always or never gets right: Beta(a, b) with a, b << 1 or >> 1."""
    rng = np.random.default_rng(seed)
    codes = np.zeros((Q, n, m), dtype=np.int64)
    fresh = 10
    for q in range(Q):
        for i in range(n):
            p = rng.beta(*spread)
            for j in range(m):
                if rng.random() < p:
                    codes[q, i, j] = 0
                elif unique_wrong:
                    fresh += 1
                    codes[q, i, j] = fresh
                else:
                    codes[q, i, j] = 1 + rng.integers(0, 3)
    return _table(codes)


# --- issue 9 item 5 (a): a model's own prediction does not depend on the other models of the call ---------


def test_shrinkage_sc_of_one_model_does_not_move_with_the_other_models():
    _, table = synthetic(Q=60, m=3, seed=5)
    f = fit_shrinkage(table, nodes=4)
    ks = [1, 3]
    alone = f.predict(ks, models=["strong"], methods=["sc[strong]", "single[strong]"], level=None)
    for others in (["weak"], ["mid"], ["weak", "mid"]):
        sel = ["strong"] + others
        with_others = f.predict(ks, models=sel, methods=["sc[strong]", "single[strong]", "mux"], level=None)
        for m in ("sc[strong]", "single[strong]"):
            np.testing.assert_allclose(with_others.values[m], alone.values[m], atol=1e-12, err_msg=f"{m} with {sel}")
    # the joint population itself does depend on the selection (cross-model prior): the fix is in the prediction
    a, _, _ = f.posteriors(["strong"])
    b, _, _ = f.posteriors(["strong", "weak"])
    assert not np.allclose(a[:, 0], b[:, 0])


# --- issue 9 item 5 (b): no scipy ibeta warning from the latent fit ----------------------------------------


@pytest.mark.parametrize("a, b", [(1e-3, 1e-3), (9e-4, 0.3), (400.0, 6.0), (6.0, 400.0), (1.0, 1.0), (0.05, 0.01),
                                  (1e-4, 1e-6)])  # the last: the tail expansion overflows away from the tail
def test_beta_quantile_z_is_the_quantile_without_cancellation(a, b):
    z = np.linspace(-9, 9, 721)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        p = beta_quantile_z(z, a, b)
    assert np.all((p >= 0) & (p <= 1)) and np.all(np.diff(p) >= -1e-15)
    low = z <= 0  # where Phi(z) is accurate, it is scipy's quantile
    np.testing.assert_allclose(p[low], beta_dist.ppf(norm.cdf(z[low]), a, b), rtol=1e-9, atol=1e-300)
    # upper half: the tail s = Phi(-z) is inverted directly, so the Beta upper tail at p gives s back
    hi = (z > 0) & (p > 1e-6) & (p < 1 - 1e-6)
    s = beta_dist.sf(p[hi], a, b)
    np.testing.assert_allclose(s, norm.sf(z[hi]), rtol=1e-5)


def test_latent_fit_on_step_like_accuracy_emits_no_runtime_warning():
    """a, b << 1 (and >> 1) put the Beta quantile at probabilities within 1e-13 of 1, where scipy's ibeta
    inversion can fail to converge and warn; the fit and its goodness of fit must stay silent."""
    for seed, spread in ((0, (0.02, 0.02)), (4, (5.0, 300.0))):
        table = _step_table(seed, spread=spread)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            f = fit_latent(table)
            goodness_of_fit(f, table)
            evaluate(f.population(), [1, 3], methods=["mux", "vote"], with_paper=False)


# --- the one interface ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fits():
    _, table = synthetic(Q=40, m=3, seed=2, params=TRUE[:2])
    opts = {"latent": {}, "classes": {"n_classes": (1, 2), "starts": 1}, "shrinkage": {"nodes": 4}}
    return table, {k: fit(table, k, **o) for k, o in opts.items()}


@pytest.mark.parametrize("kind", ["latent", "classes", "shrinkage"])
def test_fit_predict_carries_intervals_and_round_trips(fits, tmp_path, kind):
    table, fs = fits
    f = fs[kind]
    assert isinstance(f, Fit)
    pred = f.predict([1, 3], methods=["sc[strong]", "mux", "vote", "union"], draws=12, seed=1)
    assert isinstance(pred, Prediction) and pred.level == 0.9 and pred.interval_draws == 12
    for m in ("sc[strong]", "mux", "vote", "union"):
        ci = pred.conf_int(m)
        assert np.all(ci[:, 0] <= pred.values[m] + 1e-12) and np.all(pred.values[m] <= ci[:, 1] + 1e-12)
        assert np.all(ci[:, 1] - ci[:, 0] > 0) and np.all((ci >= 0) & (ci <= 1))
    again = f.predict([1, 3], methods=["sc[strong]", "mux", "vote", "union"], draws=12, seed=1)
    for m in pred.values:
        np.testing.assert_array_equal(pred.lower[m], again.lower[m])  # seeded draws reproduce
    d = pred.to_dict()
    assert set(d["lower"]) == set(d["values"]) - {"paper_mux", "paper_vote"} or set(d["lower"]) <= set(d["values"])
    save(f, tmp_path / "f.json")
    back = load(tmp_path / "f.json")
    assert type(back) is type(f) and back.diagnostics == f.diagnostics
    saved = json.loads((tmp_path / "f.json").read_text())
    assert saved["format"] == 2 and "diagnostics" in saved
    p2 = back.predict([1, 3], methods=["mux"], level=None)
    np.testing.assert_allclose(p2.values["mux"], pred.values["mux"], atol=1e-12)
    assert "diagnostics" in f.summary()


def test_interval_covers_the_truth_of_the_pilot_questions():
    """Latent classes fitted on a pilot drawn from known laws: the 90% interval of each method and k
    should hold the exact accuracy of those questions under the true laws most of the time."""
    W, table = synthetic(Q=150, m=4, seed=11, params=TRUE[:2])
    truth = Empirical([[AnswerLaw(w[0], {f"x{j}": v for j, v in enumerate(w[1:-2]) if v > 0}, w[-2], w[-1])
                        for w in row] for row in W], ("strong", "weak"))
    meths = ["sc[strong]", "sc[weak]", "mux", "vote", "union"]
    ks = [1, 3, 5]
    want = evaluate(truth, ks, methods=meths, with_paper=False)
    pred = fit_classes(table, starts=2).predict(ks, methods=meths, draws=30, with_paper=False)
    inside = [pred.lower[m][j] - 0.005 <= want.values[m][j] <= pred.upper[m][j] + 0.005 for m in meths
              for j in range(len(ks))]
    assert np.mean(inside) >= 0.7, inside


def test_fit_kind_and_predict_arguments_are_checked(fits):
    table, fs = fits
    with pytest.raises(MuxsimError, match="kind='nope'"):
        fit(table, "nope")
    f = fs["latent"]
    with pytest.raises(MuxsimError, match="level"):
        f.predict([1], level=1.5)
    with pytest.raises(MuxsimError, match="draws"):
        f.predict([1], draws=1)
    with pytest.raises(MuxsimError, match="not in the fit"):
        f.predict([1], models=["nobody"])
    with pytest.raises(MuxsimError, match="not in the prediction"):
        f.predict([1], methods=["mux"], level=None).conf_int("vote")


# --- diagnostics: bounds, NaNs, fallbacks ------------------------------------------------------------------


def test_latent_fit_reports_parameters_at_a_bound_and_nan_share():
    f = fit_latent(_step_table(5, Q=100, m=8, spread=(0.002, 0.002)))  # a, b << 1: log a or b at the bound -7
    assert any("lower bound (log scale value -7, bound -7)" in d for d in f.diagnostics), f.diagnostics
    assert any("abstain at its bound" in d for d in f.diagnostics)
    g = fit_latent(_step_table(1, Q=60, m=4, spread=(1.0, 1.0), unique_wrong=True))  # no wrong answer repeats
    assert any("share is NaN" in d for d in g.diagnostics), g.diagnostics
    assert "share is NaN" in g.summary()


def test_latent_fit_reports_optimiser_starts_that_disagree_and_no_convergence(monkeypatch):
    """The loadings' two starts ending apart in log-likelihood, or an optimiser that stops unconverged, is in the
    diagnostics (here forced: the second start's end made worse by 1, a stage-1 run marked unconverged)."""
    import muxsim.fit.latent as latent_mod

    table = _step_table(2, Q=60, m=4, n=3, spread=(1.0, 1.0))
    assert not any("optimiser" in d and "bound" not in d for d in fit_latent(table).diagnostics)
    real = latent_mod.optimize.minimize

    def worse(f, x0, **kw):
        r = real(f, x0, **kw)
        if kw["bounds"][0] == (-8, 8) and x0[0] == 2.2:  # the loadings' second start
            r.fun += 1.0
        elif kw["bounds"][0] != (-8, 8):
            r.success, r.message = False, "ABNORMAL"
        return r

    monkeypatch.setattr(latent_mod.optimize, "minimize", worse)
    d = fit_latent(table).diagnostics
    assert any("two starts end 1.00 apart in log-likelihood" in x for x in d), d
    assert any("m0: the optimiser stopped without converging (ABNORMAL)" in x for x in d), d


def test_classes_and_shrinkage_report_fallbacks():
    table = _step_table(1, Q=60, m=4, spread=(1.0, 1.0), unique_wrong=True)
    c = fit_classes(table, n_classes=(1, 2), starts=1)
    assert any("share is NaN" in d for d in c.diagnostics), c.diagnostics
    s = fit_shrinkage(table, nodes=2)
    # only fresh wrong answers: the urn's fresh-answer weight tau runs to its bound
    assert any("urn tau" in d and "bound" in d for d in s.diagnostics), s.diagnostics


def test_unsupported_labels_cost_nothing():
    """Labels below min_label_share of every model's wrong mass join the tail: fewer label columns."""
    _, table = synthetic(Q=30, m=3, seed=3)
    keep_all = fit_shrinkage(table, nodes=2, min_label_share=0.0)
    pruned = fit_shrinkage(table, nodes=2, min_label_share=0.3)
    w_all, _ = keep_all.population().weights()
    w_pr, _ = pruned.population().weights()
    used = lambda w: int((w[:, :, 1:-2].max(axis=(0, 1)) > 0).sum())  # noqa: E731
    assert used(w_pr) < used(w_all)


# --- fit files ----------------------------------------------------------------------------------------------


def test_format_1_files_load_and_newer_formats_are_refused(fits, tmp_path):
    _, fs = fits
    for kind, f in fs.items():
        d = f.to_dict()
        d.pop("format")
        d.pop("diagnostics")
        d.pop("min_label_share", None)
        p = tmp_path / f"{kind}-v1.json"
        p.write_text(json.dumps(d))
        back = load(p)
        assert back.diagnostics == []
        d["format"] = 99
        p.write_text(json.dumps(d))
        with pytest.raises(MuxsimError, match="format 99 is newer"):
            load(p)


def test_old_import_paths_still_work():
    from muxsim.calibrate import evaluate_fit, fit_latent as fl, load_fit, save_fit  # noqa: F401
    from muxsim.latent_class import ClassFit, fit_classes as fc  # noqa: F401

    assert fl is fit_latent and fc is fit_classes


# --- kind="auto" ----------------------------------------------------------------------------------------------


def test_auto_chooses_by_the_pilot_alone_and_records_why(tmp_path):
    _, table = synthetic(Q=30, m=3, seed=2, params=TRUE[:2])
    f = fit(table, "auto", kinds=("latent", "shrinkage"), options={"shrinkage": {"nodes": 2}}, max_pairs=1, mix=False)
    sel = f.selection
    assert set(sel["cv_mae_points"]) == {"latent", "shrinkage"}
    assert sel["chosen"] == min(sel["cv_mae_points"], key=sel["cv_mae_points"].get)
    assert f.kind == {"latent": "muxsim.fit/latent-1", "classes": "muxsim.fit/latent-class-1",
                      "shrinkage": "muxsim.fit/shrinkage-1"}[sel["chosen"]]
    assert any(d.startswith("auto: chose") for d in f.diagnostics)
    save(f, tmp_path / "auto.json")
    assert load(tmp_path / "auto.json").selection == sel
    # the criterion uses the pilot only: the same table gives the same scores
    from muxsim.fit.auto import cv_scores

    again = cv_scores(table, ["latent"], max_pairs=1)
    assert again["latent"] == pytest.approx(sel["cv_mae_points"]["latent"])
    with pytest.raises(MuxsimError, match="at least 2 samples"):
        fit(table.select(samples=[0]), "auto")


def test_cli_fit_reports_diagnostics_and_predict_prints_intervals(tmp_path, capsys):
    from muxsim.calibrate_cli import fit_main, predict_fit_main
    from tests.tiny_logs import write_tiny_log

    log = write_tiny_log(tmp_path / "u.jsonl", {"a": 0.8, "b": 0.4}, wrong="unique")  # no wrong answer repeats
    fp = tmp_path / "f.json"
    assert fit_main([str(log), "-o", str(fp), "--json", "--kind", "latent"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert any("share is NaN" in x for x in d["diagnostics"])  # no wrong answer ever repeats
    assert fit_main([str(log), "-o", str(fp), "--kind", "latent"]) == 0
    assert "! shared attractor share is NaN" in capsys.readouterr().out
    assert predict_fit_main([str(fp), "--k", "1-2", "--methods", "mux,union", "--draws", "4", "--json"]) == 0
    p = json.loads(capsys.readouterr().out)["predicted"]
    assert p["level"] == 0.9 and set(p["lower"]) == {"mux", "union"}
    assert all(lo <= v <= hi for lo, v, hi in zip(p["lower"]["mux"], p["values"]["mux"], p["upper"]["mux"]))
    assert predict_fit_main([str(fp), "--k", "1", "--level", "1.5"]) == 2
    assert "--level 1.5" in capsys.readouterr().err


def test_shrinkage_interval_draws_refit_the_priors():
    """The identity resample reproduces the fit's posteriors; a bootstrap resample refits the priors."""
    _, table = synthetic(Q=40, m=3, seed=5)
    f = fit_shrinkage(table, nodes=2)
    for sel in (["strong"], ["strong", "weak"], list(f.models)):
        same = f.posteriors(sel, boot=tuple(range(40)))
        for x, y in zip(same, f.posteriors(sel)):
            np.testing.assert_allclose(x, y, rtol=1e-9, atol=1e-12)
    other = f.posteriors(["strong"], boot=tuple(np.random.default_rng(1).integers(0, 40, 40)))
    assert not np.allclose(other[0], f.posteriors(["strong"])[0])
