"""A server that asks for a key: the bearer token comes from an environment variable
named in the config, is sent, and is never written anywhere; a wrong key is one line."""

import json

import httpx
import pytest

from muxsim.logs.format import read_samples
from real_runs.client import RequestError, ServerClient
from real_runs.collect import collect, main
from real_runs.config import parse_config
from real_runs.errors import ConfigError
from real_runs.store import manifest_path

KEY = "sk-test-0123456789abcdef"


class KeyServer:
    """Answers only requests that carry ``Authorization: Bearer <key>``; counts requests."""

    def __init__(self, key):
        self.key = key
        self.calls = 0
        self.auth = []

    def handler(self, request):
        self.calls += 1
        self.auth.append(request.headers.get("authorization"))
        if request.headers.get("authorization") != f"Bearer {self.key}":
            # like OpenAI's hosted API: the refusal echoes part of the key it got
            return httpx.Response(401, json={"error": {"message": f"Incorrect API key provided: {request.headers.get('authorization')}"}})
        body = json.loads(request.content)
        choices = [{"index": i, "text": "#### 7", "finish_reason": "stop"} for i in range(body["n"])]
        return httpx.Response(200, json={"choices": choices, "usage": {"prompt_tokens": 3}})


async def _no_sleep(s):
    pass


def _run(cfg, server):
    client = ServerClient(cfg.client, transport=httpx.MockTransport(server.handler), sleep=_no_sleep)
    return collect(cfg, client=client, progress=False, argv=["run.yaml"])


@pytest.fixture
def keyed(monkeypatch):
    monkeypatch.setenv("MUXSIM_TEST_KEY", KEY)
    monkeypatch.setenv("MUXSIM_OTHER_KEY", "sk-other")
    return "MUXSIM_TEST_KEY"


def test_key_sent_and_never_written(tmp_path, base_config, keyed):
    cfg = parse_config(base_config(tmp_path, limit=2, client={"api_key_env": keyed, "retries": 0}))
    assert [m.api_key_env for m in cfg.models] == [keyed, keyed]
    server = KeyServer(KEY)
    _run(cfg, server)
    assert server.auth and all(a == f"Bearer {KEY}" for a in server.auth)
    assert len(read_samples(cfg.output)) == 2 * 2 * 5
    for p in tmp_path.iterdir():
        assert KEY not in p.read_text(), p
    man = json.loads(manifest_path(cfg.output).read_text())
    assert man["invocations"][0]["api_key_env"] == {"m1": keyed, "m2": keyed}
    assert KEY not in repr(cfg)


def test_per_model_key_overrides_the_client_default(tmp_path, base_config, keyed):
    models = [{"name": "m1", "base_url": "http://h/v1"},
              {"name": "m2", "base_url": "http://h/v1", "api_key_env": "MUXSIM_OTHER_KEY"}]
    cfg = parse_config(base_config(tmp_path, models=models, client={"api_key_env": keyed}))
    assert [m.api_key_env for m in cfg.models] == [keyed, "MUXSIM_OTHER_KEY"]


def test_wrong_key_is_one_line_naming_the_endpoint_no_retry(tmp_path, base_config, keyed):
    cfg = parse_config(base_config(tmp_path, limit=2, client={"api_key_env": keyed, "retries": 3, "concurrency": 1}))
    server = KeyServer("sk-the-right-one")
    with pytest.raises(RequestError) as e:
        _run(cfg, server)
    msg = str(e.value)
    assert "\n" not in msg and "http://127.0.0.1:9/v1/completions" in msg and "HTTP 401" in msg
    assert "MUXSIM_TEST_KEY" in msg and KEY not in msg and "sk-" not in msg
    assert server.calls == 1  # no retry loop
    assert cfg.output.read_text() == ""  # nothing logged


def test_server_asking_for_a_key_without_one(tmp_path, base_config):
    cfg = parse_config(base_config(tmp_path, limit=1, client={"retries": 2, "concurrency": 1}))
    server = KeyServer("sk-needed")
    with pytest.raises(RequestError, match="asks for an API key.*client.api_key_env") as e:
        _run(cfg, server)
    assert server.calls == 1 and "\n" not in str(e.value)


def test_main_wrong_key_exit_2_one_line(tmp_path, base_config, keyed, capsys, monkeypatch):
    import real_runs.collect as collect_mod

    server = KeyServer("sk-the-right-one")
    real = collect_mod.ServerClient
    monkeypatch.setattr(collect_mod, "ServerClient",
                        lambda opts: real(opts, transport=httpx.MockTransport(server.handler), sleep=_no_sleep))
    p = tmp_path / "run.json"
    p.write_text(json.dumps(base_config(tmp_path, limit=1, client={"api_key_env": keyed, "concurrency": 1})))
    assert main([str(p), "--no-progress"]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "HTTP 401" in err[0] and "127.0.0.1:9" in err[0] and KEY not in err[0]
    assert server.calls == 1


@pytest.mark.parametrize(
    "over,match",
    [
        ({"client": {"api_key_env": "MUXSIM_UNSET_VAR"}}, "environment variable MUXSIM_UNSET_VAR is not set"),
        ({"client": {"api_key_env": KEY}}, "NAME of an environment variable"),
        ({"client": {"api_key_env": 12}}, "NAME of an environment variable"),
        ({"client": {"api_key": KEY}}, "never read from the config file"),
        ({"api_key": KEY}, "never the key in the config file"),
        ({"api_key_env": "MUXSIM_TEST_KEY"}, "client.api_key_env"),
        ({"models": [{"name": "m", "base_url": "http://h/v1", "api_key": KEY}]}, "never read from the config file"),
        ({"models": [{"name": "m", "base_url": "http://h/v1", "api_key_env": "sk-abc"}]}, "not the key itself"),
        ({"backend": "offline", "models": [{"name": "m", "path": "/x", "api_key_env": "MUXSIM_TEST_KEY"}]},
         "api_key_env is for backend='server'"),
        ({"backend": "offline", "models": [{"name": "m", "path": "/x"}], "client": {"api_key_env": "MUXSIM_TEST_KEY"}},
         "api_key_env is for backend='server'"),
    ],
)
def test_bad_key_settings(tmp_path, base_config, keyed, over, match):
    with pytest.raises(ConfigError, match=match) as e:
        parse_config(base_config(tmp_path, **over))
    assert KEY not in str(e.value) and "sk-abc" not in str(e.value)


def test_unset_between_config_and_request(tmp_path, base_config, keyed, monkeypatch):
    cfg = parse_config(base_config(tmp_path, limit=1, client={"api_key_env": keyed}))
    monkeypatch.delenv(keyed)
    with pytest.raises(ConfigError, match="MUXSIM_TEST_KEY .* is not set"):
        _run(cfg, KeyServer(KEY))
