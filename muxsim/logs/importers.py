"""Importers: other projects' result files -> muxsim :class:`~muxsim.logs.format.Sample` records.

Each importer reads one file and returns a list of samples (one per logged
answer, failed extractions kept as ``answer=None``), or raises
:class:`~muxsim.errors.LogFormatError` naming the file (and row/line) it cannot read.

* :func:`read_jhu_details` — the ``details/<model>__temp-<T>.csv`` files of
  Renze & Guven, "The Effect of Sampling Temperature on Problem Solving in
  Large Language Models" (repository matthewrenze/jhu-llm-temperature):
  one row per question, columns ``Answer 1`` ... ``Answer N`` (a letter, or
  empty when no answer was extracted) and ``Correct Answer``.
* :func:`read_slmmux_json` — the per-model result JSON of the SLM-MUX
  reference code: ``{"responses": [{"problem"|"question": ...,
  "reference_answer"|"correct_answer": ..., "samples": [{"extracted_answer": ...}, ...]}, ...]}``
  (a top-level list of such response objects is accepted too).
* :func:`read_lm_eval_samples` — lm-evaluation-harness ``--log_samples`` output
  (``samples_<task>_<timestamp>.jsonl``, one JSON object per document) as
  written by lm-eval 0.4.x (checked against the 0.4.0-0.4.x layout: ``doc_id``,
  ``target``, ``resps``, ``filtered_resps``, ``filter``) for a task with
  ``repeats: K`` whose filter keeps the K extracted answers (e.g. a regex
  filter without ``take_first``/``majority_vote``).  lm-eval's ``"[invalid]"``
  placeholder becomes "no answer".

Answers are normalised with :func:`normalise` (strip, collapse spaces) before
they are compared with the reference; the original text goes to ``text`` when
the source has it.

Ragged logs are read as they are: files of different models may cover
different questions and hold different numbers of samples per question (the
alignment, :func:`muxsim.logs.evaluate.answer_table`, and
:func:`muxsim.logs.usable.usable_table` decide what can be used).  A question
logged with no sample at all (SLM-MUX ``"samples": []``, lm-eval
``"filtered_resps": []``) yields no sample record; each file that has such
questions logs one warning naming how many and which.
"""

from __future__ import annotations

import csv
import gzip
import io
import json
import logging
import os
import re
from pathlib import Path
from typing import Any, Iterable

from muxsim.errors import LogFormatError
from muxsim.logs.format import Sample, json_lines

__all__ = ["normalise", "read_jhu_details", "read_jhu_dir", "read_slmmux_json", "read_lm_eval_samples"]

log = logging.getLogger(__name__)

_JHU_NAME = re.compile(r"^(?P<model>.+)__temp-(?P<temp>\d+(?:\.\d+)?)\.csv(?:\.gz)?$")
_JHU_REQUIRED = ("Problem ID", "Correct Answer")
LM_EVAL_INVALID = "[invalid]"


def normalise(answer: object) -> str | None:
    """A comparable answer string: stripped, inner whitespace collapsed; empty -> None (no answer)."""
    if answer is None:
        return None
    if isinstance(answer, bool):
        raise LogFormatError(f"answer={answer!r} is a boolean, not an answer")
    if isinstance(answer, float) and answer.is_integer():
        answer = int(answer)
    s = " ".join(str(answer).split())
    return s or None


def _graded(qid: str, model: str, j: int, ans: str | None, ref: str | None, raw: object, source: str) -> Sample:
    """One imported sample; correct = (normalised answer == normalised reference), no answer is wrong."""
    return Sample(question_id=qid, model=model, sample=j, answer=ans,
                  correct=None if ref is None else (ans == ref if ans is not None else False),
                  reference=ref, text=raw if isinstance(raw, str) else None, source=source)


def _warn_empty(path: Path, where: str, empty: list[str]) -> None:
    """One warning per file for the questions it logs without any sample (they yield no records)."""
    if empty:
        ex = ", ".join(repr(q[:60]) for q in empty[:3]) + (f" and {len(empty) - 3} more" if len(empty) > 3 else "")
        log.warning("%s: %d question(s) logged with no samples (%s: %s) were read as not sampled by this model",
                    path, len(empty), where, ex)


def _read_text(path: Path) -> str:
    if not path.exists():
        raise LogFormatError(f"{path}: no such file")
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
                return fh.read()
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError, EOFError) as e:
        raise LogFormatError(f"{path}: cannot be read as UTF-8 text ({e})") from None


# ---------------------------------------------------------------------------
# jhu-llm-temperature details CSV
# ---------------------------------------------------------------------------


def read_jhu_details(path: str | os.PathLike[str], model: str | None = None) -> list[Sample]:
    """Samples of one jhu-llm-temperature ``details`` CSV.

    The model name comes from ``model``, else the ``Model Name`` column, else the
    file name ``<model>__temp-<T>.csv``; the temperature from the ``Temperature``
    column or the file name.  Question ids are ``<Exam Name>/<Problem ID>``
    (``comprehensive-100/17``) so that all models of one exam align.  An empty
    ``Answer j`` cell is "no answer" (``answer=None, correct=False``).

    >>> import muxsim.logs.importers as im  # doctest: +SKIP
    >>> s = im.read_jhu_details("real_runs/logs/jhu-llm-temperature/llama-2-7b-chat__temp-0.7.csv.gz")  # doctest: +SKIP
    """
    p = Path(path)
    text = _read_text(p)
    m = _JHU_NAME.match(p.name)
    reader = csv.DictReader(io.StringIO(text, newline=""))
    cols = reader.fieldnames or []
    missing = [c for c in _JHU_REQUIRED if c not in cols]
    answer_cols = sorted((c for c in cols if re.fullmatch(r"Answer \d+", c)), key=lambda c: int(c.split()[1]))
    if missing or not answer_cols:
        what = f"missing column(s) {missing}" if missing else "no 'Answer <j>' columns"
        raise LogFormatError(f"{p}:1: not a jhu-llm-temperature details CSV ({what}; header {cols[:6]}...)")
    out: list[Sample] = []
    seen: set[str] = set()
    for row_no, row in enumerate(reader, 2):
        where = f"{p}:{row_no}"
        if None in row:
            raise LogFormatError(f"{where}: more cells than the {len(cols)} header columns")
        pid = (row.get("Problem ID") or "").strip()
        ref = normalise(row.get("Correct Answer"))
        if not pid:
            raise LogFormatError(f"{where}: empty 'Problem ID'")
        if ref is None:
            raise LogFormatError(f"{where}: empty 'Correct Answer'")
        exam = (row.get("Exam Name") or "").strip() or "exam"
        qid = f"{exam}/{pid}"
        if qid in seen:
            raise LogFormatError(f"{where}: question {qid!r} appears twice")
        seen.add(qid)
        name = model or (row.get("Model Name") or "").strip() or (m.group("model") if m else "")
        if not name:
            raise LogFormatError(f"{where}: no model name (no 'Model Name' column and file name is not <model>__temp-<T>.csv)")
        temp_s = (row.get("Temperature") or "").strip() or (m.group("temp") if m else "")
        try:
            temp = float(temp_s) if temp_s else None
        except ValueError:
            raise LogFormatError(f"{where}: Temperature={temp_s!r} is not a number") from None
        err = (row.get("Error") or "").strip() or None
        for j, col in enumerate(answer_cols):
            ans = normalise(row.get(col))
            out.append(
                Sample(
                    question_id=qid,
                    model=name,
                    sample=j,
                    answer=ans,
                    correct=(ans == ref) if ans is not None else False,
                    reference=ref,
                    temperature=temp,
                    prompt_id=(row.get("Agent Name") or None),
                    source=f"jhu-llm-temperature:{p.name}",
                    error=err if ans is None else None,
                )
            )
    if not out:
        raise LogFormatError(f"{p}: holds no question rows")
    return out


def read_jhu_dir(directory: str | os.PathLike[str], temperature: float, models: Iterable[str] | None = None) -> list[Sample]:
    """All ``<model>__temp-<T>.csv[.gz]`` files of one temperature in a folder (sorted by model name)."""
    d = Path(directory)
    if not d.is_dir():
        raise LogFormatError(f"{d}: no such folder")
    found: dict[str, Path] = {}
    for f in sorted(d.iterdir()):
        m = _JHU_NAME.match(f.name)
        if m and abs(float(m.group("temp")) - float(temperature)) < 1e-9:
            found.setdefault(m.group("model"), f)
    wanted = sorted(found) if models is None else list(models)
    missing = [w for w in wanted if w not in found]
    if missing or not wanted:
        raise LogFormatError(
            f"{d}: no details file at temperature={temperature} for model(s) {missing or '(any)'}; have {sorted(found)}"
        )
    out: list[Sample] = []
    for w in wanted:
        out.extend(read_jhu_details(found[w], model=w))
    return out


# ---------------------------------------------------------------------------
# SLM-MUX reference code: per-model result JSON
# ---------------------------------------------------------------------------


def _load_json(p: Path) -> Any:
    text = _read_text(p)
    try:
        return json.loads(text)
    except json.JSONDecodeError as e:
        raise LogFormatError(f"{p}:{e.lineno}: not valid JSON ({e.msg})") from None


def read_slmmux_json(path: str | os.PathLike[str], model: str | None = None) -> list[Sample]:
    """Samples of one SLM-MUX reference-code result file (one model).

    Question ids are the ``id``/``unique_id`` of a response when present, else
    the problem text itself (so that files of different models align on it).
    The model is ``model``, else the file's top-level ``model``/``model_name``,
    else the file stem.  ``extracted_answer`` null or empty is "no answer".
    A response whose ``samples`` is empty or null was not sampled: it yields no
    record (one warning per file lists such questions).
    """
    p = Path(path)
    data = _load_json(p)
    responses = data.get("responses") if isinstance(data, dict) else data
    if not isinstance(responses, list) or not responses:
        raise LogFormatError(f"{p}: expected a non-empty list 'responses' of result objects")
    name = model
    if name is None and isinstance(data, dict):
        name = data.get("model") or data.get("model_name")
    name = str(name) if name else p.name.split(".")[0]
    out: list[Sample] = []
    seen: set[str] = set()
    empty: list[str] = []
    for i, r in enumerate(responses):
        where = f"{p}: responses[{i}]"
        if not isinstance(r, dict):
            raise LogFormatError(f"{where}: is a {type(r).__name__}, not an object")
        problem = r.get("problem", r.get("question"))
        ref = r.get("reference_answer", r.get("correct_answer"))
        if not isinstance(problem, str) or not problem:
            raise LogFormatError(f"{where}: no 'problem' or 'question' text")
        ref_n = normalise(ref)
        samples = r.get("samples")
        if samples is not None and not isinstance(samples, list):
            raise LogFormatError(f"{where}: 'samples' is a {type(samples).__name__}, not a list")
        qid = str(r.get("id", r.get("unique_id", problem)))
        if qid in seen:
            raise LogFormatError(f"{where}: question {qid[:60]!r} appears twice")
        seen.add(qid)
        if not samples:
            empty.append(qid)
            continue
        for j, s in enumerate(samples):
            if not isinstance(s, dict) or "extracted_answer" not in s:
                raise LogFormatError(f"{where}.samples[{j}]: no 'extracted_answer'")
            ans = normalise(s["extracted_answer"])
            raw = s.get("response", s.get("text"))
            out.append(_graded(qid, name, j, ans, ref_n, raw, f"slm-mux:{p.name}"))
    if not out:
        raise LogFormatError(f"{p}: no response has any samples ({len(responses)} responses)")
    _warn_empty(p, "'samples' empty", empty)
    return out


# ---------------------------------------------------------------------------
# lm-evaluation-harness --log_samples
# ---------------------------------------------------------------------------


def _flat_strings(x: Any, where: str, field: str) -> list[Any]:
    if isinstance(x, list) and len(x) == 1 and isinstance(x[0], list):
        x = x[0]
    if not isinstance(x, list):
        raise LogFormatError(
            f"{where}: {field} is a single {type(x).__name__}, not the list of repeated answers "
            "(the task's filter reduces the repeats, e.g. take_first or majority_vote; log a filter that keeps them)"
        )
    return x


def read_lm_eval_samples(
    path: str | os.PathLike[str], model: str, *, filter_name: str | None = None, task: str | None = None
) -> list[Sample]:
    """Samples of one lm-evaluation-harness 0.4.x ``samples_<task>_*.jsonl`` file.

    Each line holds one document: ``doc_id``, ``target`` (the reference),
    ``filtered_resps`` (the K extracted answers of a task with ``repeats: K``,
    one filter) and ``resps`` (the K raw generations).  When the file holds
    several filters, ``filter_name`` picks one (its lines have ``"filter": name``).
    Correct = the normalised extracted answer equals the normalised target.
    Documents may hold different numbers of answers; one with none
    (``filtered_resps`` empty) yields no record (one warning per file lists them).
    """
    p = Path(path)
    text = _read_text(p)
    tname = task or re.sub(r"^samples_|_\d{4}-\d\d-\d\dT.*$", "", p.name.split(".jsonl")[0])
    out: list[Sample] = []
    filters: set[str] = set()
    seen: set[str] = set()
    empty: list[str] = []
    for where, obj in json_lines(text.splitlines(), p):
        if not isinstance(obj, dict) or "doc_id" not in obj or "filtered_resps" not in obj:
            raise LogFormatError(f"{where}: not an lm-eval sample record (needs 'doc_id' and 'filtered_resps')")
        flt = obj.get("filter", "none")
        filters.add(flt)
        if filter_name is not None and flt != filter_name:
            continue
        answers = _flat_strings(obj["filtered_resps"], where, "filtered_resps")
        raws = obj.get("resps")
        raws = _flat_strings(raws, where, "resps") if raws is not None else [None] * len(answers)
        if len(raws) != len(answers):
            raws = [None] * len(answers)
        ref = normalise(obj.get("target"))
        qid = f"{tname}/{obj['doc_id']}"
        if qid in seen:
            raise LogFormatError(
                f"{where}: doc_id={obj['doc_id']!r} appears twice (several filters {sorted(filters)}? pass filter_name=)"
            )
        seen.add(qid)
        if not answers:
            empty.append(qid)
        for j, (a, raw) in enumerate(zip(answers, raws)):
            if a is not None and not isinstance(a, (str, int, float)):
                raise LogFormatError(f"{where}: filtered_resps[{j}]={a!r} is not an answer string")
            ans = None if a == LM_EVAL_INVALID else normalise(a)
            out.append(_graded(qid, model, j, ans, ref, raw, f"lm-eval:{p.name}" + (f"[{flt}]" if flt != "none" else "")))
    if not out:
        why = f"no line with filter={filter_name!r} (filters: {sorted(filters)})" if filters else "no records"
        if filters and seen:
            why = f"no document has any answer ({len(seen)} documents)"
        raise LogFormatError(f"{p}: {why}")
    _warn_empty(p, "'filtered_resps' empty", empty)
    return out
