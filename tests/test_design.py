"""muxsim design: the paired-design sample size against a simulated McNemar test, the k curve's stopping
point, the pilot-value simulation, bad configurations, and the CLI (JSON, plots, exit 2)."""

import json

import numpy as np
import pytest

from muxsim.design import Config, k_curve, paired_questions, pilot_value
from muxsim.design_cli import design_main
from muxsim.errors import MuxsimError
from muxsim.fit import fit
from tests.test_calibrate import TRUE, synthetic


class FixedLaws:
    """A stand-in fit whose every draw is the same laws: Q copies of A = (.7 correct, .3 on X) and
    B = (.2 correct, .8 on Y)."""

    models = ("A", "B")

    def draw_laws(self, models, rng):
        W = np.zeros((4, 2, 5))
        W[:, 0, [0, 1]] = [0.7, 0.3]
        W[:, 1, [0, 2]] = [0.2, 0.8]
        return W[:, [self.models.index(m) for m in models]]


def test_paired_questions_gives_the_power_asked_for():
    a, b = Config("sc", ("A",), 3), Config("sc", ("B",), 3)
    res = paired_questions(FixedLaws(), a, b, draws=2)
    x, y = 0.784, 0.104  # SC(3) of A and B (SEMANTICS worked example)
    assert res["accuracy_a"] == pytest.approx(x) and res["accuracy_b"] == pytest.approx(y)
    assert res["p10"] == pytest.approx(x * (1 - y)) and res["p01"] == pytest.approx((1 - x) * y)
    # a smaller difference (fixed discordance) needs more questions; simulate McNemar's test at that n
    res = paired_questions(FixedLaws(), a, b, delta=0.05, draws=2, power=0.8)
    n = res["n_needed"]
    p10 = (res["p10"] + res["p01"] + 0.05) / 2
    p01 = p10 - 0.05
    rng = np.random.default_rng(0)
    cells = rng.multinomial(n, [p10, p01, 1 - p10 - p01], size=4000)
    stat = np.abs(cells[:, 0] - cells[:, 1]) / np.sqrt(np.maximum(cells[:, 0] + cells[:, 1], 1))
    power = np.mean(stat > 1.959964)
    assert abs(power - 0.8) < 0.03, (n, power)
    assert paired_questions(FixedLaws(), a, a, draws=2)["n_needed"] == float("inf")


def test_k_curve_stops_where_gains_fall_below_threshold():
    _, table = synthetic(Q=30, m=3, seed=2, params=TRUE[:2])
    f = fit(table, "latent")
    c = k_curve(f, "sc", ["strong"], 7, threshold=0.01, draws=4)
    gains = np.diff(c["value"])
    assert c["k_stop"] == next(k for k, g in zip(c["k"], gains) if g < 0.01)
    assert all(lo <= v <= hi for lo, v, hi in zip(c["lower"], c["value"], c["upper"]))


def test_pilot_value_reports_one_width_per_pilot_size():
    _, table = synthetic(Q=30, m=3, seed=2, params=TRUE[:2])
    f = fit(table, "shrinkage", nodes=2)
    res = pilot_value(f, 3, Config("sc", ("strong",), 3), [0, 4], reps=2, draws=4)
    assert [r["pilot_samples"] for r in res["by_pilot"]] == [3, 7]
    assert all(r["mean_width"] > 0 for r in res["by_pilot"])


@pytest.mark.parametrize("text, match", [
    ("mux:a,b", "METHOD:MODEL"), ("mux:a,b:x", "not an integer"), ("mux:a,b:0", "k=0"),
    ("sc:a,b:3", "one model"), ("nope:a,b:3", "unknown method"), ("mux::3", "no models"),
])
def test_bad_configurations(text, match):
    with pytest.raises(MuxsimError, match=match):
        Config.parse(text)


def test_cli_json_and_plots(tmp_path, capsys):
    _, table = synthetic(Q=20, m=3, seed=2, params=TRUE[:2])
    from muxsim.fit import save

    fp = tmp_path / "fit.json"
    save(fit(table, "latent"), fp)
    rc = design_main([str(fp), "--compare", "mux:strong,weak:3", "sc:strong:3", "--curve", "vote:strong,weak",
                      "--k-max", "4", "--draws", "4", "--json", "--plot", str(tmp_path / "d")])
    assert rc == 0
    d = json.loads(capsys.readouterr().out)
    assert d["compare"]["n_needed"] > 0 and d["curve"]["k"] == [1, 2, 3, 4]
    for p in d["plots"]:
        assert (tmp_path / p.split("/")[-1]).stat().st_size > 1000
    assert design_main([str(fp), "--compare", "mux:strong,nobody:3", "sc:strong:3"]) == 2
    assert "not in the fit" in capsys.readouterr().err
    assert design_main([str(fp)]) == 2
    assert "nothing to design" in capsys.readouterr().err


def test_pilot_value_of_a_mixture_refits_each_family():
    from muxsim.fit import MixtureFit, fit
    from tests.test_calibrate import TRUE, synthetic

    _, table = synthetic(Q=25, m=3, seed=6, params=TRUE[:2])
    mix = MixtureFit((fit(table, "latent"), fit(table, "shrinkage", nodes=2, max_labels=2)), np.array([0.7, 0.3]))
    res = pilot_value(mix, 3, Config("mux", ("strong", "weak"), 2), [0], reps=1, draws=3,
                      refit_options={"shrinkage": {"nodes": 2, "max_labels": 2}})
    assert res["kind"] == "latent+shrinkage" and len(res["by_pilot"]) == 1
    assert 0 < res["by_pilot"][0]["mean_width"] < 1
