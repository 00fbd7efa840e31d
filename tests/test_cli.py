"""The command line: tables, JSON, and one clear line for bad input."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

from muxsim.cli import main

ROOT = Path(__file__).resolve().parents[1]


def test_predict_json_matches_library(capsys):
    assert main(["predict", str(ROOT / "examples/worked.json"), "--json", "--k", "3", "5", "--methods", "mux", "vote"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["kind"] == "exact" and out["k"] == [3, 5]
    from muxsim import exact
    from muxsim.laws import AnswerLaw

    A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
    A2, B2 = AnswerLaw(0.5, {"X": 0.2}, 0.2, 0.1), AnswerLaw(0.3, {"X": 0.4}, 0.3)
    want = (exact.mux([A, B], 3) + exact.mux([A2, B2], 3)) / 2
    assert out["values"]["mux"][0] == pytest.approx(want, abs=1e-12)


def test_simulate_parametric_has_standard_errors(capsys):
    assert main(["simulate", str(ROOT / "examples/latent.json"), "--json", "--k", "3", "--draws", "500", "--methods", "vote"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["n_draws"] == 500 and out["se"]["vote"][0] > 0


def test_bad_spec_is_one_line_no_traceback(tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"models": ["A"], "questions": [{"laws": {"A": {"correct": 0.7, "wrong": {"X": 0.4}}}}]}')
    r = subprocess.run([sys.executable, "-m", "muxsim.cli", "predict", str(bad)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2
    assert "Traceback" not in r.stderr and r.stderr.count("\n") == 1
    assert "sums to 1.1" in r.stderr
    broken = tmp_path / "broken.json"
    broken.write_text('{"models": ["A"],\n "questions": [}')
    r = subprocess.run([sys.executable, "-m", "muxsim.cli", "predict", str(broken)], capture_output=True, text=True, cwd=ROOT)
    assert r.returncode == 2 and "broken.json:2: not valid JSON" in r.stderr


def test_help_everywhere():
    for args in (["--help"], ["predict", "--help"], ["simulate", "--help"], ["demo", "--help"]):
        r = subprocess.run([sys.executable, "-m", "muxsim.cli", *args], capture_output=True, text=True, cwd=ROOT)
        assert r.returncode == 0 and "usage" in r.stdout
