"""Exact evaluation of real logs: k of the K logged answers, every method, any subset of models.

Logged samples are aligned into an :class:`AnswerTable` (questions x models x
K answers, integer-coded as in :mod:`muxsim.rules`), then turned into one
:class:`~muxsim.laws.LoggedPool` per question and model.  The engine's pool mode
gives the exact expectation of each method when k of the K logged answers are
drawn without replacement (multivariate hypergeometric), and the population
value is the mean over questions, with its standard error over questions.

Ragged logs: pools may hold different numbers of samples (a model that
failed some requests, a question one model skipped).  The table then pads each
pool after its last sample with :data:`NOT_SAMPLED`; ``sizes[q, i]`` is the
pool's real size, ``K`` exists only when every pool holds the same number, and
every k is checked against the pools it draws from.  Which questions a ragged
table can be evaluated on is decided, and reported, by
:func:`muxsim.logs.usable.usable_table`; nothing here drops a question.

Answer identity: two logged answers are the same answer when their normalised
strings are equal.  A wrong answer that appears once among the included
models' pools of a question is passed as ``tail`` (it can tie, never repeat),
which is exact and keeps the pooled vote small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.exact.engine import Engine
from muxsim.layout import Layout
from muxsim.laws import LoggedPool
from muxsim.logs.format import Sample
from muxsim.population import Curves, Empirical, add_paper, check_ks, collect_notes, method_names


#: Padding code after the end of a pool that holds fewer samples than the widest pool.
NOT_SAMPLED = -2

__all__ = ["NOT_SAMPLED", "AnswerTable", "answer_table", "evaluate_logs", "validation_order", "mux_attribution", "per_question_values"]


@dataclass(frozen=True)
class AnswerTable:
    """Aligned logged answers.

    ``codes[q, i, j]`` is model i's j-th logged answer on question q:
    ``0`` correct, ``-1`` no answer, ``1, 2, ...`` the wrong answers of that
    question (numbered by first appearance; one code is one answer string for
    every model).  ``labels[q][c - 1]`` is the string of wrong code c.
    A ragged table (pools of different sizes, or empty pools of a question a
    model skipped) pads positions ``j >= sizes[q, i]`` with ``NOT_SAMPLED``.
    """

    question_ids: tuple[str, ...]
    models: tuple[str, ...]
    codes: np.ndarray  # (Q, n, K) int64
    labels: tuple[tuple[str, ...], ...]

    @property
    def sizes(self) -> np.ndarray:
        """``(Q, n)`` logged samples of each pool (0 where a model has no sample of a question)."""
        return (self.codes != NOT_SAMPLED).sum(axis=2)

    @property
    def ragged(self) -> bool:
        """Whether pools hold different numbers of samples (or some pool is empty)."""
        sz = self.sizes
        return bool(sz.size) and (bool(np.any(sz != sz.flat[0])) or int(sz.flat[0]) == 0)

    def size_range(self) -> str:
        """``"3..24"``: the smallest and largest pool, for messages."""
        sz = self.sizes
        lo, hi = int(sz.min()), int(sz.max())
        return str(lo) if lo == hi else f"{lo}..{hi}"

    @property
    def K(self) -> int:
        """Logged samples per question and model; a ragged table has no single K and raises."""
        if self.ragged:
            q, i = np.unravel_index(int(np.argmin(self.sizes)), self.sizes.shape)
            raise MuxsimError(
                f"ragged logs: pools hold {self.size_range()} samples (model {self.models[i]!r} has "
                f"{int(self.sizes[q, i])} on question {self.question_ids[q]!r}); this needs the same number "
                "everywhere: choose questions with muxsim.logs.usable.usable_table (--min-samples, --common-questions)"
            )
        return int(self.codes.shape[2])

    @property
    def n_questions(self) -> int:
        return int(self.codes.shape[0])

    def index(self, models: Iterable[str] | None) -> list[int]:
        """Indices of the named models (in the order given); errors on unknown or repeated names."""
        if models is None:
            return list(range(len(self.models)))
        models = list(models)
        if not models:
            raise MuxsimError("models: empty selection")
        if len(set(models)) != len(models):
            dup = sorted({m for m in models if models.count(m) > 1})
            raise MuxsimError(f"models {models}: model(s) {dup} named twice")
        unknown = [m for m in models if m not in self.models]
        if unknown:
            raise MuxsimError(f"unknown model(s) {unknown}; the logs have {list(self.models)}")
        return [self.models.index(m) for m in models]

    def select(self, models: Iterable[str] | None = None, samples: slice | Sequence[int] | None = None,
               questions: Sequence[int] | np.ndarray | None = None) -> "AnswerTable":
        """A sub-table: some models (in the order given), samples and questions."""
        idx = self.index(models)
        qs = np.arange(self.n_questions) if questions is None else np.asarray(questions, dtype=int)
        if qs.size == 0:
            raise MuxsimError("questions: empty selection")
        width = int(self.codes.shape[2])
        if samples is not None and self.ragged:
            _check_positions(samples, self.size_range())
        js = np.atleast_1d(np.arange(width)[samples] if samples is not None else np.arange(width))
        if js.size == 0:
            raise MuxsimError(f"samples={samples!r} selects none of the {self.size_range()} logged samples per pool")
        codes = self.codes[np.ix_(qs, idx, js)]
        keep = (codes != NOT_SAMPLED).any(axis=(0, 1))  # drop trailing columns that are padding everywhere
        if not keep.any():
            raise MuxsimError(f"samples={samples!r} selects none of the {self.size_range()} logged samples per pool")
        codes = codes[:, :, : int(np.flatnonzero(keep)[-1]) + 1]
        return AnswerTable(tuple(self.question_ids[q] for q in qs), tuple(self.models[i] for i in idx), codes,
                           tuple(self.labels[q] for q in qs))

    def first(self, m: int) -> "AnswerTable":
        """The first ``m`` logged samples of every pool (each pool must hold at least m): a rectangular table."""
        if isinstance(m, bool) or not isinstance(m, (int, np.integer)) or m < 1:
            raise MuxsimError(f"m={m!r} must be an integer >= 1")
        short = np.argwhere(self.sizes < m)
        if len(short):
            q, i = short[0]
            raise MuxsimError(f"m={m}: model {self.models[i]!r} has only {int(self.sizes[q, i])} samples on "
                              f"question {self.question_ids[q]!r}")
        return AnswerTable(self.question_ids, self.models, self.codes[:, :, :m].copy(), self.labels)

    def accuracy(self) -> np.ndarray:
        """(n,) per-sample accuracy of each model (share of logged answers that are correct)."""
        return (self.codes == rules.CORRECT).sum(axis=(0, 2)) / self.sizes.sum(axis=0)

    def abstain_rate(self) -> np.ndarray:
        """(n,) share of each model's logged samples with no answer."""
        return (self.codes == rules.ABSTAIN).sum(axis=(0, 2)) / self.sizes.sum(axis=0)

    def pools(self, models: Sequence[int] | None = None) -> list[list[LoggedPool]]:
        """``pools[q][i]``: LoggedPool of each selected model; answers seen once among them go to ``tail``."""
        idx = list(range(len(self.models))) if models is None else list(models)
        out = []
        for q in range(self.n_questions):
            c = self.codes[q, idx, :]  # (n, K)
            wrong = c[c > 0]
            labs, cnt = np.unique(wrong, return_counts=True)
            repeated = set(labs[cnt > 1].tolist())
            row = []
            for i, r in zip(idx, c):
                if not (r != NOT_SAMPLED).any():
                    raise MuxsimError(f"model {self.models[i]!r} has no samples on question {self.question_ids[q]!r} "
                                      "(drop such questions: muxsim.logs.usable.usable_table, --common-questions)")
                w: dict[str, int] = {}
                tail = 0
                for v in r[r > 0].tolist():
                    if v in repeated:
                        key = f"a{v}"
                        w[key] = w.get(key, 0) + 1
                    else:
                        tail += 1
                row.append(LoggedPool(int((r == rules.CORRECT).sum()), w, tail=tail, abstain=int((r == rules.ABSTAIN).sum())))
            out.append(row)
        return out

    def empirical(self, models: Iterable[str] | None = None) -> Empirical:
        """The empirical population of logged pools (models in the order given = tie-break order)."""
        idx = self.index(models)
        return Empirical(self.pools(idx), tuple(self.models[i] for i in idx))


def _check_positions(samples: slice | Sequence[int], sizes: str) -> None:
    """Sample positions of a ragged table: a slice with non-negative bounds and step (counted from each pool's start)."""
    if not isinstance(samples, slice):
        raise MuxsimError(f"samples={samples!r}: a ragged table (pools of {sizes} samples) takes a slice START:STOP")
    bad = [v for v in (samples.start, samples.stop, samples.step) if v is not None and v < 0]
    if bad:
        raise MuxsimError(f"samples={samples.start}:{samples.stop}: negative positions count from the end, which differs "
                          f"between pools of {sizes} samples; give positions >= 0")


def answer_table(samples: Sequence[Sample], models: Iterable[str] | None = None) -> AnswerTable:
    """Align samples into an :class:`AnswerTable`.

    Questions are the union of the question ids of the chosen models; each
    pool holds the model's samples of that question in ``sample`` order (its
    positions 0, 1, ...).  Pools may differ in size and may be empty (a ragged
    table, see :data:`NOT_SAMPLED`): :func:`muxsim.logs.usable.usable_table`
    decides, and reports, which questions can be used.  Each sample needs
    ``correct`` (true/false), since the methods are scored against the
    reference.  ``models`` picks and orders the models (default: sorted names).
    """
    if len(samples) == 0:
        raise MuxsimError("no samples given")
    by: dict[str, dict[str, dict[int, Sample]]] = {}
    for s in samples:
        d = by.setdefault(s.model, {}).setdefault(s.question_id, {})
        if s.sample in d:
            raise MuxsimError(f"sample (question_id={s.question_id!r}, model={s.model!r}, sample={s.sample}) appears twice")
        if s.correct is None:
            why = (f"it was not graded ({s.error})" if s.error is not None
                   else "exact evaluation needs a reference answer for every sample")
            raise MuxsimError(
                f"sample (question_id={s.question_id!r}, model={s.model!r}, sample={s.sample}) has correct=null: {why}"
            )
        d[s.sample] = s
    names = sorted(by) if models is None else list(models)
    if models is not None:
        if not names:
            raise MuxsimError("models: empty selection")
        if len(set(names)) != len(names):
            dup = sorted({m for m in names if names.count(m) > 1})
            raise MuxsimError(f"models {names}: model(s) {dup} named twice")
        unknown = [m for m in names if m not in by]
        if unknown:
            raise MuxsimError(f"model(s) {unknown} have no samples; the logs have {sorted(by)}")
    qids = sorted(set().union(*(by[m] for m in names)))
    width = max(len(pool) for m in names for pool in by[m].values())
    codes = np.full((len(qids), len(names), width), NOT_SAMPLED, dtype=np.int64)
    labels = []
    for qi, q in enumerate(qids):
        code_of: dict[str, int] = {}
        for i, m in enumerate(names):
            pool = by[m].get(q, {})
            for j, sidx in enumerate(sorted(pool)):
                s = pool[sidx]
                if s.answer is None:
                    codes[qi, i, j] = rules.ABSTAIN
                elif s.correct:
                    codes[qi, i, j] = rules.CORRECT
                else:
                    codes[qi, i, j] = code_of.setdefault(s.answer, len(code_of) + 1)
        labels.append(tuple(code_of))
    return AnswerTable(tuple(qids), tuple(names), codes, tuple(labels))


def validation_order(table: AnswerTable, validation: Sequence[int] | np.ndarray) -> tuple[tuple[str, ...], np.ndarray]:
    """Tie-break order from a validation split: models by descending per-sample accuracy on those questions.

    Returns ``(ordered model names, accuracies in that order)``; equal accuracies keep the table's order.
    """
    val = table.select(questions=validation)
    acc = val.accuracy()
    order = np.argsort(-acc, kind="stable")
    return tuple(table.models[i] for i in order), acc[order]


def _check_no_empty(table: AnswerTable) -> None:
    """No empty pool: a question a model skipped cannot be evaluated with that model (never read as wrong)."""
    empty = table.sizes == 0
    if empty.any():
        q, i = np.argwhere(empty)[0]
        per_model = {table.models[j]: int(empty[:, j].sum()) for j in range(len(table.models)) if empty[:, j].any()}
        keep = int((~empty.any(axis=1)).sum())
        raise MuxsimError(
            f"model {table.models[i]!r} has no samples on question {table.question_ids[q]!r} (questions without samples "
            f"per model: {per_model}, of {table.n_questions}); use the {keep} questions every model answered with "
            "muxsim.logs.usable.usable_table (--common-questions)"
        )


def _check_k_logged(ks: np.ndarray, table: AnswerTable) -> None:
    """Every k must fit in every pool it draws from (k <= the pool's logged samples; never cut silently)."""
    _check_no_empty(table)
    k = int(ks.max())
    sizes = table.sizes
    if not table.ragged:
        if k > sizes.flat[0]:
            raise MuxsimError(f"k={k} is larger than the K={int(sizes.flat[0])} logged samples per question (k <= K)")
        return
    short = sizes < k
    if short.any():
        q, i = np.argwhere(short)[0]
        n_q = int(short.any(axis=1).sum())
        raise MuxsimError(
            f"k={k} is larger than the {int(sizes[q, i])} logged samples of model {table.models[i]!r} on question "
            f"{table.question_ids[q]!r} ({n_q} of {table.n_questions} questions have a pool under {k}; pools hold "
            f"{table.size_range()}): drop them with muxsim.logs.usable.usable_table (--min-samples {k}) or ask for k <= "
            f"{int(sizes.min())}"
        )


def evaluate_logs(
    table: AnswerTable,
    k: int | Iterable[int] | None = None,
    *,
    models: Iterable[str] | None = None,
    methods: Sequence[str] | None = None,
    r: int = 1,
    validation: Sequence[int] | np.ndarray | None = None,
) -> Curves:
    """Exact accuracy of every method for each k <= K, from the logged answers.

    ``k`` defaults to 1..K, K the smallest pool of the evaluated questions
    (every pool of a rectangular table); each k must fit in every pool, and the
    question set is the same at every k (a ragged table is first cut to usable
    questions by :func:`muxsim.logs.usable.usable_table`).  Models are put in tie-break order: by descending
    accuracy on the ``validation`` questions when given (those questions are
    then left out of the evaluation), else in the order given.  SEs are over
    questions.
    """
    sub = table.select(models)
    if validation is not None:
        order, _ = validation_order(sub, validation)
        rest = np.setdiff1d(np.arange(sub.n_questions), np.asarray(validation, dtype=int))
        if rest.size == 0:
            raise MuxsimError("validation holds every question: nothing left to evaluate")
        sub = sub.select(order, questions=rest)
    _check_no_empty(sub)
    ks = check_ks(range(1, int(sub.sizes.min()) + 1) if k is None else k)
    _check_k_logged(ks, sub)
    meths = method_names(sub.models, methods)
    with collect_notes() as notes:
        pq = per_question_values(sub, sub.models, ks, meths, r)
    Q = sub.n_questions
    values = {m: v.mean(axis=1) for m, v in pq.items()}
    se = {m: (v.std(axis=1, ddof=1) / np.sqrt(Q) if Q > 1 else np.full(len(ks), np.nan)) for m, v in pq.items()}
    return add_paper(Curves(ks, values, se, "exact (logged pools)", tuple(sub.models), notes=tuple(notes)))


def mux_attribution(table: AnswerTable, k: int, *, models: Iterable[str] | None = None, score: str = "per_k") -> dict[str, tuple[float, float]]:
    """Per model (in tie-break order): P(MUX returns its answer), P(returns it and it is correct), mean over questions."""
    ks = check_ks(k)
    sub = table.select(models)
    _check_k_logged(ks, sub)
    eng = Engine(sub.empirical().layout()[0], [int(ks[0])] * len(sub.models))
    _, sel, cor = eng.mux(range(len(sub.models)), [int(ks[0])] * len(sub.models), score)
    return {m: (float(sel[:, i].mean()), float(cor[:, i].mean())) for i, m in enumerate(sub.models)}


def vote_values(lay: Layout, ks: Sequence[int]) -> np.ndarray:
    """``(len(ks), Q)`` exact pooled vote of all models of a layout of logged pools.

    NaN (with a :class:`~muxsim.errors.MuxsimWarning`) where no exact path fits
    the work limit (:meth:`Engine.vote_curve`).
    """
    n = lay.n_models
    eng = Engine(lay, [int(max(ks))] * n)
    return eng.vote_curve(range(n), [[int(k)] * n for k in ks])


def per_question_values(table: AnswerTable, models: Sequence[str], ks: Sequence[int], methods: Sequence[str], r: int = 1) -> dict[str, np.ndarray]:
    """``{method: (len(ks), Q)}`` exact per-question values for one subset of models (tie-break order as given)."""
    from muxsim.population import per_question

    ks = check_ks(ks)
    sub = table.select(models)
    _check_k_logged(ks, sub)
    pop = sub.empirical()
    lay = pop.layout()[0]
    eng = Engine(lay, [int(ks.max())] * len(sub.models))
    idx = list(range(len(sub.models)))
    out = {}
    for m in methods:
        if m == "vote":
            out[m] = vote_values(lay, ks)
        else:
            out[m] = np.array([per_question(eng, m, idx, pop.models, int(kk), r) for kk in ks])
    return out
