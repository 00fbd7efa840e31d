"""The CLI functions (wired by the main CLI as muxsim evaluate / fit / predict) on a small log."""

import json

import numpy as np
import pytest

from muxsim.calibrate_cli import evaluate_main, fit_main, parse_ks, predict_fit_main
from muxsim.errors import MuxsimError
from muxsim.logs.format import Sample, write_samples


@pytest.fixture(scope="module")
def log(tmp_path_factory):
    rng = np.random.default_rng(0)
    out = []
    for q in range(30):
        hard = rng.random()
        for m, skill in (("a", 0.8), ("b", 0.5), ("c", 0.3)):
            for j in range(4):
                u = rng.random()
                p = skill * (1 - 0.6 * hard)
                ans = "R" if u < p else (None if u > 0.95 else rng.choice(["X", "Y"]))
                out.append(Sample(f"q{q}", m, j, ans, ans == "R" if ans is not None else False, reference="R"))
    path = tmp_path_factory.mktemp("logs") / "toy.jsonl"
    write_samples(path, out)
    return path


def test_evaluate_json(log, capsys):
    assert evaluate_main([str(log), "--k", "1-3", "--json", "--validation", "10"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["k"] == [1, 2, 3] and d["K"] == 4 and d["n_questions"] == 20
    assert d["models"][0] == "a"
    att = d["mux_attribution"]["per_k"]
    assert sum(v["selected_and_correct"] for v in att.values()) == pytest.approx(d["values"]["mux"][-1])


def test_plot_into_a_new_folder(log, tmp_path, capsys):
    """--plot creates the folder it writes into (make demo writes out/ in a fresh clone)."""
    png = tmp_path / "new" / "deeper" / "e.png"
    assert evaluate_main([str(log), "--k", "1-2", "--plot", str(png)]) == 0
    assert png.stat().st_size > 1000


def test_fit_and_predict(log, tmp_path, capsys):
    fit = tmp_path / "fit.json"
    assert fit_main([str(log), "--samples", "0:2", "-o", str(fit), "--json", "--kind", "latent"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d["goodness_of_fit"]["models"]) == {"a", "b", "c"}
    png = tmp_path / "p.png"
    rc = predict_fit_main([str(fit), "--k", "1-2", "--models", "a,b", "--methods", "mux,vote", "--json",
                           "--observed", str(log), "--observed-samples", "2:4", "--plot", str(png)])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d["predicted"]["values"]) >= {"mux", "vote"}
    assert d["observed"]["k"] == [1, 2]
    assert png.stat().st_size > 1000


@pytest.mark.parametrize("kind", ["classes", "shrinkage"])
def test_fit_kinds_save_load_and_predict(log, tmp_path, capsys, kind):
    """Every fit kind round-trips through FIT.json: predictions from the file equal those of the fit."""
    from muxsim.fit import evaluate_fit, load as load_fit

    fit = tmp_path / f"{kind}.json"
    assert fit_main([str(log), "--samples", "0:2", "-o", str(fit), "--kind", kind]) == 0
    capsys.readouterr()
    assert predict_fit_main([str(fit), "--k", "1-3", "--methods", "sc[a],mux,vote,union", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    again = evaluate_fit(load_fit(fit), [1, 2, 3], methods=["sc[a]", "mux", "vote", "union"], with_paper=False)
    for m in ("sc[a]", "mux", "vote", "union"):
        np.testing.assert_allclose(d["predicted"]["values"][m], again.values[m], atol=1e-12)


def test_bad_input_exits_2(log, tmp_path, capsys):
    assert evaluate_main([str(log), "--k", "5"]) == 2
    assert "k=5 is larger than the K=4" in capsys.readouterr().err
    assert evaluate_main([str(tmp_path / "missing.jsonl")]) == 2
    assert "no such file" in capsys.readouterr().err
    assert predict_fit_main([str(log), "--k", "1"]) == 2  # a log is not a fit
    assert "cannot read a fit" in capsys.readouterr().err
    with pytest.raises(MuxsimError):
        parse_ks("3-1")
    assert parse_ks("1-3,5") == [1, 2, 3, 5]


def test_predict_error_covers_only_the_predicted_methods(log, tmp_path, capsys):
    """The MAE line averages |predicted - observed| over sc/mux/vote/union/contradiction only.

    single[...] rows (one value repeated at every k) and paper_* rows (the paper's approximation on both
    sides) are left out and named; averaging them in, as before, gives a different number.
    """
    fit = tmp_path / "fit.json"
    assert fit_main([str(log), "--samples", "0:2", "-o", str(fit), "--kind", "shrinkage"]) == 0
    capsys.readouterr()
    argv = [str(fit), "--k", "1-2", "--models", "a,b", "--observed", str(log), "--observed-samples", "2:4"]
    assert predict_fit_main(argv + ["--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    pred, obs = d["predicted"]["values"], d["observed"]["values"]
    real = ["sc[a]", "sc[b]", "mux", "mux_valid", "vote", "union", "contradiction"]
    want = np.mean([abs(p - o) for m in real for p, o in zip(pred[m], obs[m])])
    every = np.mean([abs(p - o) for m in obs if m in pred for p, o in zip(pred[m], obs[m])])
    assert round(100 * want, 2) != round(100 * every, 2)  # the old line's number differs
    assert d["error"]["methods"] == real and d["error"]["mae"] == pytest.approx(want, abs=1e-12)
    assert predict_fit_main(argv) == 0
    line = [x for x in capsys.readouterr().out.splitlines() if x.startswith("mean absolute error")]
    assert line == [f"mean absolute error: {100 * want:.2f} points over 14 values ({', '.join(real)} at k=1,2); "
                    "left out: single[a], single[b], paper_mux, paper_vote (single: constant in k; paper_*: not the "
                    "fit's prediction)"]


def test_prediction_error_rejects_mismatch():
    from muxsim.compare import prediction_error
    from muxsim.population import Curves

    a = Curves(np.array([1, 2]), {"single[a]": np.zeros(2)}, {}, "x", ("a",))
    with pytest.raises(MuxsimError, match="no method to compare"):
        prediction_error(a, a)
    b = Curves(np.array([1]), {"mux": np.zeros(1)}, {}, "x", ("a",))
    with pytest.raises(MuxsimError, match=r"predicted k=\[1, 2\] and observed k=\[1\] differ"):
        prediction_error(a, b)


def test_predict_compares_on_the_questions_both_hold(log, tmp_path, capsys):
    """A fit of the logged questions, observed logs that lost a question: both sides cut to the shared questions."""
    from muxsim.calibrate import evaluate_fit, load_fit
    from muxsim.logs.format import read_samples
    from muxsim.population import evaluate

    fit = tmp_path / "fit.json"
    assert fit_main([str(log), "--samples", "0:2", "-o", str(fit), "--kind", "shrinkage"]) == 0
    held = tmp_path / "held.jsonl"
    write_samples(held, [s for s in read_samples(log) if not (s.question_id == "q0" and s.model == "b")])
    capsys.readouterr()
    meths = ["sc[a]", "mux", "vote", "union"]
    argv = [str(fit), "--k", "1-2", "--models", "a,b", "--methods", ",".join(meths), "--json",
            "--observed", str(held), "--observed-samples", "2:4"]
    assert predict_fit_main(argv) == 2
    assert "model 'b' has no samples on question 'q0'" in capsys.readouterr().err
    assert predict_fit_main(argv + ["--common-questions"]) == 0
    out = capsys.readouterr()
    assert out.err.strip().splitlines()[-1] == ("muxsim: predicted and observed compared on the 29 questions both hold: "
                                                "1 of the fit's 30 not observed (e.g. 'q0'), 0 observed not in the fit")
    d = json.loads(out.out)
    f = load_fit(fit)
    full = evaluate_fit(f, [1, 2], models=["a", "b"], methods=meths, with_paper=False)
    j = list(f.question_ids).index("q0")
    for m in meths:  # the mean over the 29 shared questions (SC of a from a's own population, as for every fit)
        q0 = evaluate(f.population(["a"] if m == "sc[a]" else ["a", "b"], questions=[j]), [1, 2], methods=[m],
                      with_paper=False)
        np.testing.assert_allclose(d["predicted"]["values"][m], (30 * full.values[m] - q0.values[m]) / 29, atol=1e-12)
