"""Align per-model sources of many questions into arrays the exact engine works on.

Each question's named wrong labels (the union over its models, with positive
weight) are numbered 0..L_q-1 in sorted order, so one column means the same
answer for every model of that question.  Columns of ``weights``::

    [correct, label_0, ..., label_{L-1}, tail, abstain]

with L the largest L_q (unused label columns are 0).  For laws the weights are
probabilities, for logged pools they are counts.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool, Source, check_sources


@dataclass(frozen=True)
class Layout:
    mode: str  # "law" or "pool"
    weights: np.ndarray  # (Q, n, L + 3)
    n_labels: np.ndarray  # (Q,) labels actually used per question
    labels: tuple[tuple[str, ...], ...]  # label names per question

    @property
    def n_questions(self) -> int:
        return self.weights.shape[0]

    @property
    def n_models(self) -> int:
        return self.weights.shape[1]

    @property
    def width(self) -> int:
        """L, the number of label columns."""
        return self.weights.shape[2] - 3

    def model(self, i: int) -> np.ndarray:
        """(Q, L + 3) weights of model i."""
        return self.weights[:, i, :]

    def pool_sizes(self) -> np.ndarray:
        """(Q, n) logged samples per question and model (pools only)."""
        return self.weights.sum(axis=2)


def _row(src: Source) -> tuple[float, dict[str, float], float, float]:
    return float(src.correct), {k: float(v) for k, v in src.wrong.items() if v > 0}, float(src.tail), float(src.abstain)


def layout(questions: Sequence[Sequence[Source]]) -> Layout:
    """Build a :class:`Layout` from ``questions[q][i]``, the source of model i on question q."""
    if len(questions) == 0:
        raise MuxsimError("no questions given")
    n = None
    mode = None
    rows = []
    for q, srcs in enumerate(questions):
        m = check_sources(srcs, what=f"question {q}")
        if mode is None:
            mode, n = m, len(srcs)
        if m != mode:
            raise MuxsimError(f"question {q}: mixes AnswerLaw and LoggedPool with earlier questions")
        if len(srcs) != n:
            raise MuxsimError(f"question {q} has {len(srcs)} models, question 0 has {n}")
        rows.append([_row(s) for s in srcs])
    label_sets = [tuple(sorted({lab for r in row for lab in r[1]})) for row in rows]
    L = max((len(s) for s in label_sets), default=0)
    w = np.zeros((len(rows), n, L + 3))
    for q, (row, labs) in enumerate(zip(rows, label_sets)):
        index = {lab: j for j, lab in enumerate(labs)}
        for i, (c, wrong, t, a) in enumerate(row):
            w[q, i, 0] = c
            for lab, v in wrong.items():
                w[q, i, 1 + index[lab]] = v
            w[q, i, L + 1] = t
            w[q, i, L + 2] = a
    return Layout(mode=mode, weights=w, n_labels=np.array([len(s) for s in label_sets]), labels=tuple(label_sets))


def from_arrays(weights: np.ndarray, mode: str = "law", n_labels: np.ndarray | None = None) -> Layout:
    """A :class:`Layout` from a ready ``(Q, n, L + 3)`` weight array (labels named by column)."""
    w = np.asarray(weights, dtype=float)
    if w.ndim != 3 or w.shape[2] < 3:
        raise MuxsimError(f"weights must have shape (Q, n, L + 3), got {w.shape}")
    if mode not in ("law", "pool"):
        raise MuxsimError(f"mode={mode!r} must be 'law' or 'pool'")
    if not np.all(np.isfinite(w)) or np.any(w < 0):
        raise MuxsimError("weights must be finite and >= 0")
    L = w.shape[2] - 3
    if mode == "law":
        total = w.sum(axis=2)
        bad = np.argwhere(np.abs(total - 1) > 1e-9)
        if len(bad):
            q, i = bad[0]
            raise MuxsimError(f"question {q}, model {i}: probabilities sum to {total[q, i]:.12g}, not 1")
    else:
        if np.any(w != np.round(w)):
            raise MuxsimError("pool weights must be whole counts")
        if np.any(w.sum(axis=2) == 0):
            q, i = np.argwhere(w.sum(axis=2) == 0)[0]
            raise MuxsimError(f"question {q}, model {i}: empty pool")
    if n_labels is None:
        used = w[:, :, 1 : L + 1].max(axis=1) > 0  # (Q, L)
        n_labels = np.where(used.any(axis=1), L - np.argmax(used[:, ::-1], axis=1), 0) if L else np.zeros(len(w), int)
    return Layout(mode=mode, weights=w, n_labels=np.asarray(n_labels), labels=column_names(n_labels))


def column_names(n_labels: np.ndarray) -> tuple[tuple[str, ...], ...]:
    """Label names ``w0, w1, ...`` of layout rows with ``n_labels`` used columns each."""
    names = [tuple(f"w{j}" for j in range(m)) for m in range(int(np.max(n_labels, initial=0)) + 1)]
    return tuple(names[m] for m in np.asarray(n_labels, dtype=int).tolist())


__all__ = ["Layout", "layout", "from_arrays", "mixture_weights", "AnswerLaw", "LoggedPool"]


def mixture_weights(mix: tuple[int, np.ndarray] | None, n_models: int, n_rows: int) -> tuple[int, np.ndarray]:
    """``(E, W)`` with ``W[i, q, e]`` the weight of row e of question q in model i's mixture, shape
    ``(n_models, Q, E)`` with Q = n_rows / E.

    ``mix`` is a population's mixture (``None``: one row per question; ``(E, w)`` with ``w`` of shape
    ``(E,)``: the same weights for every model and question; or ``(n_models, Q, E)``: each model's own
    weights per question, e.g. a state that some models are in on some questions only).  Raises
    :class:`~muxsim.errors.MuxsimError` unless every model's weights on every question are >= 0 and sum
    to 1."""
    if mix is None:
        return 1, np.ones((n_models, n_rows, 1))
    E, w = int(mix[0]), np.asarray(mix[1], dtype=float)
    if E < 1 or n_rows % E:
        raise MuxsimError(f"{n_rows} rows do not split into mixtures of {E}")
    Q = n_rows // E
    if w.shape not in ((E,), (n_models, Q, E)):
        raise MuxsimError(f"mixture weights of shape {w.shape}: expected ({E},) or ({n_models}, {Q}, {E})")
    if not np.all(np.isfinite(w)) or w.min() < 0 or not np.allclose(w.sum(axis=-1), 1.0, atol=1e-9):
        raise MuxsimError("mixture weights must be finite, >= 0 and sum to 1 over each question's rows")
    return E, np.broadcast_to(w, (n_models, Q, E))
