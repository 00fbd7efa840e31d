"""Collection against the in-process fake server: counts, resume, no duplicates."""

import json
from collections import Counter

import httpx
import pytest

from muxsim.logs.format import read_samples
from real_runs.client import RequestError, ServerClient
from real_runs.collect import collect, main, plan
from real_runs.config import parse_config
from real_runs.errors import ManifestMismatch
from real_runs.store import manifest_path


def _collect(cfg, fake_server, sleeps, **kw):
    client = ServerClient(cfg.client, transport=fake_server.transport(), sleep=sleeps)
    return collect(cfg, client=client, progress=False, **kw)


def _keys(path):
    return [s.key for s in read_samples(path)]


def test_full_run(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path))
    summary = _collect(cfg, fake_server, sleeps)
    keys = _keys(cfg.output)
    assert len(keys) == 4 * 2 * 5 == len(set(keys))
    assert len(fake_server.calls) == 8 and all(c["n"] == 5 for c in fake_server.calls)
    seeds = [c["seed"] for c in fake_server.calls]
    assert len(set(seeds)) == 8  # distinct per (question, model)
    m1 = summary["models"]["m1"]
    assert m1["samples"] == 20 and m1["no_answer_rate"] == pytest.approx(4 / 20)  # every 4th text has no answer
    s = read_samples(cfg.output)[0]
    assert s.source == "real_runs" and s.tokens_in == 42 and s.latency_s is not None and s.text
    assert s.meta["n"] == 5
    man = json.loads(manifest_path(cfg.output).read_text())
    assert man["identity"]["sampling"]["k"] == 5 and len(man["invocations"]) == 1


def test_stop_midway_then_resume_no_duplicates(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path, client={"concurrency": 1, "retries": 0}))
    # the 4th request gets a 400: the run stops there, what was logged stays
    fake_server.fail = lambda i, body: httpx.Response(400, text="bad") if i == 4 else None
    with pytest.raises(RequestError):
        _collect(cfg, fake_server, sleeps)
    first = _keys(cfg.output)
    assert len(first) == 15  # three requests of k=5 made it
    fake_server.fail = None
    fake_server.calls.clear()
    _collect(cfg, fake_server, sleeps)
    keys = _keys(cfg.output)
    assert len(keys) == 40 == len(set(keys))
    assert len(fake_server.calls) == 5  # only the missing (question, model) pairs


def test_killed_between_records_and_mid_line(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path))
    _collect(cfg, fake_server, sleeps)
    lines = cfg.output.read_text().splitlines(keepends=True)
    # a SIGKILL after 2 of a request's 5 records, the 3rd cut mid-line
    victim = json.loads(lines[-5])
    cfg.output.write_text("".join(lines[:-3]) + lines[-3][:17])
    fake_server.calls.clear()
    _collect(cfg, fake_server, sleeps)
    keys = _keys(cfg.output)
    assert len(keys) == 40 == len(set(keys))
    assert len(fake_server.calls) == 1
    call = fake_server.calls[0]
    assert call["n"] == 3  # only the three missing indices
    redone = [s for s in read_samples(cfg.output) if (s.question_id, s.model) == (victim["question_id"], victim["model"])]
    assert sorted(s.sample for s in redone) == [0, 1, 2, 3, 4]


def test_resume_with_other_config_refused(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path))
    _collect(cfg, fake_server, sleeps)
    other = parse_config(base_config(tmp_path, sampling={"k": 5, "temperature": 0.9, "max_tokens": 32, "seed": 1}))
    with pytest.raises(ManifestMismatch) as e:
        _collect(other, fake_server, sleeps)
    assert "sampling.temperature: logged 0.7, now 0.9" in str(e.value)
    # a larger limit (same set) is an extension, not a different run
    more = parse_config(base_config(tmp_path, limit=6))
    fake_server.calls.clear()
    _collect(more, fake_server, sleeps)
    assert len(fake_server.calls) == 4 and len(_keys(cfg.output)) == 60


def test_log_without_manifest_refused(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path))
    cfg.output.write_text('{"question_id": "x", "model": "m1", "sample": 0, "answer": null, "correct": null}\n')
    with pytest.raises(ManifestMismatch, match="configuration is unknown"):
        _collect(cfg, fake_server, sleeps)


def test_on_error_log_then_retry_errors(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path, client={"concurrency": 1, "retries": 1, "backoff_s": 0.1, "on_error": "log"}))
    fake_server.fail = lambda i, body: httpx.ConnectError("down") if i in (1, 2) else None
    _collect(cfg, fake_server, sleeps)
    samples = read_samples(cfg.output)
    errs = [s for s in samples if s.error]
    assert len(samples) == 40 and len(errs) == 5
    assert all(s.answer is None and s.correct is False and "ConnectError" in s.error for s in errs)
    # a plain rerun keeps them (logged, not asked again)
    fake_server.fail = None
    fake_server.calls.clear()
    _collect(cfg, fake_server, sleeps)
    assert fake_server.calls == []
    # --retry-errors asks again and replaces them, never duplicating
    _collect(cfg, fake_server, sleeps, retry_errors=True)
    samples = read_samples(cfg.output)
    assert len(fake_server.calls) == 1 and len(samples) == 40 and not any(s.error for s in samples)


def test_on_error_stop_is_default(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path, client={"concurrency": 2, "retries": 1, "backoff_s": 0.1}))
    fake_server.fail = lambda i, body: httpx.Response(503) if body["model"] == "m2" else None
    with pytest.raises(RequestError, match="HTTP 503"):
        _collect(cfg, fake_server, sleeps)
    assert all(s.error is None for s in read_samples(cfg.output))


def test_plan_counts(tmp_path, base_config):
    cfg = parse_config(base_config(tmp_path))
    jobs = plan(cfg, {("gsm8k/0", "m1", 0), ("gsm8k/0", "m1", 4)})
    assert len(jobs) == 8 and jobs[0].indices == (1, 2, 3)
    assert sum(len(j.indices) for j in jobs) == 38


def test_main_help_and_bad_config(tmp_path, capsys):
    with pytest.raises(SystemExit) as e:
        main(["--help"])
    assert e.value.code == 0 and "CONFIG" in capsys.readouterr().out
    bad = tmp_path / "c.json"
    bad.write_text(json.dumps({"task": "gsm9k"}))
    assert main([str(bad)]) == 2
    assert "task='gsm9k'" in capsys.readouterr().err


def test_main_check(tmp_path, capsys, base_config):
    p = tmp_path / "c.json"
    p.write_text(json.dumps(base_config(tmp_path)))
    assert main([str(p), "--check"]) == 0
    assert "8 requests (40 samples) to go" in capsys.readouterr().out


def test_mc_and_math_tasks(tmp_path, fake_server, sleeps, base_config):
    cfg = parse_config(base_config(tmp_path, task="mc", questions="jhu_100", limit=2))
    _collect(cfg, fake_server, sleeps)
    assert "Choices:\nA: " in fake_server.calls[0]["prompt"]
    cfg = parse_config(base_config(tmp_path, task="math", questions="math_500", limit=2, output=str(tmp_path / "m.jsonl")))
    _collect(cfg, fake_server, sleeps)
    assert Counter(s.model for s in read_samples(cfg.output)) == {"m1": 10, "m2": 10}
