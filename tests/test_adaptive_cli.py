"""``muxsim adaptive``: the library's values as JSON, a plot, and one clear line (exit 2) for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from muxsim.adaptive_cli import parse_policy
from muxsim.adaptive import Lead, Run
from muxsim.adaptive_mux import Decided, RunEach, mux_policy_value
from muxsim.cli import main
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw

ROOT = Path(__file__).resolve().parents[1]
WORKED = str(ROOT / "examples/worked.json")
JHU = ROOT / "real_runs/logs/jhu-llm-temperature"


def test_spec_json_matches_library(capsys):
    assert main(["adaptive", WORKED, "--budgets", "3,5", "--policies", "decided,run2_each", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
    A2, B2 = AnswerLaw(0.5, {"X": 0.2}, 0.2, 0.1), AnswerLaw(0.3, {"X": 0.4}, 0.3)
    for j, k in enumerate((3, 5)):
        for name, pol in (("decided", Decided()), ("run2_each", RunEach(2))):
            want = [mux_policy_value(q, pol, k) for q in ([A, B], [A2, B2])]
            got = out["policies"][name]
            assert got["accuracy"][j] == pytest.approx(sum(v.accuracy for v in want) / 2, abs=1e-12)
            assert got["samples"][j] == pytest.approx(sum(v.samples for v in want) / 2, abs=1e-12)
    assert out["fixed_method"] == "mux" and out["policies"]["decided"]["accuracy"] == pytest.approx(
        [out["fixed"]["accuracy"][2], out["fixed"]["accuracy"][4]], abs=1e-9)


def test_one_model_log_with_plot(tmp_path, capsys):
    log = str(JHU / "gpt-35-turbo__temp-0.7.csv.gz")
    assert main(["adaptive", log, "--budgets", "1-3", "--plot", str(tmp_path / "fig")]) == 0
    out = capsys.readouterr().out
    assert "lead" in out and "run3" in out and "fixed sc[gpt-35-turbo]" in out
    assert (tmp_path / "fig.png").stat().st_size > 0 and (tmp_path / "fig.pdf").exists()


def test_simulate_has_standard_errors(capsys):
    assert main(["adaptive", WORKED, "--budgets", "3", "--simulate", "300", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "monte carlo" and out["n_draws"] == 300 and out["policies"]["decided"]["accuracy_se"][0] > 0


def test_policy_names():
    assert parse_policy("lead") == Lead() and parse_policy("run4") == Run(4)
    assert parse_policy("decided_valid") == Decided("per_valid") and parse_policy("run2_each_valid") == RunEach(2, "per_valid")
    for bad in ("run", "run2_valid", "decide", "run0_each"):
        with pytest.raises(MuxsimError):
            parse_policy(bad)


@pytest.mark.parametrize("args,msg", [
    (["--budgets", "3", "--policies", "fastest"], "unknown policy 'fastest'"),
    (["--budgets", "3", "--policies", "lead"], "one-model"),
    (["--budgets", "3", "--models", "A,C"], "unknown model"),
    (["--budgets", "0"], "--budgets"),
])
def test_bad_input_is_one_line(args, msg):
    r = subprocess.run([sys.executable, "-m", "muxsim.cli", "adaptive", WORKED, *args], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1 and msg in r.stderr


def test_budget_above_the_logged_samples(capsys):
    log = str(JHU / "gpt-35-turbo__temp-0.7.csv.gz")
    assert main(["adaptive", log, "--budgets", "11"]) == 2
    assert "budget=11 is larger than the 10 logged samples" in capsys.readouterr().err
