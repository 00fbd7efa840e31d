"""A comparison math-verify cannot decide in time is logged as such, never graded."""

import functools
import json

import httpx
import pytest

import real_runs.collect as collect_mod
from muxsim.answers import grade
from muxsim.errors import LogFormatError
from muxsim.logs.evaluate import answer_table
from muxsim.logs.format import read_samples
from real_runs.client import ServerClient
from real_runs.config import parse_config

PRODUCT = r"2^{30}\cdot3^6\cdot5^3\cdot7^2\cdot11\cdot13"
TOWER = "2^{30}3^65^37^21113"  # math-verify runs for a minute on it


def test_timed_out_comparison_is_logged_undecided(tmp_path, fake_server, sleeps, base_config, monkeypatch):
    qs = tmp_path / "q.jsonl"
    qs.write_text(json.dumps({"id": "p1", "question": "Factor 2^30 ...", "answer": PRODUCT}) + "\n")
    cfg = parse_config(base_config(tmp_path, task="math", questions={"jsonl": str(qs)}, limit=None,
                                   sampling={"k": 2, "max_tokens": 32}, models=[{"name": "m1", "base_url": "http://x/v1"}]))
    texts = [rf"So $\boxed{{{TOWER}}}$.", r"So $\boxed{2^{30}\cdot 3^6 \cdot 5^3 \cdot 7^2 \cdot 11 \cdot 13}$."]

    def answer(i, body):
        return httpx.Response(200, json={"choices": [{"index": j, "text": t, "finish_reason": "stop"}
                                                     for j, t in enumerate(texts)]})

    fake_server.fail = answer
    monkeypatch.setattr(collect_mod, "grade", functools.partial(grade, timeout_s=1.0))
    client = ServerClient(cfg.client, transport=fake_server.transport(), sleep=sleeps)
    summary = collect_mod.collect(cfg, client=client, progress=False)
    s0, s1 = sorted(read_samples(cfg.output), key=lambda s: s.sample)
    assert s0.answer == TOWER and s0.correct is None and s0.reference == PRODUCT
    assert s0.error.startswith("grading timed out after 1 s")
    assert s1.correct is True and s1.error is None
    assert summary["models"]["m1"]["errors"] == 1
    # exact evaluation refuses it, saying why
    with pytest.raises(Exception, match="not graded \\(grading timed out"):
        answer_table(read_samples(cfg.output))


def test_reader_refuses_an_ungraded_answer_without_error(tmp_path):
    p = tmp_path / "x.jsonl"
    p.write_text('{"question_id": "q", "model": "m", "sample": 0, "answer": "7", "reference": "7", "correct": null}\n')
    with pytest.raises(LogFormatError, match="no 'error' saying why it was not graded"):
        read_samples(p)
    p.write_text('{"question_id": "q", "model": "m", "sample": 0, "answer": "7", "reference": "7", "correct": null, '
                 '"error": "grading timed out after 5 s"}\n')
    assert read_samples(p)[0].error == "grading timed out after 5 s"
