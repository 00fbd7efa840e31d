"""The aggregation rules, written once over concrete answers (SEMANTICS.md §2).

Draws are integer codes, one array of shape ``(R, k_i)`` per model (R rows =
questions, Monte Carlo replicates or logged subsamples):

* ``CORRECT`` (0) is the reference answer;
* ``1, 2, ...`` are named wrong answers (the same code in two models is the same answer);
* ``ABSTAIN`` (-1) is no answer;
* codes ``>= TAIL_BASE`` are tail answers: every one must be unique across all
  models of a row (the simulator and the log reader guarantee this).

Every rule returns the *credit*: the probability that the returned answer is
correct, so a plurality tie between the correct and one wrong answer earns 1/2.
The Monte Carlo simulator, the brute-force enumeration of the tests and the
evaluation of real logs all call these functions.
"""

from __future__ import annotations

from typing import Literal, Sequence

import numpy as np

from muxsim.errors import MuxsimError

CORRECT = 0
ABSTAIN = -1
TAIL_BASE = 1 << 40

Score = Literal["per_k", "per_valid"]
SCORES = ("per_k", "per_valid")


def check_score(score: object) -> str:
    if score not in SCORES:
        raise MuxsimError(f"score={score!r} must be one of {SCORES}")
    return score  # type: ignore[return-value]


def check_r(r: object) -> int:
    if isinstance(r, bool) or not isinstance(r, (int, np.integer)) or r < 1:
        raise MuxsimError(f"r={r!r} must be an integer >= 1")
    return int(r)


def _as_draws(d: np.ndarray) -> np.ndarray:
    d = np.asarray(d)
    if d.ndim != 2 or d.shape[1] < 1 or not np.issubdtype(d.dtype, np.integer):
        raise MuxsimError(f"draws must be an integer array of shape (rows, k>=1), got {d.dtype} {d.shape}")
    return d


def plurality(draws: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Plurality of one model's draws.

    Returns ``(credit, top, valid)`` per row: ``top`` is the highest count of a
    distinct non-abstain answer (0 if all abstain), ``valid`` the number of
    non-abstain draws, and ``credit = [count(correct) == top > 0] / #answers at top``.
    """
    d = _as_draws(draws)
    same = d[:, :, None] == d[:, None, :]
    cnt = same.sum(axis=2)
    answered = d != ABSTAIN
    cnt = np.where(answered, cnt, 0)
    top = cnt.max(axis=1)
    valid = answered.sum(axis=1)
    n_at_top = np.where(top > 0, (cnt == top[:, None]).sum(axis=1) // np.maximum(top, 1), 1)
    n_correct = (d == CORRECT).sum(axis=1)
    credit = np.where((n_correct == top) & (top > 0), 1.0 / n_at_top, 0.0)
    return credit, top, valid


def self_consistency(draws: np.ndarray) -> np.ndarray:
    """SC(k): credit of the plurality answer of one model's k draws."""
    return plurality(draws)[0]


def confidence(top: np.ndarray, valid: np.ndarray, k: int, score: Score) -> np.ndarray:
    """MUX confidence: ``top / k`` (per_k) or ``top / valid`` (per_valid, 0 when nothing is valid).

    Floats compare fractions exactly here: two different fractions with
    denominators below 10**6 differ by more than 1e-12, far above rounding.
    """
    if score == "per_k":
        return top / k
    return np.where(valid > 0, top / np.maximum(valid, 1), 0.0)


def mux_with_winner(draws: Sequence[np.ndarray], score: Score = "per_k") -> tuple[np.ndarray, np.ndarray]:
    """SLM-MUX: the most confident model's plurality answer; ties go to the earlier model.

    Returns ``(credit, winner)``; ``draws`` are in tie-break order.
    """
    check_score(score)
    if len(draws) == 0:
        raise MuxsimError("mux needs at least one model")
    results = [plurality(d) for d in draws]
    conf = np.stack([confidence(t, v, np.asarray(d).shape[1], score) for (c, t, v), d in zip(results, draws)])
    winner = np.argmax(conf, axis=0)  # first maximum = earliest in tie-break order
    credit = np.stack([c for c, _, _ in results])
    return np.take_along_axis(credit, winner[None, :], axis=0)[0], winner


def mux(draws: Sequence[np.ndarray], score: Score = "per_k") -> np.ndarray:
    """SLM-MUX credit per row (see :func:`mux_with_winner`)."""
    return mux_with_winner(draws, score)[0]


def vote(draws: Sequence[np.ndarray]) -> np.ndarray:
    """Pooled plurality over all models' draws ("Agent Forest"), uniform tie-break."""
    if len(draws) == 0:
        raise MuxsimError("vote needs at least one model")
    return plurality(np.concatenate([_as_draws(d) for d in draws], axis=1))[0]


def union(draws: Sequence[np.ndarray], r: int = 1) -> np.ndarray:
    """Oracle at robust level r: 1 if some model has at least r correct draws."""
    r = check_r(r)
    return np.any(np.stack([(_as_draws(d) == CORRECT).sum(axis=1) >= r for d in draws]), axis=0).astype(float)


def consistently_wrong(draws: np.ndarray) -> np.ndarray:
    """k > 1 draws that are all the same named wrong answer (not abstain, not tail)."""
    d = _as_draws(draws)
    if d.shape[1] < 2:
        return np.zeros(d.shape[0], dtype=bool)
    first = d[:, 0]
    return np.all(d == first[:, None], axis=1) & (first > CORRECT) & (first < TAIL_BASE)


def contradiction(draws: Sequence[np.ndarray], r: int = 1) -> np.ndarray:
    """1 if some model is consistently wrong while another model has >= r correct draws."""
    r = check_r(r)
    wrong = np.stack([consistently_wrong(d) for d in draws])
    right = np.stack([(_as_draws(d) == CORRECT).sum(axis=1) >= r for d in draws])
    n_right = right.sum(axis=0)
    other_right = n_right[None, :] - right > 0
    return np.any(wrong & other_right, axis=0).astype(float)
