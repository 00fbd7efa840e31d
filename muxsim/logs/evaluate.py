"""Exact evaluation of real logs: k of the K logged answers, every method, any subset of models.

Logged samples are aligned into an :class:`AnswerTable` (questions x models x
K answers, integer-coded as in :mod:`muxsim.rules`), then turned into one
:class:`~muxsim.laws.LoggedPool` per question and model.  The engine's pool mode
gives the exact expectation of each method when k of the K logged answers are
drawn without replacement (multivariate hypergeometric), and the population
value is the mean over questions, with its standard error over questions.

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
from muxsim.population import Curves, Empirical, add_paper, check_ks, method_names


__all__ = ["AnswerTable", "answer_table", "evaluate_logs", "validation_order", "mux_attribution", "per_question_values"]


@dataclass(frozen=True)
class AnswerTable:
    """Aligned logged answers.

    ``codes[q, i, j]`` is model i's j-th logged answer on question q:
    ``0`` correct, ``-1`` no answer, ``1, 2, ...`` the wrong answers of that
    question (numbered by first appearance; one code is one answer string for
    every model).  ``labels[q][c - 1]`` is the string of wrong code c.
    """

    question_ids: tuple[str, ...]
    models: tuple[str, ...]
    codes: np.ndarray  # (Q, n, K) int64
    labels: tuple[tuple[str, ...], ...]

    @property
    def K(self) -> int:
        """Logged samples per question and model."""
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
        js = np.arange(self.K)[samples] if samples is not None else np.arange(self.K)
        js = np.atleast_1d(js)
        if js.size == 0:
            raise MuxsimError(f"samples={samples!r} selects none of the K={self.K} logged samples")
        codes = self.codes[np.ix_(qs, idx, js)]
        return AnswerTable(tuple(self.question_ids[q] for q in qs), tuple(self.models[i] for i in idx), codes,
                           tuple(self.labels[q] for q in qs))

    def accuracy(self) -> np.ndarray:
        """(n,) per-sample accuracy of each model (share of logged answers that are correct)."""
        return (self.codes == rules.CORRECT).mean(axis=(0, 2))

    def abstain_rate(self) -> np.ndarray:
        return (self.codes == rules.ABSTAIN).mean(axis=(0, 2))

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
            for r in c:
                w: dict[str, int] = {}
                tail = 0
                for v in r[r > 0].tolist():
                    if v in repeated:
                        key = f"a{v}"
                        w[key] = w.get(key, 0) + 1
                    else:
                        tail += 1
                row.append(LoggedPool(int((r == 0).sum()), w, tail=tail, abstain=int((r < 0).sum())))
            out.append(row)
        return out

    def empirical(self, models: Iterable[str] | None = None) -> Empirical:
        """The empirical population of logged pools (models in the order given = tie-break order)."""
        idx = self.index(models)
        return Empirical(self.pools(idx), tuple(self.models[i] for i in idx))


def answer_table(samples: Sequence[Sample], models: Iterable[str] | None = None) -> AnswerTable:
    """Align samples into an :class:`AnswerTable`.

    Every model must have answered the same question ids with the same number
    K of samples on each; each sample needs ``correct`` (true/false), since the
    methods are scored against the reference.  ``models`` picks and orders the
    models (default: sorted names).
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
        if len(set(names)) != len(names):
            dup = sorted({m for m in names if names.count(m) > 1})
            raise MuxsimError(f"models {names}: model(s) {dup} named twice")
        unknown = [m for m in names if m not in by]
        if unknown:
            raise MuxsimError(f"model(s) {unknown} have no samples; the logs have {sorted(by)}")
    qids = sorted(by[names[0]])
    for m in names[1:]:
        if set(by[m]) != set(qids):
            only_a = sorted(set(qids) - set(by[m]))[:3]
            only_b = sorted(set(by[m]) - set(qids))[:3]
            raise MuxsimError(
                f"models {names[0]!r} and {m!r} answered different question sets "
                f"({len(qids)} vs {len(by[m])} questions; e.g. only {names[0]!r}: {only_a}, only {m!r}: {only_b})"
            )
    K = len(by[names[0]][qids[0]])
    for m in names:
        for q in qids:
            if len(by[m][q]) != K:
                raise MuxsimError(
                    f"model {m!r} has {len(by[m][q])} samples on question {q!r}, expected K={K} as everywhere else"
                )
    codes = np.zeros((len(qids), len(names), K), dtype=np.int64)
    labels = []
    for qi, q in enumerate(qids):
        code_of: dict[str, int] = {}
        for i, m in enumerate(names):
            for j, sidx in enumerate(sorted(by[m][q])):
                s = by[m][q][sidx]
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


def _check_k_logged(ks: np.ndarray, K: int) -> None:
    if np.any(ks > K):
        raise MuxsimError(f"k={int(ks.max())} is larger than the K={K} logged samples per question (k <= K)")


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

    ``k`` defaults to 1..K.  Models are put in tie-break order: by descending
    accuracy on the ``validation`` questions when given (those questions are
    then left out of the evaluation), else in the order given.  SEs are over
    questions.
    """
    ks = check_ks(range(1, table.K + 1) if k is None else k)
    _check_k_logged(ks, table.K)
    sub = table.select(models)
    if validation is not None:
        order, _ = validation_order(sub, validation)
        rest = np.setdiff1d(np.arange(sub.n_questions), np.asarray(validation, dtype=int))
        if rest.size == 0:
            raise MuxsimError("validation holds every question: nothing left to evaluate")
        sub = sub.select(order, questions=rest)
    meths = method_names(sub.models, methods)
    pq = per_question_values(sub, sub.models, ks, meths, r)
    Q = sub.n_questions
    values = {m: v.mean(axis=1) for m, v in pq.items()}
    se = {m: (v.std(axis=1, ddof=1) / np.sqrt(Q) if Q > 1 else np.full(len(ks), np.nan)) for m, v in pq.items()}
    return add_paper(Curves(ks, values, se, "exact (logged pools)", tuple(sub.models)))


def mux_attribution(table: AnswerTable, k: int, *, models: Iterable[str] | None = None, score: str = "per_k") -> dict[str, tuple[float, float]]:
    """Per model (in tie-break order): P(MUX returns its answer), P(returns it and it is correct), mean over questions."""
    ks = check_ks(k)
    _check_k_logged(ks, table.K)
    sub = table.select(models)
    eng = Engine(sub.empirical().layout()[0], [int(ks[0])] * len(sub.models))
    _, sel, cor = eng.mux(range(len(sub.models)), [int(ks[0])] * len(sub.models), score)
    return {m: (float(sel[:, i].mean()), float(cor[:, i].mean())) for i, m in enumerate(sub.models)}


def vote_values(lay: Layout, ks: Sequence[int]) -> np.ndarray:
    """``(len(ks), Q)`` exact pooled vote of all models of a layout of logged pools.

    The engine merges each question's per-model count vectors (few, since a
    pool holds K answers), so no grid limit is hit for realistic logs.
    """
    n = lay.n_models
    eng = Engine(lay, [int(max(ks))] * n)
    return eng.vote_curve(range(n), [[int(k)] * n for k in ks])


def per_question_values(table: AnswerTable, models: Sequence[str], ks: Sequence[int], methods: Sequence[str], r: int = 1) -> dict[str, np.ndarray]:
    """``{method: (len(ks), Q)}`` exact per-question values for one subset of models (tie-break order as given)."""
    from muxsim.population import per_question

    ks = check_ks(ks)
    _check_k_logged(ks, table.K)
    sub = table.select(models)
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
