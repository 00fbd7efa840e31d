"""Integration: the harness against a real vLLM server (run by .ci/vllm_stage.sh).

The stage serves a tiny random-weight Llama under two names, with
``--api-key``, and exports MUXSIM_VLLM_BASE_URL (e.g.
http://127.0.0.1:8765/v1), MUXSIM_VLLM_MODELS ("tiny-a,tiny-b") and
MUXSIM_VLLM_API_KEY (the key; the configs name this variable in
``client.api_key_env``). MUXSIM_TINY_MODEL (the model directory) enables the
offline-backend test.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from pathlib import Path

import pytest
import yaml

from muxsim.logs.format import read_samples

pytestmark = pytest.mark.vllm

BASE = os.environ.get("MUXSIM_VLLM_BASE_URL")
MODELS = [m for m in os.environ.get("MUXSIM_VLLM_MODELS", "").split(",") if m]
KEY_ENV = "MUXSIM_VLLM_API_KEY"
ROOT = Path(__file__).resolve().parents[2]

N_QUESTIONS = 16
K = 5


@pytest.fixture(autouse=True)
def _need_server():
    if not BASE or len(MODELS) < 2 or not os.environ.get(KEY_ENV):
        pytest.fail("MUXSIM_VLLM_BASE_URL / MUXSIM_VLLM_MODELS / MUXSIM_VLLM_API_KEY not set: run bash .ci/vllm_stage.sh")


def _config(tmp_path: Path, **over) -> Path:
    cfg = {
        "task": "gsm8k",
        "questions": "gsm8k_500",
        "limit": N_QUESTIONS,
        "models": [{"name": m, "base_url": BASE} for m in MODELS[:2]],
        "sampling": {"k": K, "temperature": 1.0, "top_p": 1.0, "max_tokens": 16, "seed": 0},
        "client": {"concurrency": 2, "timeout_s": 60, "retries": 2, "backoff_s": 0.5, "api_key_env": KEY_ENV},
        "output": str(tmp_path / "run.jsonl"),
    }
    cfg.update(over)
    p = tmp_path / "run.yaml"
    p.write_text(yaml.safe_dump(cfg))
    return p


def _harness(cfg: Path, *extra: str, env: dict[str, str] | None = None) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "real_runs", str(cfg), "--no-progress", *extra],
        cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
        env={**os.environ, **(env or {})},
    )


def _lines(p: Path) -> int:
    return p.read_bytes().count(b"\n") if p.exists() else 0


def test_collect_kill_resume(tmp_path):
    cfg = _config(tmp_path)
    out = tmp_path / "run.jsonl"
    total = N_QUESTIONS * len(MODELS[:2]) * K
    proc = _harness(cfg)
    deadline = time.monotonic() + 120
    while _lines(out) < total // 4 and proc.poll() is None and time.monotonic() < deadline:
        time.sleep(0.05)
    assert proc.poll() is None, f"the run ended before it could be killed midway: {proc.communicate()}"
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    killed_at = _lines(out)
    print(f"killed with SIGKILL after {killed_at} of {total} samples")
    assert 0 < killed_at < total

    proc = _harness(cfg)
    stdout, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 0, stderr
    print(stdout)

    samples = read_samples(out)  # raises on a duplicated key
    assert len(samples) == total
    keys = {s.key for s in samples}
    assert len(keys) == total
    groups = defaultdict(list)
    for s in samples:
        groups[(s.question_id, s.model)].append(s)
        assert s.error is None and s.text is not None
        assert s.tokens_in and s.tokens_in > 0 and s.tokens_out is not None and s.tokens_out > 0
        assert s.latency_s is not None and s.latency_s > 0
    assert len(groups) == N_QUESTIONS * 2
    for g in groups.values():
        assert sorted(s.sample for s in g) == list(range(K))
    # distinct samples: at temperature 1 the k texts of a group differ
    distinct = sum(len({s.text for s in g}) for g in groups.values()) / total
    assert distinct > 0.9, distinct
    # the two served names got different seeds, hence different text
    a, b = MODELS[:2]
    same = sum(
        [s.text for s in sorted(groups[(q, a)], key=lambda s: s.sample)]
        == [s.text for s in sorted(groups[(q, b)], key=lambda s: s.sample)]
        for q in {k[0] for k in groups}
    )
    assert same == 0
    # most samples came from n=5 requests (only a request cut by the kill is smaller)
    assert sum(s.meta.get("n") == K for s in samples) >= total - K * 4
    man = json.loads((tmp_path / "run.manifest.json").read_text())
    assert len(man["invocations"]) == 2
    # the key was sent (the server refuses requests without it) and written nowhere
    key = os.environ[KEY_ENV]
    for p in tmp_path.iterdir():
        assert key not in p.read_text(), p
    assert man["invocations"][0]["api_key_env"] == {m: KEY_ENV for m in MODELS[:2]}

    # a third run has nothing to do
    proc = _harness(cfg, "--json")
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    summary = json.loads(stdout)
    assert summary["written"] == 0 and all(r["samples"] == N_QUESTIONS * K for r in summary["models"].values())


def test_wrong_model_name_stops_with_the_request(tmp_path):
    cfg = _config(tmp_path, limit=2, models=[{"name": "no-such-model", "base_url": BASE}])
    proc = _harness(cfg)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2
    assert "HTTP 404" in stderr and "'no-such-model'" in stderr and "question 'gsm8k/" in stderr, stderr
    assert _lines(tmp_path / "run.jsonl") == 0


def test_wrong_key_is_one_line_without_retries(tmp_path):
    cfg = _config(tmp_path, limit=2, client={"concurrency": 1, "timeout_s": 60, "retries": 4, "backoff_s": 5,
                                             "api_key_env": "MUXSIM_WRONG_KEY"})
    t0 = time.monotonic()
    proc = _harness(cfg, env={"MUXSIM_WRONG_KEY": "sk-wrong-" + os.environ[KEY_ENV][-8:]})
    stdout, stderr = proc.communicate(timeout=120)
    wall = time.monotonic() - t0
    assert proc.returncode == 2, stderr
    lines = stderr.strip().splitlines()
    assert len(lines) == 1, stderr
    assert "HTTP 401" in lines[0] and f"{BASE}/completions" in lines[0] and "MUXSIM_WRONG_KEY" in lines[0], lines
    assert os.environ[KEY_ENV] not in stderr + stdout
    assert wall < 30, wall  # no retry loop (4 retries with backoff 5 s would take > 75 s)
    assert _lines(tmp_path / "run.jsonl") == 0


def test_no_key_says_the_server_asks_for_one(tmp_path):
    cfg = _config(tmp_path, limit=1, client={"concurrency": 1, "timeout_s": 60, "retries": 4, "backoff_s": 5})
    proc = _harness(cfg)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2, stderr
    assert "HTTP 401" in stderr and "asks for an API key" in stderr and "client.api_key_env" in stderr, stderr


def test_chat_api_and_mc(tmp_path):
    cfg = _config(tmp_path, task="mc", questions="jhu_100", limit=2, api="chat")
    proc = _harness(cfg)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 0, stderr
    samples = read_samples(tmp_path / "run.jsonl")
    assert len(samples) == 2 * 2 * K
    assert all(s.tokens_out and s.tokens_out > 0 and s.tokens_in for s in samples)
    assert all(s.answer is None or s.answer in "ABCDE" for s in samples)


def test_prompt_too_long_is_a_4xx(tmp_path):
    cfg = _config(tmp_path, limit=1, prompt={"id": "long", "template": "{question} " * 200})
    proc = _harness(cfg)
    stdout, stderr = proc.communicate(timeout=120)
    assert proc.returncode == 2 and "HTTP 400" in stderr, stderr


@pytest.mark.skipif(not os.environ.get("MUXSIM_TINY_MODEL"), reason="MUXSIM_TINY_MODEL not set")
def test_offline_backend(tmp_path):
    cfg = _config(
        tmp_path, limit=2, backend="offline",
        models=[{"name": "tiny-offline", "path": os.environ["MUXSIM_TINY_MODEL"]}],
        client={"concurrency": 2, "timeout_s": 60},  # no key: nothing is sent over HTTP
        offline={"max_model_len": 512, "batch_questions": 2, "dtype": "bfloat16", "enforce_eager": True,
                 "distributed_executor_backend": "uni"},
    )
    # the engine in this process: one process's imports fewer (most of the start-up)
    proc = _harness(cfg, env={"VLLM_ENABLE_V1_MULTIPROCESSING": "0"})
    stdout, stderr = proc.communicate(timeout=400)
    assert proc.returncode == 0, stderr[-3000:]
    samples = read_samples(tmp_path / "run.jsonl")
    assert len(samples) == 2 * K and all(s.tokens_out and s.tokens_out > 0 for s in samples)
