"""Importers on the bundled jhu-llm-temperature files and on small hand-written files; bad input raises."""

import gzip
import json
from pathlib import Path

import pytest

from muxsim.errors import LogFormatError
from muxsim.logs.format import read_samples, write_samples
from muxsim.logs.importers import (
    normalise,
    read_jhu_details,
    read_jhu_dir,
    read_lm_eval_samples,
    read_slmmux_json,
)

ROOT = Path(__file__).resolve().parents[1]
JHU = ROOT / "real_runs" / "logs" / "jhu-llm-temperature"


def test_llama_2_7b_at_t07_matches_published_summary():
    s = read_jhu_details(JHU / "llama-2-7b-chat__temp-0.7.csv.gz")
    assert len(s) == 1000
    assert {x.sample for x in s} == set(range(10))
    assert len({x.question_id for x in s}) == 100
    assert sum(x.correct for x in s) / len(s) == pytest.approx(0.280, abs=1e-12)
    assert sum(x.answer is None for x in s) / len(s) == pytest.approx(0.374, abs=1e-12)
    assert all(x.model == "llama-2-7b-chat" and x.temperature == 0.7 for x in s)


def test_all_nine_models_at_t07_align():
    s = read_jhu_dir(JHU, 0.7)
    models = sorted({x.model for x in s})
    assert len(models) == 9
    per = {m: {x.question_id for x in s if x.model == m} for m in models}
    assert all(v == per[models[0]] for v in per.values())
    acc = {m: sum(x.correct for x in s if x.model == m) / 1000 for m in models}
    assert acc["gemini-1.5-pro-preview-0409"] == pytest.approx(0.804)
    assert min(acc.values()) == pytest.approx(0.280)


def test_round_trip_through_the_sample_format(tmp_path):
    s = read_jhu_details(JHU / "gpt-4__temp-0.7.csv.gz")
    out = tmp_path / "gpt4.jsonl.gz"
    write_samples(out, s)
    assert read_samples(out) == s


def test_jhu_missing_file_and_wrong_csv(tmp_path):
    with pytest.raises(LogFormatError, match="no such file"):
        read_jhu_details(tmp_path / "nope__temp-0.7.csv")
    bad = tmp_path / "m__temp-0.7.csv"
    bad.write_text("a,b\n1,2\n")
    with pytest.raises(LogFormatError, match=r"m__temp-0.7.csv:1: not a jhu-llm-temperature details CSV"):
        read_jhu_details(bad)
    noref = tmp_path / "m__temp-0.5.csv"
    noref.write_text("Problem ID,Answer 1,Correct Answer\n1,A,\n")
    with pytest.raises(LogFormatError, match=r":2: empty 'Correct Answer'"):
        read_jhu_details(noref)
    with pytest.raises(LogFormatError, match="no details file at temperature=0.45"):
        read_jhu_dir(JHU, 0.45)


def test_jhu_small_file_semantics(tmp_path):
    f = tmp_path / "toy__temp-0.5.csv"
    f.write_text("Problem ID,Answer 1,Answer 2,Answer 3,Correct Answer\n7,A, b ,,B\n")
    s = read_jhu_details(f)
    assert [(x.answer, x.correct) for x in s] == [("A", False), ("b", False), (None, False)]
    assert s[0].question_id == "exam/7" and s[0].model == "toy" and s[0].temperature == 0.5


def test_slmmux_json(tmp_path):
    data = {
        "model": "qwen",
        "responses": [
            {"problem": "1+1?", "reference_answer": "2", "samples": [{"extracted_answer": "2"}, {"extracted_answer": None}]},
            {"question": "2+2?", "correct_answer": 4, "samples": [{"extracted_answer": "5"}, {"extracted_answer": 4.0}]},
        ],
    }
    f = tmp_path / "qwen.json"
    f.write_text(json.dumps(data))
    s = read_slmmux_json(f)
    assert [(x.question_id, x.answer, x.correct) for x in s] == [
        ("1+1?", "2", True), ("1+1?", None, False), ("2+2?", "5", False), ("2+2?", "4", True)
    ]
    assert s[0].model == "qwen"


@pytest.mark.parametrize(
    "payload, msg",
    [
        ("{not json", "not valid JSON"),
        (json.dumps({"responses": []}), "non-empty list 'responses'"),
        (json.dumps({"responses": [{"reference_answer": "1", "samples": [{"extracted_answer": "1"}]}]}), "no 'problem'"),
        (json.dumps({"responses": [{"problem": "p", "samples": []}]}), r"no response has any samples \(1 responses\)"),
        (json.dumps({"responses": [{"problem": "p", "samples": "x"}]}), "'samples' is a str, not a list"),
        (json.dumps({"responses": [{"problem": "p", "samples": [{"answer": "1"}]}]}), "no 'extracted_answer'"),
    ],
)
def test_slmmux_bad(tmp_path, payload, msg):
    f = tmp_path / "m.json"
    f.write_text(payload)
    with pytest.raises(LogFormatError, match=msg):
        read_slmmux_json(f)


def _lm_eval_line(doc_id, target, answers, flt="strict-match"):
    return json.dumps({
        "doc_id": doc_id, "doc": {"question": "q"}, "target": target,
        "arguments": [["prompt", {"until": ["Q:"]}]],
        "resps": [[f"... so {a}" for a in answers]], "filtered_resps": [answers],
        "filter": flt, "metrics": ["exact_match"], "exact_match": 0.0,
    })


def test_lm_eval_samples(tmp_path):
    f = tmp_path / "samples_gsm8k_2025-01-01T00-00-00.jsonl"
    f.write_text(_lm_eval_line(0, "18", ["18", "[invalid]", "17"]) + "\n" + _lm_eval_line(1, "3", ["3", "3", "3"]) + "\n")
    s = read_lm_eval_samples(f, "llama")
    assert [(x.question_id, x.sample, x.answer, x.correct) for x in s[:3]] == [
        ("gsm8k/0", 0, "18", True), ("gsm8k/0", 1, None, False), ("gsm8k/0", 2, "17", False)
    ]
    assert s[0].text == "... so 18"


def test_lm_eval_bad(tmp_path):
    f = tmp_path / "samples_t.jsonl"
    f.write_text(_lm_eval_line(0, "1", ["1"], "a") + "\n" + _lm_eval_line(0, "1", ["1"], "b") + "\n")
    with pytest.raises(LogFormatError, match="appears twice"):
        read_lm_eval_samples(f, "m")
    assert len(read_lm_eval_samples(f, "m", filter_name="b")) == 1
    with pytest.raises(LogFormatError, match="no line with filter='c'"):
        read_lm_eval_samples(f, "m", filter_name="c")
    g = tmp_path / "samples_u.jsonl"
    rec = json.loads(_lm_eval_line(0, "1", ["1"]))
    rec["filtered_resps"] = "1"
    g.write_text(json.dumps(rec) + "\n")
    with pytest.raises(LogFormatError, match=r"samples_u.jsonl:1: filtered_resps is a single str"):
        read_lm_eval_samples(g, "m")
    h = tmp_path / "samples_v.jsonl"
    h.write_text('{"doc_id": 0}\n')
    with pytest.raises(LogFormatError, match=r"samples_v.jsonl:1: not an lm-eval sample record"):
        read_lm_eval_samples(h, "m")


def test_normalise():
    assert normalise("  a   b ") == "a b"
    assert normalise("") is None and normalise(None) is None
    assert normalise(4.0) == "4"
