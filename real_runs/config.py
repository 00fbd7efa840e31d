"""Run configuration: read from YAML, TOML or JSON, validated at the door.

Every key is checked: unknown keys, wrong types and out-of-range values raise
:class:`ConfigError` naming ``key=value`` and the file. Example (YAML)::

    task: gsm8k                 # gsm8k | math | mc
    questions: gsm8k_500        # bundled: gsm8k_500 | math_500 | jhu_100,
                                # or {jsonl: my.jsonl} or {gpqa: gpqa_diamond.csv}
    limit: 100                  # optional: the first N questions
    prompt: gsm8k-cot           # builtin id, or {id: mine, template: "...{question}..."}
    api: completions            # completions | chat
    backend: server             # server (OpenAI-compatible HTTP) | offline (vllm.LLM)
    models:
      - name: qwen2.5-7b                     # the name written to the log
        base_url: http://127.0.0.1:8000/v1   # server backend
        served_name: Qwen/Qwen2.5-7B-Instruct  # vLLM --served-model-name (default: name)
    sampling: {k: 5, temperature: 0.7, top_p: 0.95, max_tokens: 1024, seed: 0}
    client: {concurrency: 8, timeout_s: 600, retries: 4, backoff_s: 2.0, on_error: stop,
             api_key_env: VLLM_API_KEY}      # optional: see below
    output: runs/gsm8k-qwen.jsonl

A server that asks for a key (vLLM's ``--api-key``, a hosted OpenAI-compatible
endpoint) gets ``Authorization: Bearer <key>``, the key read from the
environment variable NAMED by ``client.api_key_env`` (every model) or
``models[i].api_key_env`` (that model). The key itself never appears in the
config, and is never written to logs, manifests or messages: only the
variable's name is recorded. A named variable that is unset or empty is a
``ConfigError`` when the config is read.

For ``backend: offline`` each model gives ``path`` (a local directory or hub
name for ``vllm.LLM``) instead of ``base_url``; ``offline:`` holds extra keyword
arguments for ``vllm.LLM`` (e.g. ``max_model_len``, ``dtype``) and
``batch_questions`` (questions per ``generate`` call; results are logged after
each call).
"""

from __future__ import annotations

import hashlib
import json
import os
import re
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import yaml

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None  # type: ignore[assignment]

from real_runs import prompts
from real_runs.errors import ConfigError
from real_runs.questions import BUNDLED, Question, load_bundled, load_gpqa, load_jsonl

TASKS = ("gsm8k", "math", "mc")
APIS = ("completions", "chat")
BACKENDS = ("server", "offline")
ON_ERROR = ("stop", "log")


@dataclass(frozen=True)
class ModelSpec:
    name: str
    base_url: str | None = None
    served_name: str | None = None
    path: str | None = None
    #: the NAME of the environment variable holding the bearer token (never the token)
    api_key_env: str | None = None

    @property
    def request_name(self) -> str:
        return self.served_name or self.name


@dataclass(frozen=True)
class Sampling:
    k: int
    temperature: float = 0.7
    top_p: float = 1.0
    max_tokens: int = 1024
    seed: int = 0


@dataclass(frozen=True)
class ClientOptions:
    concurrency: int = 8
    timeout_s: float = 600.0
    retries: int = 4
    backoff_s: float = 2.0
    on_error: str = "stop"
    #: default for every model: the NAME of the environment variable holding the bearer token
    api_key_env: str | None = None


@dataclass(frozen=True)
class RunConfig:
    task: str
    questions_source: str
    questions: tuple[Question, ...]
    all_questions_sha256: str
    limit: int | None
    prompt_id: str
    template: str
    api: str
    backend: str
    models: tuple[ModelSpec, ...]
    sampling: Sampling
    client: ClientOptions
    output: Path
    offline: dict[str, Any] = field(default_factory=dict)

    def identity(self) -> dict[str, Any]:
        """What defines the samples: a resume must match it exactly.

        Left out on purpose: base URLs (a server may move), client options, the
        output path, and ``limit`` (a run may be extended to more questions of
        the same set).
        """
        return {
            "task": self.task,
            "questions": self.questions_source,
            "questions_sha256": self.all_questions_sha256,
            "prompt_id": self.prompt_id,
            "template": self.template,
            "api": self.api,
            "backend": self.backend,
            "models": [{"name": m.name, "served_name": m.request_name, "path": m.path} for m in self.models],
            "sampling": asdict(self.sampling),
        }


def _err(where: str, msg: str) -> ConfigError:
    return ConfigError(f"{where}: {msg}")


_ENV_NAME_RE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _api_key_env(d: dict, where: str) -> str | None:
    """The environment variable named by ``d['api_key_env']``, checked to be set; None if absent.

    Messages never quote the value unless it is a valid variable name (it
    could be a key pasted by mistake).
    """
    if "api_key" in d:
        raise _err(where, "api_key: a key is never read from the config file; put it in an environment "
                          "variable and give that variable's name as api_key_env")
    if "api_key_env" not in d:
        return None
    name = d["api_key_env"]
    if not isinstance(name, str) or not _ENV_NAME_RE.fullmatch(name):
        raise _err(where, "api_key_env must be the NAME of an environment variable (letters, digits, _), "
                          "not the key itself")
    if not os.environ.get(name):
        raise _err(where, f"api_key_env={name!r}: environment variable {name} is not set or empty")
    return name


def api_key(name: str) -> str:
    """The bearer token held by environment variable ``name`` (read when a request is sent)."""
    key = os.environ.get(name)
    if not key:
        raise ConfigError(f"environment variable {name} (api_key_env) is not set or empty")
    return key


def _only(d: dict, allowed: set[str], where: str) -> None:
    bad = sorted(set(d) - allowed)
    if bad:
        raise _err(where, f"unknown key(s) {bad}; allowed: {sorted(allowed)}")


def _num(d: dict, key: str, default: Any, where: str, *, kind: type, lo: float | None = None,
         hi: float | None = None, lo_open: bool = False) -> Any:
    v = d.get(key, default)
    ok_types = (int,) if kind is int else (int, float)
    if not isinstance(v, ok_types) or isinstance(v, bool):
        raise _err(where, f"{key}={v!r} must be {'an integer' if kind is int else 'a number'}")
    if lo is not None and (v <= lo if lo_open else v < lo):
        raise _err(where, f"{key}={v!r} must be {'>' if lo_open else '>='} {lo}")
    if hi is not None and v > hi:
        raise _err(where, f"{key}={v!r} must be <= {hi}")
    return kind(v)


def _str(d: dict, key: str, where: str, *, choices: tuple[str, ...] | None = None, default: Any = ...) -> Any:
    if key not in d:
        if default is ...:
            raise _err(where, f"missing required key {key!r}")
        return default
    v = d[key]
    if not isinstance(v, str) or not v.strip():
        raise _err(where, f"{key}={v!r} must be a non-empty string")
    if choices is not None and v not in choices:
        raise _err(where, f"{key}={v!r} is not one of {list(choices)}")
    return v


def read_config_file(path: str | Path) -> dict[str, Any]:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"config {p}: no such file")
    if p.suffix not in (".yaml", ".yml", ".toml", ".json"):
        raise ConfigError(f"config {p}: suffix {p.suffix!r} is not .yaml/.yml/.toml/.json")
    if p.suffix == ".toml" and tomllib is None:
        raise ConfigError(f"config {p}: reading TOML needs Python >= 3.11; use .yaml or .json")
    text = p.read_text(encoding="utf-8")
    try:
        if p.suffix == ".toml":
            raw = tomllib.loads(text)
        elif p.suffix == ".json":
            raw = json.loads(text)
        else:
            raw = yaml.safe_load(text)
    except (yaml.YAMLError, ValueError) as e:
        raise ConfigError(f"config {p}: cannot be parsed ({e})") from None
    if not isinstance(raw, dict):
        raise ConfigError(f"config {p}: top level must be a mapping, got {type(raw).__name__}")
    return raw


def _questions_sha(qs: list[Question]) -> str:
    h = hashlib.sha256()
    for q in qs:
        h.update(json.dumps([q.id, q.question, q.reference, q.choices, q.context], ensure_ascii=False).encode())
    return h.hexdigest()


def load_config(path: str | Path, *, overrides: dict[str, Any] | None = None) -> RunConfig:
    """Read and validate a config file (``overrides`` replace top-level keys)."""
    raw = read_config_file(path)
    if overrides:
        raw = {**raw, **overrides}
    return parse_config(raw, where=f"config {path}", base=Path(path).resolve().parent)


def parse_config(raw: dict[str, Any], *, where: str = "config", base: Path | None = None) -> RunConfig:
    base = base or Path.cwd()
    if "api_key" in raw or "api_key_env" in raw:
        raise _err(where, "a server's key is named in client.api_key_env (or models[i].api_key_env): the NAME of "
                          "an environment variable holding it, never the key in the config file")
    _only(raw, {"task", "questions", "limit", "prompt", "api", "backend", "models", "sampling", "client", "output", "offline"}, where)
    task = _str(raw, "task", where, choices=TASKS)
    api = _str(raw, "api", where, choices=APIS, default="completions")
    backend = _str(raw, "backend", where, choices=BACKENDS, default="server")

    # questions
    qspec = raw.get("questions")
    sampling_raw = raw.get("sampling")
    if not isinstance(sampling_raw, dict):
        raise _err(where, f"sampling={sampling_raw!r} must be a mapping with at least k")
    sw = f"{where} [sampling]"
    _only(sampling_raw, {"k", "temperature", "top_p", "max_tokens", "seed"}, sw)
    if "k" not in sampling_raw:
        raise _err(sw, "missing required key 'k'")
    sampling = Sampling(
        k=_num(sampling_raw, "k", None, sw, kind=int, lo=1),
        temperature=_num(sampling_raw, "temperature", 0.7, sw, kind=float, lo=0.0, hi=10.0),
        top_p=_num(sampling_raw, "top_p", 1.0, sw, kind=float, lo=0.0, hi=1.0, lo_open=True),
        max_tokens=_num(sampling_raw, "max_tokens", 1024, sw, kind=int, lo=1),
        seed=_num(sampling_raw, "seed", 0, sw, kind=int, lo=0),
    )
    if isinstance(qspec, str):
        if qspec not in BUNDLED:
            raise _err(where, f"questions={qspec!r} is not a bundled set {sorted(BUNDLED)}; "
                              "use {jsonl: FILE} or {gpqa: FILE} for your own")
        if BUNDLED[qspec] != task:
            raise _err(where, f"questions={qspec!r} is a {BUNDLED[qspec]!r} set but task={task!r}")
        qs = load_bundled(qspec)
        source = qspec
    elif isinstance(qspec, dict) and len(qspec) == 1 and next(iter(qspec)) in ("jsonl", "gpqa"):
        kind, file = next(iter(qspec.items()))
        if not isinstance(file, str) or not file:
            raise _err(where, f"questions.{kind}={file!r} must be a file path")
        fp = Path(file) if Path(file).is_absolute() else base / file
        if kind == "gpqa":
            if task != "mc":
                raise _err(where, f"questions.gpqa needs task='mc', got task={task!r}")
            qs = load_gpqa(fp, seed=sampling.seed)
        else:
            qs = load_jsonl(fp)
        source = f"{kind}:{Path(file).name}"
    else:
        raise _err(where, f"questions={qspec!r} must be a bundled name {sorted(BUNDLED)}, "
                          "{jsonl: FILE} or {gpqa: FILE}")
    if task == "mc":
        for q in qs:
            if not q.choices:
                raise _err(where, f"task='mc' but question {q.id!r} has no choices")
            keys = "".join(q.choices)
            if not (keys.isalpha() and keys.isupper() and len(keys) == len(q.choices)):
                raise _err(where, f"question {q.id!r}: choice keys {list(q.choices)} must be single letters A-Z")
    sha = _questions_sha(qs)
    limit = raw.get("limit")
    if limit is not None:
        limit = _num(raw, "limit", None, where, kind=int, lo=1)
        if limit > len(qs):
            raise _err(where, f"limit={limit} exceeds the {len(qs)} questions of {source!r}")
        qs = qs[:limit]

    # prompt
    p = raw.get("prompt", prompts.DEFAULT_FOR_TASK[task])
    if isinstance(p, str):
        prompt_id, template = p, prompts.builtin(p)
    elif isinstance(p, dict):
        _only(p, {"id", "template"}, f"{where} [prompt]")
        prompt_id = _str(p, "id", f"{where} [prompt]")
        template = _str(p, "template", f"{where} [prompt]")
    else:
        raise _err(where, f"prompt={p!r} must be a builtin id {list(prompts.BUILTIN)} or {{id, template}}")
    prompts.check_template(template, f"{where} [prompt {prompt_id}]")
    if task == "mc" and "{choices}" not in template:
        raise _err(where, f"prompt {prompt_id!r} for task='mc' has no {{choices}} field")

    # models
    models_raw = raw.get("models")
    if not isinstance(models_raw, list) or not models_raw:
        raise _err(where, f"models={models_raw!r} must be a non-empty list")
    models: list[ModelSpec] = []
    for i, m in enumerate(models_raw):
        mw = f"{where} [models[{i}]]"
        if not isinstance(m, dict):
            raise _err(mw, f"{m!r} must be a mapping with name and base_url (or path)")
        key_env = _api_key_env(m, mw)
        _only(m, {"name", "base_url", "served_name", "path", "api_key_env"}, mw)
        name = _str(m, "name", mw)
        if backend == "server":
            url = _str(m, "base_url", mw)
            if not url.startswith(("http://", "https://")):
                raise _err(mw, f"base_url={url!r} must start with http:// or https://")
            if "path" in m:
                raise _err(mw, "path is for backend='offline'; the server backend needs base_url")
            spec = ModelSpec(name, url.rstrip("/"), _str(m, "served_name", mw, default=None), api_key_env=key_env)
        else:
            if "base_url" in m:
                raise _err(mw, "base_url is for backend='server'; the offline backend needs path")
            if key_env is not None:
                raise _err(mw, "api_key_env is for backend='server'")
            spec = ModelSpec(name, None, _str(m, "served_name", mw, default=None), _str(m, "path", mw))
        models.append(spec)
    names = [m.name for m in models]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise _err(where, f"model name(s) {dup} appear more than once")

    # client
    c = raw.get("client", {})
    if not isinstance(c, dict):
        raise _err(where, f"client={c!r} must be a mapping")
    cw = f"{where} [client]"
    client_key_env = _api_key_env(c, cw)
    _only(c, {"concurrency", "timeout_s", "retries", "backoff_s", "on_error", "api_key_env"}, cw)
    client = ClientOptions(
        concurrency=_num(c, "concurrency", 8, cw, kind=int, lo=1),
        timeout_s=_num(c, "timeout_s", 600.0, cw, kind=float, lo=0.0, lo_open=True),
        retries=_num(c, "retries", 4, cw, kind=int, lo=0),
        backoff_s=_num(c, "backoff_s", 2.0, cw, kind=float, lo=0.0),
        on_error=_str(c, "on_error", cw, choices=ON_ERROR, default="stop"),
        api_key_env=client_key_env,
    )
    if client_key_env is not None:
        if backend != "server":
            raise _err(cw, "api_key_env is for backend='server'")
        models = [m if m.api_key_env else replace(m, api_key_env=client_key_env) for m in models]
    out = _str(raw, "output", where)
    op = Path(out) if Path(out).is_absolute() else base / out
    if op.suffix != ".jsonl":
        raise _err(where, f"output={out!r} must end in .jsonl")
    offline = raw.get("offline", {})
    if not isinstance(offline, dict):
        raise _err(where, f"offline={offline!r} must be a mapping")
    if offline and backend != "offline":
        raise _err(where, f"offline options given but backend={backend!r}")
    if "batch_questions" in offline:
        _num(offline, "batch_questions", None, f"{where} [offline]", kind=int, lo=1)
    return RunConfig(
        task=task, questions_source=source, questions=tuple(qs), all_questions_sha256=sha, limit=limit,
        prompt_id=prompt_id, template=template, api=api, backend=backend, models=tuple(models),
        sampling=sampling, client=client, output=op, offline=dict(offline),
    )
