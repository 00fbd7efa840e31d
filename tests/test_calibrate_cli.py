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
    assert fit_main([str(log), "--samples", "0:2", "-o", str(fit), "--json"]) == 0
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
