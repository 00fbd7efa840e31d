"""Ragged logs: questions a model skipped, pools of different sizes, questions with no samples.

Every reader (muxsim sample logs, jhu CSVs, SLM-MUX reference JSON, lm-eval
samples) reads them; ``--samples`` is applied first; what cannot be used is an
error naming the question and the flag, or is dropped with a one-line summary.
Ragged pools are evaluated exactly (checked against enumeration).
"""

import itertools
import json
import logging

import numpy as np
import pytest

from muxsim import rules
from muxsim.calibrate_cli import evaluate_main, fit_main
from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import NOT_SAMPLED, answer_table, evaluate_logs
from muxsim.logs.format import Sample, write_samples
from muxsim.logs.importers import read_jhu_details, read_lm_eval_samples, read_slmmux_json
from muxsim.logs.usable import usable_table


def _samples(spec):
    """spec[model][question] = list of answers; the reference of every question is 'C'."""
    return [Sample(q, m, j, a, (a == "C") if a is not None else False, reference="C")
            for m, qs in spec.items() for q, answers in qs.items() for j, a in enumerate(answers)]


# a: 4 samples everywhere; b: 3 on q1, 4 on q2, skipped q3; c: 2 on q1, 4 on q2, 5 on q3
RAGGED = {
    "a": {"q1": ["C", "X", "C", None], "q2": ["Y", "Y", "C", "Z"], "q3": ["C", "C", "C", "X"]},
    "b": {"q1": ["X", "X", "C"], "q2": ["Y", "C", None, None]},
    "c": {"q1": ["X", "C"], "q2": [None, "X", "C", "Y"], "q3": ["V", "V", "C", "W", "C"]},
}


def _brute(table, q, k, method):
    """Average rule credit over every k-subset of each model's own pool on question q."""
    pools = [table.codes[q, i][table.codes[q, i] != NOT_SAMPLED] for i in range(len(table.models))]
    credit = []
    for pick in itertools.product(*(itertools.combinations(range(len(p)), k) for p in pools)):
        draws = [p[list(c)][None, :] for p, c in zip(pools, pick)]
        f = {"mux": lambda d: rules.mux(d, "per_k"), "mux_valid": lambda d: rules.mux(d, "per_valid"),
             "vote": rules.vote, "union": lambda d: rules.union(d, 1), "contradiction": lambda d: rules.contradiction(d, 1),
             "sc": lambda d: rules.self_consistency(d[0])}[method]
        credit.append(float(f(draws)[0]))
    return float(np.mean(credit))


def test_table_reads_ragged_pools():
    tab = answer_table(_samples(RAGGED))
    assert tab.question_ids == ("q1", "q2", "q3") and tab.models == ("a", "b", "c")
    np.testing.assert_array_equal(tab.sizes, [[4, 3, 2], [4, 4, 4], [4, 0, 5]])
    assert tab.ragged and tab.size_range() == "0..5"
    with pytest.raises(MuxsimError, match="ragged logs: pools hold 0..5 samples"):
        tab.K
    # per-sample accuracy counts real samples only
    assert tab.accuracy()[1] == pytest.approx(2 / 7)


@pytest.mark.parametrize("k", [1, 2])
@pytest.mark.parametrize("method", ["mux", "mux_valid", "vote", "union", "contradiction", "sc"])
def test_ragged_pools_are_exact(k, method):
    """Pools of 4, 3 and 2 samples in one question, and of 4/4/4: exact = enumeration of each pool's subsets."""
    tab, _ = usable_table(answer_table(_samples(RAGGED)), common_questions=True)
    assert tab.question_ids == ("q1", "q2")
    name = "sc[b]" if method == "sc" else method
    c = evaluate_logs(tab, k=[k], models=["b", "a", "c"] if method == "sc" else None, methods=[name])
    sub = tab.select(["b", "a", "c"]) if method == "sc" else tab
    want = np.mean([_brute(sub, q, k, method) for q in range(sub.n_questions)])
    assert c.values[name][0] == pytest.approx(want, abs=1e-12)


def test_policy_errors_and_drops():
    tab = answer_table(_samples(RAGGED))
    with pytest.raises(MuxsimError, match=r"model 'b' has no samples on question 'q3' .*\{'b': 1\}.*--common-questions"):
        usable_table(tab)
    with pytest.raises(MuxsimError, match="no samples on question 'q3'.*--common-questions"):
        evaluate_logs(tab)
    kept, dropped = usable_table(tab, common_questions=True)
    assert dropped.summary() == ("dropped 1 of 3 questions: 1 with no samples from some model ('b' 1; e.g. 'q3'); "
                                 "2 questions used")
    # the default k stops at the smallest pool of the questions used, the same question set at every k
    c = evaluate_logs(kept)
    assert list(c.k) == [1, 2]
    with pytest.raises(MuxsimError, match=r"k=3 needs 3 samples in every pool, but 1 of 2 questions have fewer "
                                          r"\(e.g. model 'c' has 2 on question 'q1'.*--min-samples 3"):
        usable_table(tab, common_questions=True, need=3)
    with pytest.raises(MuxsimError, match="k=3 is larger than the 2 logged samples of model 'c' on question 'q1'"):
        evaluate_logs(kept, k=[3])
    kept, dropped = usable_table(tab, min_samples=3, need=3)
    assert kept.question_ids == ("q2",) and not kept.ragged and kept.K == 4
    assert dropped.summary() == ("dropped 2 of 3 questions: 1 with no samples from some model ('b' 1; e.g. 'q3'); "
                                 "1 with fewer than 3 samples from some model (e.g. 'q1' ('c' has 2)); 1 questions used")
    with pytest.raises(MuxsimError, match="no question left"):
        usable_table(tab, min_samples=6)
    with pytest.raises(MuxsimError, match="min_samples=0 must be an integer >= 1"):
        usable_table(tab, min_samples=0)
    # nothing to drop: an empty report
    full, none = usable_table(tab.select(["a", "c"]))
    assert not none and none.summary() == "" and full.n_questions == 3


def test_samples_first_then_policy():
    """A pilot 0:2 of logs with >= 2 samples in every answered pool is rectangular whatever the rest holds."""
    tab = answer_table(_samples(RAGGED)).select(["a", "c"])
    pilot = tab.select(samples=slice(0, 2))
    assert not pilot.ragged and pilot.K == 2
    held = tab.select(samples=slice(2, None))  # a: 2 left, c: 0 on q1, 2 on q2, 3 on q3
    np.testing.assert_array_equal(held.sizes, [[2, 0], [2, 2], [2, 3]])
    with pytest.raises(MuxsimError, match="negative positions"):
        tab.select(samples=slice(-2, None))
    with pytest.raises(MuxsimError, match="selects none"):
        tab.select(samples=slice(9, 12))


def test_fit_needs_one_pool_size():
    tab = answer_table(_samples(RAGGED)).select(["a", "c"])
    with pytest.raises(MuxsimError, match="pools hold 2..5 samples; a fit needs the same number.*--min-samples"):
        usable_table(tab, same_size=True)
    kept, dropped = usable_table(tab, min_samples=4, same_size=True)
    assert kept.K == 4 and kept.question_ids == ("q2", "q3")
    assert dropped.unused_samples == 1 and dropped.summary().endswith(
        "the first 4 samples of every pool used (1 later samples left out)")


# ---------------------------------------------------------------------------
# the four readers, through the CLI
# ---------------------------------------------------------------------------


def _slmmux(path, model, responses):
    path.write_text(json.dumps({"model": model, "responses": responses}))
    return str(path)


def _resp(problem, answers, ref="4"):
    return {"problem": problem, "reference_answer": ref, "samples": [{"extracted_answer": a} for a in answers]}


@pytest.fixture
def slmmux_files(tmp_path):
    """The issue's three stops: an empty 'samples', a question one model skipped, fewer samples on a question."""
    a = _slmmux(tmp_path / "a.json", "a", [_resp("p1", ["4", "4", "5"]), _resp("p2", []),
                                           _resp("p3", ["4", "3", "3"]), _resp("p4", ["4", "4", "4"])])
    b = _slmmux(tmp_path / "b.json", "b", [_resp("p1", ["5", "4"]), _resp("p2", ["4", "4", "4"]),
                                           _resp("p4", ["3", "4", "3"]), _resp("p5", ["4", "4", "4"])])
    return a, b


def test_slmmux_reads_empty_samples_with_a_warning(slmmux_files, caplog):
    with caplog.at_level(logging.WARNING, logger="muxsim.logs.importers"):
        s = read_slmmux_json(slmmux_files[0])
    assert sorted({x.question_id for x in s}) == ["p1", "p3", "p4"]
    assert "1 question(s) logged with no samples ('samples' empty: 'p2')" in caplog.text


def test_slmmux_ragged_cli(slmmux_files, capsys):
    a, b = slmmux_files
    # different question sets (equal counts): the error names the questions and the flag
    assert evaluate_main([a, b, "--k", "1"]) == 2
    err = capsys.readouterr().err.strip().splitlines()[-1]
    assert err == ("muxsim: error: models answered different question sets: model 'a' has no samples on question 'p2' "
                   "(questions without samples per model: {'a': 2, 'b': 1}, of 5); pass --common-questions to use the "
                   "2 questions every model answered")
    assert evaluate_main([a, b, "--k", "1-3", "--common-questions"]) == 2
    assert "k=3 needs 3 samples in every pool, but 1 of 2 questions have fewer (e.g. model 'b' has 2 on question 'p1'" \
        in capsys.readouterr().err
    assert evaluate_main([a, b, "--k", "1-2", "--common-questions", "--json"]) == 0
    out = capsys.readouterr()
    assert out.err.strip().splitlines()[-1] == ("muxsim: dropped 3 of 5 questions: 3 with no samples from some model "
                                                "('a' 2, 'b' 1; e.g. 'p2', 'p3', 'p5'); 2 questions used")
    d = json.loads(out.out)
    assert d["n_questions"] == 2 and d["K"] is None and d["pool_sizes"] == [2, 3] and d["dropped"]["n_kept"] == 2
    # p1: sc[b] at k=1 is 1/2, p4: 1/3
    assert d["values"]["single[b]"][0] == pytest.approx((1 / 2 + 1 / 3) / 2)
    # --samples is applied before the checks: 0:2 makes the common questions rectangular
    assert evaluate_main([a, b, "--samples", "0:2", "--common-questions"]) == 0
    out = capsys.readouterr()
    assert "2 questions, K = 2 logged samples" in out.out
    assert evaluate_main([a, b, "--min-samples", "3", "--k", "1-3"]) == 0
    out = capsys.readouterr()
    assert "1 with fewer than 3 samples from some model (e.g. 'p1' ('b' has 2)); 1 questions used" in out.err


def test_slmmux_fit_ragged(slmmux_files, tmp_path, capsys):
    a, b = slmmux_files
    out = tmp_path / "fit.json"
    assert fit_main([a, b, "--common-questions", "-o", str(out), "--kind", "shrinkage"]) == 2
    assert "pools hold 2..3 samples; a fit needs the same number" in capsys.readouterr().err
    assert fit_main([a, b, "--common-questions", "--samples", "0:2", "-o", str(out), "--kind", "shrinkage",
                     "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["dropped"]["n_kept"] == 2 and d["dropped"]["unused_samples"] == 0


def test_jhu_ragged_cli(tmp_path, capsys):
    """Files with different numbers of answer columns, and a question one model skipped."""
    (tmp_path / "x__temp-0.7.csv").write_text(
        "Problem ID,Answer 1,Answer 2,Answer 3,Correct Answer\n1,A,A,B,A\n2,C,,C,C\n3,D,D,D,B\n")
    (tmp_path / "y__temp-0.7.csv").write_text("Problem ID,Answer 1,Answer 2,Correct Answer\n1,B,A,A\n3,B,C,B\n")
    files = [str(tmp_path / "x__temp-0.7.csv"), str(tmp_path / "y__temp-0.7.csv")]
    assert len(read_jhu_details(files[1])) == 4
    assert evaluate_main(files) == 2
    assert "model 'y' has no samples on question 'exam/2'" in capsys.readouterr().err
    assert evaluate_main(files + ["--common-questions", "--json"]) == 0
    out = capsys.readouterr()
    assert "dropped 1 of 3 questions: 1 with no samples from some model ('y' 1; e.g. 'exam/2')" in out.err
    d = json.loads(out.out)
    assert d["k"] == [1, 2] and d["values"]["single[x]"][0] == pytest.approx((2 / 3 + 0) / 2)


def _lm(doc_id, target, answers):
    return json.dumps({"doc_id": doc_id, "target": target, "resps": [[f"so {a}" for a in answers]],
                       "filtered_resps": [answers], "filter": "strict-match"})


def test_lm_eval_ragged_cli(tmp_path, capsys, caplog):
    """Documents with 3, 2 and no answers; a document one model skipped."""
    for m, lines in {"p": [_lm(0, "1", ["1", "1", "2"]), _lm(1, "2", ["2", "[invalid]"]), _lm(2, "3", [])],
                     "r": [_lm(0, "1", ["2", "1", "1"]), _lm(1, "2", ["3", "2", "2"]), _lm(2, "3", ["3", "3", "3"])]}.items():
        (tmp_path / m).mkdir()
        (tmp_path / m / "samples_t_2025-01-01T00-00-00.jsonl").write_text("\n".join(lines) + "\n")
    files = [str(tmp_path / m / "samples_t_2025-01-01T00-00-00.jsonl") for m in ("p", "r")]
    with caplog.at_level(logging.WARNING, logger="muxsim.logs.importers"):
        s = read_lm_eval_samples(files[0], "p")
    assert len(s) == 5 and "1 question(s) logged with no samples ('filtered_resps' empty: 't/2')" in caplog.text
    assert evaluate_main(files + ["--k", "1-3", "--min-samples", "3"]) == 0
    out = capsys.readouterr()
    assert ("dropped 2 of 3 questions: 1 with no samples from some model ('p' 1; e.g. 't/2'); "
            "1 with fewer than 3 samples from some model (e.g. 't/1' ('p' has 2)); 1 questions used") in out.err
    assert "1 questions, K = 3 logged samples" in out.out


def test_sample_log_ragged_cli(tmp_path, capsys):
    path = tmp_path / "ragged.jsonl"
    write_samples(path, _samples(RAGGED))
    assert evaluate_main([str(path), "--models", "a,c", "--k", "1-2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert d["n_questions"] == 3 and d["pool_sizes"] == [2, 5] and d["dropped"]["n_kept"] == 3
    assert evaluate_main([str(path), "--models", "a,c"]) == 0
    out = capsys.readouterr().out
    assert "3 questions at every k; pools hold 2..5 logged samples per question and model" in out
    assert "k=2" in out and "k=3" not in out


def test_fits_refuse_a_ragged_table():
    """A fit's likelihood is for one number of draws per pool: a ragged table raises, never reads pads as answers."""
    from muxsim.calibrate import fit_shrinkage
    from muxsim.latent_class import fit_classes

    tab = answer_table(_samples(RAGGED)).select(["a", "c"])
    for fit in (fit_shrinkage, fit_classes):
        with pytest.raises(MuxsimError, match="ragged logs: pools hold 2..5 samples"):
            fit(tab)
