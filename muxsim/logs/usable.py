"""Which questions of a ragged :class:`~muxsim.logs.evaluate.AnswerTable` can be used, and a report of the rest.

Real logs are ragged: a model skipped a question, some requests failed so a
pool holds fewer samples, a question has no samples at all.  Nothing is
dropped silently: :func:`usable_table` either keeps every question or drops
the ones named by an explicit policy and returns a :class:`Dropped` report
whose :meth:`Dropped.summary` is one line saying what was dropped and why.

Policy (the ``muxsim evaluate`` / ``fit`` / ``predict --observed`` flags):

* a question that some model has no sample of is an error, unless
  ``common_questions`` (``--common-questions``) or ``min_samples`` asks to
  drop it;
* ``min_samples = M`` (``--min-samples M``) drops every question on which some
  model has fewer than M samples;
* ``need = k_max`` (the largest k of a curve): every kept pool must hold at
  least k_max samples, else an error that names the question and suggests
  ``--min-samples k_max``.  So a curve over k is computed on **one question
  set, the same at every k** (questions whose every pool has >= k_max
  samples); question sets are never mixed across k;
* ``same_size`` (the fits, whose likelihood is for m draws per pool): the kept
  pools must all hold the same number of samples, or, with ``min_samples``
  given, only the first m samples of each are used, m the smallest kept pool
  (>= min_samples; the report counts the samples left out).

``--samples START:STOP`` is applied before all of this (positions counted
from each pool's start), so a pilot ``0:3`` of logs with >= 3 samples
everywhere is rectangular whatever the rest of the pools hold.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import AnswerTable

__all__ = ["Dropped", "usable_table"]

_EXAMPLES = 3


@dataclass(frozen=True)
class Dropped:
    """What :func:`usable_table` left out, and why.

    ``no_samples[model]``: ids of dropped questions on which that model has no
    sample; ``short``: ``(question id, model, samples)`` of dropped questions
    where some model has between 1 and ``min_samples - 1`` samples (the
    smallest such pool of the question); ``unused_samples``: samples after
    position ``first`` of kept pools left out so that every pool holds the
    same number, ``first`` (fits only; the smallest kept pool).
    """

    n_questions: int
    n_kept: int
    min_samples: int | None = None
    no_samples: dict[str, tuple[str, ...]] = field(default_factory=dict)
    short: tuple[tuple[str, str, int], ...] = ()
    unused_samples: int = 0
    first: int | None = None

    @property
    def n_dropped(self) -> int:
        return self.n_questions - self.n_kept

    def __bool__(self) -> bool:
        return self.n_dropped > 0 or self.unused_samples > 0

    def summary(self) -> str:
        """One line: what was dropped and why (empty when nothing was)."""
        if not self:
            return ""
        parts = []
        skipped = sorted({q for qs in self.no_samples.values() for q in qs})
        if skipped:
            who = ", ".join(f"{m!r} {len(qs)}" for m, qs in self.no_samples.items())
            parts.append(f"{len(skipped)} with no samples from some model ({who}; e.g. {_ex(skipped)})")
        if self.short:
            ex = ", ".join(f"{q!r} ({m!r} has {n})" for q, m, n in self.short[:_EXAMPLES])
            parts.append(f"{len(self.short)} with fewer than {self.min_samples} samples from some model (e.g. {ex})")
        line = f"dropped {self.n_dropped} of {self.n_questions} questions"
        line += (": " + "; ".join(parts)) if parts else ""
        line += f"; {self.n_kept} questions used"
        if self.unused_samples:
            line += f"; the first {self.first} samples of every pool used ({self.unused_samples} later samples left out)"
        return line

    def to_dict(self) -> dict:
        return {"n_questions": self.n_questions, "n_kept": self.n_kept, "min_samples": self.min_samples,
                "no_samples": {m: list(q) for m, q in self.no_samples.items()},
                "short": [list(x) for x in self.short], "unused_samples": self.unused_samples, "first": self.first}


def _ex(ids: list[str]) -> str:
    more = f" and {len(ids) - _EXAMPLES} more" if len(ids) > _EXAMPLES else ""
    return ", ".join(repr(q) for q in ids[:_EXAMPLES]) + more


def _check_int(name: str, v: object, lo: int) -> None:
    if v is not None and (isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < lo):
        raise MuxsimError(f"{name}={v!r} must be an integer >= {lo}")


def usable_table(
    table: AnswerTable,
    *,
    min_samples: int | None = None,
    common_questions: bool = False,
    need: int | None = None,
    same_size: bool = False,
) -> tuple[AnswerTable, Dropped]:
    """The questions of ``table`` that can be used, and a report of the dropped ones (module notes give the policy).

    Parameters
    ----------
    table : aligned samples, possibly ragged (models already chosen, ``--samples`` already applied).
    min_samples : drop questions on which some model has fewer samples than this.
    common_questions : drop questions on which some model has no sample.
    need : the largest k to be evaluated; every kept pool must hold at least this many samples.
    same_size : every kept pool must hold the same number of samples (with ``min_samples``, the first m are
        used, m the smallest kept pool).

    Raises :class:`~muxsim.errors.MuxsimError` with one line naming the
    question, the model and the flag to pass, when the table cannot be used as asked.

    >>> from muxsim.logs.format import Sample
    >>> from muxsim.logs.evaluate import answer_table
    >>> s = [Sample("q1", "a", 0, "4", True), Sample("q1", "b", 0, "4", True), Sample("q2", "a", 0, "5", False)]
    >>> tab, dropped = usable_table(answer_table(s), common_questions=True)
    >>> tab.question_ids, dropped.summary()
    (('q1',), "dropped 1 of 2 questions: 1 with no samples from some model ('b' 1; e.g. 'q2'); 1 questions used")
    """
    _check_int("min_samples", min_samples, 1)
    _check_int("need", need, 1)
    sizes = table.sizes
    Q = table.n_questions
    empty = sizes == 0
    if empty.any() and not common_questions and min_samples is None:
        q, i = np.argwhere(empty)[0]
        per_model = {table.models[j]: int(empty[:, j].sum()) for j in range(len(table.models)) if empty[:, j].any()}
        raise MuxsimError(
            f"models answered different question sets: model {table.models[i]!r} has no samples on question "
            f"{table.question_ids[q]!r} (questions without samples per model: {per_model}, of {Q}); pass "
            f"--common-questions to use the {int((~empty.any(axis=1)).sum())} questions every model answered"
        )
    floor = max(min_samples or 1, 1)
    keep = np.all(sizes >= floor, axis=1)
    no_samples = {table.models[j]: tuple(table.question_ids[q] for q in np.flatnonzero(empty[:, j] & ~keep))
                  for j in range(len(table.models)) if (empty[:, j] & ~keep).any()}
    short_q = np.flatnonzero(~keep & ~empty.any(axis=1))
    short = []
    for q in short_q:
        i = int(np.argmin(sizes[q]))
        short.append((table.question_ids[q], table.models[i], int(sizes[q, i])))
    if not keep.any():
        raise MuxsimError(f"no question left: every one of the {Q} questions has a model with fewer than {floor} "
                          f"samples (pools hold {table.size_range()})")
    kept = table.select(questions=np.flatnonzero(keep)) if not keep.all() else table
    ksz = kept.sizes
    if need is not None and int(ksz.min()) < need:
        if not kept.ragged:
            raise MuxsimError(f"k={need} is larger than the K={int(ksz.flat[0])} logged samples per question (k <= K)")
        q, i = np.unravel_index(int(np.argmin(ksz)), ksz.shape)
        n_q = int((ksz < need).any(axis=1).sum())
        fix = (f"pass --min-samples {need} to drop them (one question set for every k), or a smaller k"
               if n_q < kept.n_questions else f"no question has {need} samples in every pool: ask for a smaller k")
        raise MuxsimError(
            f"k={need} needs {need} samples in every pool, but {n_q} of {kept.n_questions} questions have fewer (e.g. "
            f"model {kept.models[i]!r} has {int(ksz[q, i])} on question {kept.question_ids[q]!r}; pools hold "
            f"{kept.size_range()}): {fix}"
        )
    unused, first = 0, None
    if same_size and kept.ragged:
        if min_samples is None:
            raise MuxsimError(
                f"pools hold {kept.size_range()} samples; a fit needs the same number in every pool: pass "
                f"--min-samples M (questions with fewer than M samples dropped, the first m samples of the other pools used, "
                f"m the smallest of them)"
            )
        first = int(ksz.min())
        unused = int((ksz - first).sum())
        kept = kept.first(first)
    return kept, Dropped(Q, kept.n_questions, min_samples, no_samples, tuple(short), unused, first)
