"""A fake OpenAI-compatible server in-process (httpx.MockTransport)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Callable

import httpx
import pytest


@dataclass
class FakeServer:
    """Answers /v1/completions with n choices; records every request body.

    ``fail``: a function (call number, body) -> httpx.Response | Exception | None;
    a returned exception is raised (connection error, timeout), a response is
    sent as is, None means answer normally.
    """

    models: tuple[str, ...] = ("m1", "m2")
    fail: Callable[[int, dict], object] | None = None
    calls: list[dict] = field(default_factory=list)

    def handler(self, request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content)
        self.calls.append(body)
        if self.fail is not None:
            r = self.fail(len(self.calls), body)
            if isinstance(r, BaseException):
                raise r
            if isinstance(r, httpx.Response):
                return r
        if body["model"] not in self.models:
            return httpx.Response(404, json={"error": {"message": f"The model `{body['model']}` does not exist."}})
        n = body["n"]
        seed = body["seed"]
        choices = []
        for i in range(n):
            val = (seed + i) % 3  # answers 0, 1, 2: varied but deterministic
            text = f"Some reasoning.\n#### {val}" if i % 4 != 3 else "I am not sure."
            choices.append({"index": i, "text": text, "finish_reason": "stop",
                            "logprobs": {"tokens": ["t"] * (5 + i)}})
        return httpx.Response(200, json={"choices": choices, "usage": {"prompt_tokens": 42, "completion_tokens": 5 * n}})

    def transport(self) -> httpx.MockTransport:
        return httpx.MockTransport(self.handler)


@pytest.fixture
def fake_server() -> FakeServer:
    return FakeServer()


class Sleeps(list):
    async def __call__(self, s: float) -> None:
        self.append(s)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


@pytest.fixture
def base_config():
    return _base_config


def _base_config(tmp_path, **over):
    cfg = {
        "task": "gsm8k",
        "questions": "gsm8k_500",
        "limit": 4,
        "models": [
            {"name": "m1", "base_url": "http://127.0.0.1:9/v1"},
            {"name": "m2", "base_url": "http://127.0.0.1:9/v1"},
        ],
        "sampling": {"k": 5, "temperature": 0.7, "max_tokens": 32, "seed": 1},
        "client": {"concurrency": 3, "timeout_s": 5, "retries": 2, "backoff_s": 0.5},
        "output": str(tmp_path / "run.jsonl"),
    }
    cfg.update(over)
    return cfg
