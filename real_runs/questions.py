"""Question sets: the bundled ones and loaders for a user's own files.

Bundled (see data/SOURCES.md and data/LICENSE.*):

- ``gsm8k_500``: 500 GSM8K test questions (MIT); ids ``gsm8k/<i>``; reference =
  the number after ``####``.
- ``math_500``: MATH-500 (MIT); ids ``math/<unique_id>``; reference = ``answer``.
- ``jhu_100``: the 100-question multiple-choice exam of jhu-llm-temperature
  (BSD-2); ids ``jhu100/<id>``; letters A-E.

Not bundled: GPQA (its authors ask that it not be redistributed in plain text).
:func:`load_gpqa` reads a user's own copy of its CSV (columns ``Question``,
``Correct Answer``, ``Incorrect Answer 1..3``, and ``Record ID`` when present);
the four options are shuffled per question with a seeded generator, so the
correct letter is reproducible from (seed, record id).

A user's own JSON Lines set (:func:`load_jsonl`): one object per line with
``id``, ``question``, ``answer`` (reference, may be null) and, for multiple
choice, ``choices`` (``{"A": "...", ...}``) and optional ``context``.
"""

from __future__ import annotations

import csv
import json
import zlib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path

import numpy as np

from muxsim.logs.format import json_lines
from real_runs.errors import ConfigError

BUNDLED = {"gsm8k_500": "gsm8k", "math_500": "math", "jhu_100": "mc"}


@dataclass(frozen=True)
class Question:
    id: str
    question: str
    reference: str | None
    choices: dict[str, str] = field(default_factory=dict)
    context: str = ""

    def fields(self) -> dict[str, str]:
        """Template fields: question, choices (one ``X: text`` line each), context."""
        ch = "\n".join(f"{k}: {v}" for k, v in self.choices.items())
        ctx = f"\nContext: {self.context}\n" if self.context else ""
        return {"question": self.question, "choices": ch, "context": ctx}


def _data(name: str) -> str:
    return resources.files("real_runs").joinpath("data", name).read_text(encoding="utf-8")


def _gsm8k_reference(answer: str, where: str) -> str:
    if "####" not in answer:
        raise ConfigError(f"{where}: answer has no '#### <number>' line")
    return answer.rsplit("####", 1)[1].strip().replace(",", "")


def load_bundled(name: str) -> list[Question]:
    if name == "gsm8k_500":
        rows = json.loads(_data("gsm8k_500.json"))
        return [
            Question(f"gsm8k/{i}", r["question"], _gsm8k_reference(r["answer"], f"gsm8k_500[{i}]"))
            for i, r in enumerate(rows)
        ]
    if name == "math_500":
        rows = json.loads(_data("math_500.json"))
        return [Question(f"math/{r['unique_id']}", r["problem"], r["answer"]) for r in rows]
    if name == "jhu_100":
        out = []
        for line in _data("jhu_comprehensive_100.jsonl").splitlines():
            if line.strip():
                r = json.loads(line)
                out.append(Question(f"jhu100/{r['id']}", r["question"], r["answer"], dict(r["choices"]), r.get("context") or ""))
        return out
    raise ConfigError(f"questions={name!r} is not a bundled set {sorted(BUNDLED)}")


def load_jsonl(path: str | Path) -> list[Question]:
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"questions file {p}: no such file")
    out: list[Question] = []
    seen: set[str] = set()
    for where, r in json_lines(p.read_text(encoding="utf-8").splitlines(), p, ConfigError):
        for k in ("id", "question"):
            if not isinstance(r.get(k), (str, int)) or r.get(k) == "":
                raise ConfigError(f"{where}: {k}={r.get(k)!r} must be a non-empty string")
        qid = str(r["id"])
        if qid in seen:
            raise ConfigError(f"{where}: id={qid!r} appears twice")
        seen.add(qid)
        ref = r.get("answer")
        if ref is not None and not isinstance(ref, str):
            ref = str(ref)
        choices = r.get("choices") or {}
        if not isinstance(choices, dict):
            raise ConfigError(f"{where}: choices={choices!r} must be an object like {{'A': '...'}}")
        out.append(Question(qid, str(r["question"]), ref, {str(k): str(v) for k, v in choices.items()}, r.get("context") or ""))
    if not out:
        raise ConfigError(f"questions file {p}: holds no questions")
    return out


def load_gpqa(path: str | Path, *, seed: int) -> list[Question]:
    """GPQA's CSV format from the user's own copy; options shuffled per question.

    The permutation of a question is drawn from ``numpy.random.default_rng([seed,
    crc32(record id)])``: reproducible in any process, independent of row order.
    """
    p = Path(path)
    if not p.exists():
        raise ConfigError(f"GPQA file {p}: no such file (GPQA is not bundled; point at your own copy)")
    need = ["Question", "Correct Answer", "Incorrect Answer 1", "Incorrect Answer 2", "Incorrect Answer 3"]
    out: list[Question] = []
    with open(p, newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        missing = [c for c in need if c not in (reader.fieldnames or [])]
        if missing:
            raise ConfigError(f"GPQA file {p}: missing column(s) {missing}")
        for i, r in enumerate(reader):
            rid = (r.get("Record ID") or "").strip() or f"row{i}"
            opts = [r["Correct Answer"].strip()] + [r[f"Incorrect Answer {j}"].strip() for j in (1, 2, 3)]
            rng = np.random.default_rng([seed, zlib.crc32(rid.encode())])
            perm = rng.permutation(4)
            letters = "ABCD"
            choices = {letters[j]: opts[perm[j]] for j in range(4)}
            ref = letters[int(np.flatnonzero(perm == 0)[0])]
            out.append(Question(f"gpqa/{rid}", r["Question"].strip(), ref, choices))
    if not out:
        raise ConfigError(f"GPQA file {p}: holds no questions")
    return out
