"""The pool of tiny models: what each one is trained on, and the presets.

A :class:`Member` names one model's architecture (a ``LlamaForCausalLM`` with
``head_dim`` 32), its training mix over the operations, optional *confusions*
(an operation whose training labels are another operation's result, which
makes the model confidently wrong on that operation), its number of steps and
its seed.  Pure data: torch is only needed by :mod:`real_runs.testbed.train`.

Presets (:data:`PRESETS`):

* ``default`` — four models with complementary, overlapping skills:
  ``adder`` and ``subtractor`` (specialists, most of their training on their
  own operation but not saturated), ``muddler`` (good at multiplication, but
  trained to answer ``a+b`` for ``a-b``: confidently wrong on subtraction, so
  the contradiction penalty shows) and ``generalist`` (small, uniform mix);
* ``ci`` — the reduced pool of the CI stage: two small models, few steps.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from real_runs.testbed.tasks import OPS, TestbedError

CONFUSIONS = {"sum": "+", "difference": "-", "product": "*"}


@dataclass(frozen=True)
class Member:
    """One model of the pool and how it is trained."""

    name: str
    hidden: int = 128
    layers: int = 4
    intermediate: int | None = None  # default 2 * hidden
    mix: dict[str, float] = field(default_factory=lambda: {"+": 1.0, "-": 1.0, "*": 1.0})
    confuse: dict[str, str] = field(default_factory=dict)  # op -> "sum" | "difference" | "product"
    steps: int = 600
    batch: int = 48
    lr: float = 3e-3
    seed: int = 0

    def __post_init__(self) -> None:
        w = f"member {self.name!r}"
        if not self.name or not all(c.isalnum() or c in "-_" for c in self.name):
            raise TestbedError(f"{w}: name={self.name!r} must be non-empty letters, digits, '-' or '_'")
        for key in ("hidden", "layers", "steps", "batch"):
            v = getattr(self, key)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise TestbedError(f"{w}: {key}={v!r} must be an integer >= 1")
        if self.hidden % 32:
            raise TestbedError(f"{w}: hidden={self.hidden} must be a multiple of head_dim=32")
        bad = [o for o in self.mix if o not in OPS]
        if bad or not self.mix:
            raise TestbedError(f"{w}: mix={self.mix!r} must weight some of {OPS}")
        if any((not isinstance(x, (int, float))) or x < 0 for x in self.mix.values()) or sum(self.mix.values()) <= 0:
            raise TestbedError(f"{w}: mix={self.mix!r} weights must be >= 0 with a positive sum")
        for op, how in self.confuse.items():
            if op not in OPS or how not in CONFUSIONS or CONFUSIONS[how] == op:
                raise TestbedError(f"{w}: confuse={{{op!r}: {how!r}}} must map an op {OPS} to another op's "
                                   f"result {sorted(CONFUSIONS)}")
        if not (isinstance(self.lr, (int, float)) and self.lr > 0):
            raise TestbedError(f"{w}: lr={self.lr!r} must be > 0")

    @property
    def heads(self) -> int:
        return self.hidden // 32

    @property
    def ffn(self) -> int:
        return self.intermediate or 2 * self.hidden

    def label(self, a: int, op: str, b: int) -> int:
        """The training label of ``a op b`` for this model (the true result unless confused)."""
        how = self.confuse.get(op)
        use = CONFUSIONS[how] if how else op
        return a + b if use == "+" else a - b if use == "-" else a * b

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        d["intermediate"] = self.ffn
        return d

    def key(self, extra: dict[str, Any]) -> str:
        """A short hash of everything that defines the trained weights."""
        blob = json.dumps({"member": self.to_dict(), **extra}, sort_keys=True)
        return hashlib.sha256(blob.encode()).hexdigest()[:12]


def _specialist(name: str, op: str, share: float, **kw: Any) -> Member:
    rest = (1.0 - share) / 2
    return Member(name, mix={o: (share if o == op else rest) for o in OPS}, **kw)


PRESETS: dict[str, dict[str, Any]] = {
    "default": {
        "members": [
            _specialist("adder", "+", 0.75, hidden=64, layers=2, steps=800, batch=128, seed=1),
            _specialist("subtractor", "-", 0.75, hidden=64, layers=2, steps=800, batch=128, seed=2),
            Member("muddler", hidden=64, layers=2, mix={"+": 0.15, "-": 0.25, "*": 0.6},
                   confuse={"-": "sum"}, steps=900, batch=128, seed=3),
            Member("generalist", hidden=64, layers=2, steps=900, batch=128, seed=4),
        ],
        "questions": 200, "k": 10, "pilot": 3, "temperature": 0.8, "held_out_seed": 0,
    },
    "ci": {
        "members": [
            _specialist("adder", "+", 0.8, hidden=64, layers=2, steps=150, seed=1),
            Member("muddler", hidden=64, layers=2, mix={"+": 0.2, "-": 0.3, "*": 0.5},
                   confuse={"-": "sum"}, steps=150, seed=3),
        ],
        "questions": 48, "k": 10, "pilot": 3, "temperature": 0.8, "held_out_seed": 0,
    },
}


def members_from_json(path: str) -> list[Member]:
    """A pool from a JSON file: a list of :class:`Member` keyword objects (``name`` required)."""
    import pathlib

    try:
        raw = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as e:
        raise TestbedError(f"pool file {path}: cannot be read ({e})") from None
    if not isinstance(raw, list) or not raw or not all(isinstance(x, dict) for x in raw):
        raise TestbedError(f"pool file {path}: must hold a non-empty list of objects")
    allowed = {f.name for f in dataclasses.fields(Member)}
    out = []
    for i, d in enumerate(raw):
        bad = sorted(set(d) - allowed)
        if bad:
            raise TestbedError(f"pool file {path}[{i}]: unknown key(s) {bad}; allowed: {sorted(allowed)}")
        d = dict(d)
        if d.get("intermediate") == 2 * d.get("hidden", 128):
            d["intermediate"] = None  # the default, as Member.to_dict writes it
        out.append(Member(**d))
    names = [m.name for m in out]
    if len(set(names)) != len(names):
        raise TestbedError(f"pool file {path}: a model name appears twice in {names}")
    return out


def preset(name: str, **overrides: Any) -> dict[str, Any]:
    if name not in PRESETS:
        raise TestbedError(f"preset={name!r} is not one of {sorted(PRESETS)}")
    cfg = dict(PRESETS[name])
    bad = sorted(set(overrides) - set(cfg))
    if bad:
        raise TestbedError(f"unknown override(s) {bad}; allowed: {sorted(cfg)}")
    cfg.update({k: v for k, v in overrides.items() if v is not None})
    return cfg


def scaled(members: list[Member], steps_factor: float) -> list[Member]:
    """The same pool with every member's steps multiplied by ``steps_factor`` (at least 1 step)."""
    if not steps_factor > 0:
        raise TestbedError(f"steps_factor={steps_factor!r} must be > 0")
    return [replace(m, steps=max(1, round(m.steps * steps_factor))) for m in members]
