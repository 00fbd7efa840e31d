import asyncio

import httpx
import pytest

from real_runs.client import RequestError, ServerClient, request_body
from real_runs.config import ClientOptions, ModelSpec, Sampling

M = ModelSpec("m1", "http://127.0.0.1:9/v1")
S = Sampling(k=5, temperature=0.7, top_p=0.9, max_tokens=16, seed=0)


def _run(fake_server, sleeps, opts=ClientOptions(retries=3, backoff_s=1.0), model=M, n=5):
    async def go():
        c = ServerClient(opts, transport=fake_server.transport(), sleep=sleeps)
        try:
            return await c.complete(model, "prompt", api="completions", n=n, sampling=S, seed=7, label="question 'q1'")
        finally:
            await c.aclose()

    return asyncio.run(go())


def test_one_request_n_completions(fake_server, sleeps):
    c = _run(fake_server, sleeps)
    assert len(fake_server.calls) == 1
    body = fake_server.calls[0]
    assert body["n"] == 5 and body["seed"] == 7 and body["top_p"] == 0.9 and body["model"] == "m1"
    assert len(c.texts) == 5 and c.tokens_out == [5, 6, 7, 8, 9] and c.tokens_in == 42
    assert sleeps == []


@pytest.mark.parametrize(
    "failure",
    [
        lambda: httpx.Response(503, text="overloaded"),
        lambda: httpx.Response(500, text="boom"),
        lambda: httpx.Response(429, text="slow down"),
        lambda: httpx.ConnectError("refused"),
        lambda: httpx.ReadTimeout("slow"),
    ],
)
def test_retries_with_backoff_then_succeeds(fake_server, sleeps, failure):
    fake_server.fail = lambda i, body: failure() if i <= 2 else None
    c = _run(fake_server, sleeps)
    assert len(fake_server.calls) == 3 and c.attempts == 3
    assert sleeps == [1.0, 2.0]  # backoff_s * 2**attempt


def test_retries_exhausted_not_fatal(fake_server, sleeps):
    fake_server.fail = lambda i, body: httpx.Response(502, text="bad gateway")
    with pytest.raises(RequestError) as e:
        _run(fake_server, sleeps)
    assert not e.value.fatal
    assert "after 4 tries" in str(e.value) and "HTTP 502" in str(e.value)
    assert sleeps == [1.0, 2.0, 4.0]


def test_4xx_stops_at_once_naming_the_request(fake_server, sleeps):
    with pytest.raises(RequestError) as e:
        _run(fake_server, sleeps, model=ModelSpec("typo", "http://127.0.0.1:9/v1"))
    msg = str(e.value)
    assert e.value.fatal and e.value.status == 404
    assert "'typo'" in msg and "question 'q1'" in msg and "/v1/completions" in msg and "does not exist" in msg
    assert len(fake_server.calls) == 1 and sleeps == []


def test_context_too_long_400(fake_server, sleeps):
    fake_server.fail = lambda i, body: httpx.Response(400, json={"error": {"message": "maximum context length is 512"}})
    with pytest.raises(RequestError, match="HTTP 400.*maximum context length"):
        _run(fake_server, sleeps)


def test_wrong_number_of_choices_is_fatal(fake_server, sleeps):
    fake_server.fail = lambda i, body: httpx.Response(200, json={"choices": [{"index": 0, "text": "x"}]})
    with pytest.raises(RequestError, match="n=5 completions, server returned 1"):
        _run(fake_server, sleeps)


def test_chat_body():
    b = request_body(M, "hi", api="chat", n=3, sampling=S, seed=1)
    assert b["messages"] == [{"role": "user", "content": "hi"}] and b["n"] == 3 and "prompt" not in b
