"""OpenAI-compatible client for vLLM's server: one request, n completions.

One call of :meth:`ServerClient.complete` is ONE HTTP request asking for
``n`` completions of one prompt (vLLM then prefills the prompt once and
shares it across the n sequences). Per-sample output tokens are counted from
the returned log-probability entries (``logprobs: 0`` on /v1/completions,
``logprobs: true, top_logprobs: 0`` on /v1/chat/completions); the prompt's
tokens come from ``usage.prompt_tokens``.

Failures:

- connection errors, timeouts (``timeout_s`` per request), HTTP 5xx and 429
  are retried up to ``retries`` times, waiting ``backoff_s * 2**attempt``
  seconds between tries (no jitter: runs are reproducible);
- any other 4xx (wrong model name, context too long, bad parameter) cannot
  succeed by retrying: :class:`RequestFailed` with ``fatal=True`` at once,
  naming the URL, the model, the request's label and the server's message;
- 401/403 (no key, or a wrong one) say so in one line naming the endpoint and
  the environment variable the key came from, without the server's message
  (a hosted endpoint may echo part of the key);
- retries exhausted: :class:`RequestFailed` with ``fatal=False``.

A model with ``api_key_env`` sends ``Authorization: Bearer <key>``, the key read
from that environment variable; it is held only in the request headers, never
in messages, logs or the manifest.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from typing import Any, Awaitable, Callable

import httpx

from real_runs.config import ClientOptions, ModelSpec, Sampling, api_key
from real_runs.errors import RequestFailed


class RequestError(RequestFailed):
    """A request that failed; ``fatal`` says whether retrying could ever help."""

    def __init__(self, msg: str, *, fatal: bool, status: int | None = None) -> None:
        super().__init__(msg)
        self.fatal = fatal
        self.status = status


@dataclass(frozen=True)
class Completion:
    """The n completions of one request."""

    texts: list[str]
    tokens_out: list[int | None]
    finish_reasons: list[str | None]
    tokens_in: int | None
    latency_s: float
    attempts: int


def request_body(model: ModelSpec, prompt: str, *, api: str, n: int, sampling: Sampling, seed: int) -> dict[str, Any]:
    body: dict[str, Any] = {
        "model": model.request_name,
        "n": n,
        "temperature": sampling.temperature,
        "top_p": sampling.top_p,
        "max_tokens": sampling.max_tokens,
        "seed": seed,
    }
    if api == "chat":
        body["messages"] = [{"role": "user", "content": prompt}]
        body["logprobs"] = True
        body["top_logprobs"] = 0
    else:
        body["prompt"] = prompt
        body["logprobs"] = 0
    return body


def parse_response(data: Any, *, api: str, n: int, label: str) -> tuple[list[str], list[int | None], list[str | None], int | None]:
    if not isinstance(data, dict) or not isinstance(data.get("choices"), list):
        raise RequestError(f"{label}: response has no 'choices' list: {str(data)[:300]}", fatal=True)
    choices = sorted(data["choices"], key=lambda c: c.get("index", 0))
    if len(choices) != n:
        raise RequestError(f"{label}: asked for n={n} completions, server returned {len(choices)}", fatal=True)
    texts: list[str] = []
    toks: list[int | None] = []
    finish: list[str | None] = []
    for c in choices:
        if api == "chat":
            msg = c.get("message") or {}
            texts.append(msg.get("content") or "")
            lp = c.get("logprobs") or {}
            content = lp.get("content") if isinstance(lp, dict) else None
            toks.append(len(content) if isinstance(content, list) else None)
        else:
            texts.append(c.get("text") or "")
            lp = c.get("logprobs") or {}
            tl = lp.get("tokens") if isinstance(lp, dict) else None
            toks.append(len(tl) if isinstance(tl, list) else None)
        finish.append(c.get("finish_reason"))
    usage = data.get("usage") or {}
    tin = usage.get("prompt_tokens")
    return texts, toks, finish, tin if isinstance(tin, int) else None


class ServerClient:
    """Async client for OpenAI-compatible servers (vLLM), with retries and timeouts."""

    def __init__(
        self,
        opts: ClientOptions,
        *,
        transport: httpx.AsyncBaseTransport | None = None,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.opts = opts
        self._sleep = sleep
        limits = httpx.Limits(max_connections=opts.concurrency, max_keepalive_connections=opts.concurrency)
        self._http = httpx.AsyncClient(timeout=httpx.Timeout(opts.timeout_s), limits=limits, transport=transport)

    async def aclose(self) -> None:
        await self._http.aclose()

    async def complete(
        self, model: ModelSpec, prompt: str, *, api: str, n: int, sampling: Sampling, seed: int, label: str
    ) -> Completion:
        if model.base_url is None:
            raise RequestError(f"{label}: model {model.name!r} has no base_url", fatal=True)
        url = f"{model.base_url}/{'chat/completions' if api == 'chat' else 'completions'}"
        body = request_body(model, prompt, api=api, n=n, sampling=sampling, seed=seed)
        headers = {"Authorization": f"Bearer {api_key(model.api_key_env)}"} if model.api_key_env else None
        where = f"POST {url} (model {model.request_name!r}, {label})"
        last = ""
        for attempt in range(self.opts.retries + 1):
            if attempt:
                await self._sleep(self.opts.backoff_s * 2 ** (attempt - 1))
            t0 = time.perf_counter()
            try:
                r = await self._http.post(url, json=body, headers=headers)
            except httpx.TimeoutException:
                last = f"timed out after {self.opts.timeout_s:g} s"
                continue
            except httpx.TransportError as e:
                last = f"connection error: {type(e).__name__}: {e}"
                continue
            dt = time.perf_counter() - t0
            if r.status_code >= 500 or r.status_code == 429:
                last = f"HTTP {r.status_code}: {r.text[:300]}"
                continue
            if r.status_code in (401, 403):
                raise RequestError(_auth_message(url, r.status_code, model), fatal=True, status=r.status_code)
            if r.status_code >= 400:
                raise RequestError(f"{where} failed with HTTP {r.status_code}: {r.text[:500]}", fatal=True, status=r.status_code)
            try:
                data = r.json()
            except ValueError:
                raise RequestError(f"{where}: response is not JSON: {r.text[:300]}", fatal=True) from None
            texts, toks, finish, tin = parse_response(data, api=api, n=n, label=where)
            return Completion(texts, toks, finish, tin, dt, attempt + 1)
        raise RequestError(f"{where} failed after {self.opts.retries + 1} tries; last: {last}", fatal=False)


def _auth_message(url: str, status: int, model: ModelSpec) -> str:
    """One line for a refused key; the server's text is left out (it may echo part of the key)."""
    what = "Unauthorized" if status == 401 else "Forbidden"
    if model.api_key_env:
        return (f"POST {url}: HTTP {status} {what}: the server refused the API key from environment variable "
                f"{model.api_key_env} (model {model.request_name!r}); check the key")
    return (f"POST {url}: HTTP {status} {what}: the server asks for an API key (model {model.request_name!r}); "
            "set client.api_key_env to the name of an environment variable holding it")
