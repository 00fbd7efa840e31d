import csv

import pytest

from real_runs.errors import ConfigError
from real_runs.questions import load_bundled, load_gpqa, load_jsonl


def test_bundled_sets():
    g = load_bundled("gsm8k_500")
    assert len(g) == 500 and g[0].id == "gsm8k/0" and g[0].reference == "2280"
    m = load_bundled("math_500")
    assert len(m) == 500 and m[0].reference
    j = load_bundled("jhu_100")
    assert len(j) == 100 and set(j[0].choices) == set("ABCDE") and j[0].reference == "C"
    assert len({q.id for q in g + m + j}) == 1100


def _gpqa_csv(path, rows):
    cols = ["Record ID", "Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"]
    with open(path, "w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(cols)
        w.writerows(rows)


def test_gpqa_format_shuffles_reproducibly(tmp_path):
    p = tmp_path / "gpqa.csv"
    # made-up questions in GPQA's column format (GPQA itself is never bundled)
    _gpqa_csv(p, [(f"rec{i}", f"Q{i}?", "right", "w1", "w2", "w3") for i in range(40)])
    a = load_gpqa(p, seed=3)
    b = load_gpqa(p, seed=3)
    assert a == b
    for q in a:
        assert q.choices[q.reference] == "right" and set(q.choices) == set("ABCD")
    assert len({q.reference for q in a}) > 1  # the correct letter is not always the same
    assert [q.reference for q in load_gpqa(p, seed=4)] != [q.reference for q in a]


def test_gpqa_missing_column(tmp_path):
    p = tmp_path / "g.csv"
    p.write_text("Question,Correct Answer\nq,a\n")
    with pytest.raises(ConfigError, match="Incorrect Answer 1"):
        load_gpqa(p, seed=0)


def test_jsonl_loader(tmp_path):
    p = tmp_path / "q.jsonl"
    p.write_text('{"id": "a", "question": "1+1?", "answer": 2}\n{"id": "b", "question": "x?", "answer": null}\n')
    qs = load_jsonl(p)
    assert [q.reference for q in qs] == ["2", None]
    p.write_text('{"id": "a", "question": "1?"}\n{"id": "a", "question": "2?"}\n')
    with pytest.raises(ConfigError, match="id='a' appears twice"):
        load_jsonl(p)
