"""Exact per-question accuracies (SEMANTICS.md §2): sums over count distributions, no sampling.

Every function takes the models' sources (all :class:`~muxsim.AnswerLaw` for
draws with replacement, or all :class:`~muxsim.LoggedPool` for k of K logged
answers without replacement) in tie-break order, and ``k``: one int for all
models or one per model.  The Monte Carlo mirror is :mod:`muxsim.simulate`.

>>> from muxsim import AnswerLaw
>>> A, B = AnswerLaw(0.7, {"X": 0.3}), AnswerLaw(0.2, {"B": 0.8})
>>> round(mux([A, B], 3), 4), round(vote([A, B], 3), 4)
(0.5597, 0.5144)
"""

from __future__ import annotations

from typing import NamedTuple, Sequence

import numpy as np

from muxsim.exact.engine import Engine, check_k
from muxsim.laws import AnswerLaw, LoggedPool, Source
from muxsim.layout import layout

__all__ = ["single", "self_consistency", "mux", "mux_attribution", "vote", "union", "contradiction", "Engine"]


def _engine(sources: Sequence[Source], k) -> tuple[Engine, list[int]]:
    lay = layout([list(sources)] if not isinstance(sources, (AnswerLaw, LoggedPool)) else [[sources]])
    ks = check_k(k, lay.n_models)
    return Engine(lay, ks), ks


def single(law: Source) -> float:
    """Accuracy of one draw: ``c`` (law) or ``K_correct / K`` (pool)."""
    eng, _ = _engine(law, 1)
    return float(eng.single(0)[0])


def self_consistency(law: Source, k: int) -> float:
    """SC(k): P(the plurality of k draws is correct), ties split uniformly; all-abstain is wrong."""
    eng, ks = _engine(law, k)
    return float(eng.sc(0, ks[0])[0])


def mux(laws: Sequence[Source], k, score: str = "per_k") -> float:
    """SLM-MUX(k): the most confident model's plurality answer.

    Confidence is top count / k_i (``per_k``, the paper) or / valid draws
    (``per_valid``, the reference code); equal confidences go to the earlier model.
    Work is O(n G) after the per-model tables, with G the number of distinct
    confidence values; joint outcomes across models are never enumerated.
    """
    eng, ks = _engine(laws, k)
    return float(eng.mux(range(len(ks)), ks, score)[0][0])


class Attribution(NamedTuple):
    selected: np.ndarray  #: P(model i's answer is returned)
    selected_and_correct: np.ndarray  #: P(model i's answer is returned and correct)


def mux_attribution(laws: Sequence[Source], k, score: str = "per_k") -> Attribution:
    """Per model: probability that MUX returns its answer (and that it is correct)."""
    eng, ks = _engine(laws, k)
    _, sel, cor = eng.mux(range(len(ks)), ks, score)
    return Attribution(sel[0], cor[0])


def vote(laws: Sequence[Source], k) -> float:
    """Pooled plurality over all draws of all models (Agent Forest), uniform tie-break."""
    eng, ks = _engine(laws, k)
    return float(eng.vote(range(len(ks)), ks)[0])


def union(laws: Sequence[Source], k, r: int = 1) -> float:
    """Oracle: P(some model has at least r correct draws)."""
    eng, ks = _engine(laws, k)
    return float(eng.union(range(len(ks)), ks, r)[0])


def contradiction(laws: Sequence[Source], k, r: int = 1) -> float:
    """P(some model with k > 1 gives one named wrong answer k times while another has >= r correct)."""
    eng, ks = _engine(laws, k)
    return float(eng.contradiction(range(len(ks)), ks, r)[0])
