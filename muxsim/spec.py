"""Read a population spec (JSON) for ``muxsim predict`` / ``muxsim simulate``.

Two forms (see README "Spec format")::

    {"models": ["A", "B"], "k": [1, 3, 5],
     "questions": [{"id": "q1", "laws": {"A": {"correct": 0.7, "wrong": {"X": 0.3}},
                                         "B": {"correct": 0.2, "wrong": {"B": 0.8}}}}]}

    {"k": {"from": 1, "to": 9},
     "population": {"family": "latent_difficulty", "shared_wrong": true, "nodes": 24,
                    "models": [{"name": "A", "a": 3, "b": 2, "abstain": 0.05,
                                "attractor": 0.6, "loading": 0.5}]}}

Questions may give ``"pools"`` (logged counts) instead of ``"laws"``.
Optional keys: ``methods`` (list), ``r`` (robust level, default 1).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.population import Empirical, LatentDifficulty, ModelParams, Population


@dataclass(frozen=True)
class Spec:
    population: Population
    k: list[int]
    methods: list[str] | None
    r: int


def _ks(v: Any, where: str) -> list[int]:
    if isinstance(v, int) and not isinstance(v, bool):
        return [v]
    if isinstance(v, list) and v and all(isinstance(x, int) and not isinstance(x, bool) for x in v):
        return v
    if isinstance(v, dict) and set(v) == {"from", "to"}:
        return list(range(int(v["from"]), int(v["to"]) + 1))
    raise MuxsimError(f"{where}: k={v!r} must be an int, a list of ints or {{'from': a, 'to': b}}")


def _source(obj: Any, kind: str, where: str):
    if not isinstance(obj, dict):
        raise MuxsimError(f"{where}: expected an object, got {obj!r}")
    allowed = {"correct", "wrong", "tail", "abstain"}
    extra = set(obj) - allowed
    if extra:
        raise MuxsimError(f"{where}: unknown key(s) {sorted(extra)}; allowed {sorted(allowed)}")
    if "correct" not in obj:
        raise MuxsimError(f"{where}: missing 'correct'")
    try:
        cls = AnswerLaw if kind == "laws" else LoggedPool
        return cls(obj["correct"], obj.get("wrong", {}), obj.get("tail", 0 if kind == "pools" else 0.0), obj.get("abstain", 0 if kind == "pools" else 0.0))
    except MuxsimError as e:
        raise MuxsimError(f"{where}: {e}") from None


def parse(obj: Any, where: str = "spec") -> Spec:
    """Validate a spec object; errors name the offending key."""
    if not isinstance(obj, dict):
        raise MuxsimError(f"{where}: top level must be a JSON object")
    known = {"models", "k", "questions", "population", "methods", "r"}
    extra = set(obj) - known
    if extra:
        raise MuxsimError(f"{where}: unknown key(s) {sorted(extra)}")
    ks = _ks(obj.get("k", {"from": 1, "to": 9}), where)
    methods = obj.get("methods")
    if methods is not None and not (isinstance(methods, list) and all(isinstance(m, str) for m in methods)):
        raise MuxsimError(f"{where}: methods must be a list of names")
    r = obj.get("r", 1)
    if ("questions" in obj) == ("population" in obj):
        raise MuxsimError(f"{where}: give exactly one of 'questions' (laws per question) or 'population' (parametric)")
    if "population" in obj:
        p = obj["population"]
        if not isinstance(p, dict) or p.get("family") != "latent_difficulty":
            raise MuxsimError(f"{where}.population: family must be 'latent_difficulty'")
        ms = p.get("models")
        if not isinstance(ms, list) or not ms:
            raise MuxsimError(f"{where}.population.models must be a non-empty list")
        params = []
        for j, m in enumerate(ms):
            if not isinstance(m, dict):
                raise MuxsimError(f"{where}.population.models[{j}] must be an object")
            try:
                params.append(ModelParams(**m))
            except TypeError as e:
                raise MuxsimError(f"{where}.population.models[{j}]: {e}") from None
            except MuxsimError as e:
                raise MuxsimError(f"{where}.population.models[{j}]: {e}") from None
        pop: Population = LatentDifficulty(tuple(params), shared_wrong=bool(p.get("shared_wrong", True)), nodes=int(p.get("nodes", 24)))
        return Spec(pop, ks, methods, r)
    models = obj.get("models")
    if not isinstance(models, list) or not models or not all(isinstance(m, str) for m in models):
        raise MuxsimError(f"{where}: 'models' must list the model names in tie-break order")
    qs = obj["questions"]
    if not isinstance(qs, list) or not qs:
        raise MuxsimError(f"{where}: 'questions' must be a non-empty list")
    rows = []
    for j, q in enumerate(qs):
        w = f"{where}.questions[{j}]" + (f" (id {q.get('id')!r})" if isinstance(q, dict) and "id" in q else "")
        if not isinstance(q, dict) or (("laws" in q) == ("pools" in q)):
            raise MuxsimError(f"{w}: give exactly one of 'laws' or 'pools'")
        kind = "laws" if "laws" in q else "pools"
        per = q[kind]
        if not isinstance(per, dict):
            raise MuxsimError(f"{w}.{kind} must map model name -> {kind[:-1]}")
        unknown = set(per) - set(models)
        if unknown:
            raise MuxsimError(f"{w}: unknown model(s) {sorted(unknown)}; models are {models}")
        missing = [m for m in models if m not in per]
        if missing:
            raise MuxsimError(f"{w}: no {kind[:-1]} for model(s) {missing}")
        rows.append([_source(per[m], kind, f"{w}.{kind}.{m}") for m in models])
    return Spec(Empirical(rows, tuple(models)), ks, methods, r)


def load(path: str | Path) -> Spec:
    p = Path(path)
    try:
        text = p.read_text(encoding="utf-8")
    except OSError as e:
        raise MuxsimError(f"{p}: cannot read ({e.strerror})") from None
    try:
        obj = json.loads(text)
    except json.JSONDecodeError as e:
        raise MuxsimError(f"{p}:{e.lineno}: not valid JSON ({e.msg})") from None
    return parse(obj, where=str(p))
