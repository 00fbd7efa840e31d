"""The muxsim sample log: JSON Lines, one record per sample.

Every record is one JSON object on one line::

    {"format": "muxsim.sample/1", "question_id": "gsm8k/17", "model": "qwen2.5-7b",
     "sample": 3, "answer": "42", "reference": "42", "correct": true,
     "text": "... The answer is 42.", "temperature": 0.7, "prompt_id": "gsm8k-cot",
     "tokens_in": 131, "tokens_out": 212, "latency_s": 1.92, "source": "real_runs",
     "error": null}

Required: ``question_id`` (str), ``model`` (str), ``sample`` (int >= 0), ``answer``
(normalised answer string, or null for "no answer": unparseable, empty, refused,
failed request), ``correct`` (bool, or null when there is no reference).
Optional: ``reference``, ``text``, ``temperature``, ``prompt_id``, ``tokens_in``,
``tokens_out``, ``latency_s``, ``source``, ``error``, and ``meta`` (a free dict).
``error`` says why a sample has no grade or no answer, and such a sample is kept,
never dropped:

* a failed request: ``answer`` null (no answer), ``correct`` false (or null
  without a reference), e.g. ``"error": "POST ... failed after 5 tries; ..."``;
* an answer that could not be graded: ``answer`` kept, ``correct`` null although
  there is a ``reference``, e.g. ``"error": "grading timed out after 5 s
  (math-verify: ...)"``. A record with a ``reference`` and ``correct`` null must
  carry such an ``error``: an ungraded answer is never silently right or wrong.
A record is keyed by ``(question_id, model, sample)``; a key appears once per file set.

Records whose ``format`` is missing are read as ``muxsim.sample/1``; any other
value is refused.
"""

from __future__ import annotations

import gzip
import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Iterable, Iterator

from muxsim.errors import LogFormatError

FORMAT = "muxsim.sample/1"

_OPTIONAL: dict[str, tuple[type, ...]] = {
    "reference": (str,),
    "text": (str,),
    "temperature": (int, float),
    "prompt_id": (str,),
    "tokens_in": (int,),
    "tokens_out": (int,),
    "latency_s": (int, float),
    "source": (str,),
    "error": (str,),
    "meta": (dict,),
}


@dataclass(frozen=True)
class Sample:
    """One logged sample of one model on one question."""

    question_id: str
    model: str
    sample: int
    answer: str | None
    correct: bool | None
    reference: str | None = None
    text: str | None = None
    temperature: float | None = None
    prompt_id: str | None = None
    tokens_in: int | None = None
    tokens_out: int | None = None
    latency_s: float | None = None
    source: str | None = None
    error: str | None = None
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def key(self) -> tuple[str, str, int]:
        return (self.question_id, self.model, self.sample)

    def to_json(self) -> str:
        d = {"format": FORMAT}
        for k, v in asdict(self).items():
            if v is None and k in _OPTIONAL:
                continue
            if k == "meta" and not v:
                continue
            d[k] = v
        return json.dumps(d, ensure_ascii=False, sort_keys=False)


def _check_record(obj: Any, where: str) -> Sample:
    if not isinstance(obj, dict):
        raise LogFormatError(f"{where}: expected a JSON object, got {type(obj).__name__}")
    fmt = obj.get("format", FORMAT)
    if fmt != FORMAT:
        raise LogFormatError(f"{where}: format={fmt!r} is not {FORMAT!r}")
    for name in ("question_id", "model"):
        if not isinstance(obj.get(name), str) or not obj[name]:
            raise LogFormatError(f"{where}: {name}={obj.get(name)!r} must be a non-empty string")
    s = obj.get("sample")
    if not isinstance(s, int) or isinstance(s, bool) or s < 0:
        raise LogFormatError(f"{where}: sample={s!r} must be an integer >= 0")
    if "answer" not in obj:
        raise LogFormatError(f"{where}: missing 'answer' (use null for no answer)")
    a = obj["answer"]
    if a is not None and not isinstance(a, str):
        raise LogFormatError(f"{where}: answer={a!r} must be a string or null")
    if "correct" not in obj:
        raise LogFormatError(f"{where}: missing 'correct' (use null when there is no reference)")
    c = obj["correct"]
    if c is not None and not isinstance(c, bool):
        raise LogFormatError(f"{where}: correct={c!r} must be true, false or null")
    if a is None and c is True:
        raise LogFormatError(f"{where}: correct=true but answer=null")
    if c is None and obj.get("reference") is not None and obj.get("error") is None:
        raise LogFormatError(
            f"{where}: correct=null with reference={obj['reference']!r} and no 'error' saying why it was not graded"
        )
    kw: dict[str, Any] = {}
    for name, types in _OPTIONAL.items():
        v = obj.get(name)
        if v is None:
            continue
        if not isinstance(v, types) or isinstance(v, bool):
            raise LogFormatError(f"{where}: {name}={v!r} has the wrong type")
        kw[name] = v
    unknown = set(obj) - set(_OPTIONAL) - {"format", "question_id", "model", "sample", "answer", "correct"}
    if unknown:
        raise LogFormatError(f"{where}: unknown field(s) {sorted(unknown)}")
    return Sample(question_id=obj["question_id"], model=obj["model"], sample=s, answer=a, correct=c, **kw)


def _open(path: Path, mode: str) -> IO[str]:
    if path.suffix == ".gz":
        return gzip.open(path, mode + "t", encoding="utf-8")  # type: ignore[return-value]
    return open(path, mode, encoding="utf-8")


def iter_samples(path: str | os.PathLike[str]) -> Iterator[Sample]:
    """Yield validated samples of one log file; raise LogFormatError naming file:line."""
    p = Path(path)
    if not p.exists():
        raise LogFormatError(f"{p}: no such file")
    with _open(p, "r") as fh:
        for where, obj in json_lines(fh, p):
            yield _check_record(obj, where)


def json_lines(lines: Iterable[str], name: object, error: type[Exception] = LogFormatError) -> Iterator[tuple[str, Any]]:
    """``("name:line", object)`` for each non-blank JSON line; bad JSON raises ``error`` naming name:line."""
    for lineno, line in enumerate(lines, 1):
        if not line.strip():
            continue
        where = f"{name}:{lineno}"
        try:
            yield where, json.loads(line)
        except json.JSONDecodeError as e:
            raise error(f"{where}: not valid JSON ({e.msg})") from None


def read_samples(*paths: str | os.PathLike[str]) -> list[Sample]:
    """Read and validate one or more log files; duplicate keys and empty input are errors."""
    if not paths:
        raise LogFormatError("no log files given")
    out: list[Sample] = []
    seen: dict[tuple[str, str, int], str] = {}
    for path in paths:
        n0 = len(out)
        for lineno, s in enumerate(iter_samples(path), 1):
            if s.key in seen:
                raise LogFormatError(
                    f"{path}: sample (question_id={s.question_id!r}, model={s.model!r}, "
                    f"sample={s.sample}) appears twice (first in {seen[s.key]})"
                )
            seen[s.key] = str(path)
            out.append(s)
        if len(out) == n0:
            raise LogFormatError(f"{path}: holds no samples")
    return out


def append_sample(fh: IO[str], sample: Sample) -> None:
    """Append one record and flush it to disk (crash-safe appends for the harness)."""
    fh.write(sample.to_json() + "\n")
    fh.flush()
    os.fsync(fh.fileno())


def write_samples(path: str | os.PathLike[str], samples: Iterable[Sample]) -> None:
    """Write samples to a new log file (``.gz`` suffix compresses)."""
    p = Path(path)
    with _open(p, "w") as fh:
        for s in samples:
            fh.write(s.to_json() + "\n")
