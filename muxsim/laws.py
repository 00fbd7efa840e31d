"""Answer laws: what one model answers on one question.

An :class:`AnswerLaw` is the distribution of a single draw (sampling with
replacement); a :class:`LoggedPool` is a finite set of K logged answers from
which k are drawn without replacement.  Both describe the same four outcomes
(SEMANTICS.md §1): the correct answer, named wrong answers (a label shared
across models means the same wrong answer), a tail of unique wrong answers,
and abstentions.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence, Union

from muxsim.errors import MuxsimError

TOLERANCE = 1e-9


def _check_prob(name: str, value: object) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise MuxsimError(f"AnswerLaw: {name}={value!r} is not a number")
    v = float(value)
    if not math.isfinite(v) or v < 0.0 or v > 1.0:
        raise MuxsimError(f"AnswerLaw: {name}={v!r} is outside [0, 1]")
    return v


def _check_label(label: object, owner: str) -> str:
    if not isinstance(label, str) or not label:
        raise MuxsimError(f"{owner}: wrong-answer label {label!r} must be a non-empty string")
    return label


@dataclass(frozen=True)
class AnswerLaw:
    """One model's answer distribution on one question (one draw).

    Parameters
    ----------
    correct : probability of the reference answer.
    wrong : label -> probability of that specific wrong answer.  The same label
        in several models' laws is the same answer (a shared misconception).
    tail : probability of a fresh wrong answer equal to no other draw.
    abstain : probability of no extractable answer.

    ``correct + sum(wrong) + tail + abstain`` must be 1 within 1e-9.

    >>> AnswerLaw(0.7, {"X": 0.3}).valid
    1.0
    """

    correct: float
    wrong: Mapping[str, float] = field(default_factory=dict)
    tail: float = 0.0
    abstain: float = 0.0

    def __post_init__(self) -> None:
        c = _check_prob("correct", self.correct)
        if not isinstance(self.wrong, Mapping):
            raise MuxsimError(f"AnswerLaw: wrong={self.wrong!r} must be a mapping label -> probability")
        wrong = {_check_label(k, "AnswerLaw"): _check_prob(f"wrong[{k!r}]", v) for k, v in self.wrong.items()}
        t = _check_prob("tail", self.tail)
        a = _check_prob("abstain", self.abstain)
        total = c + sum(wrong.values()) + t + a
        if abs(total - 1.0) > TOLERANCE:
            parts = f"correct={c:g} + wrong={sum(wrong.values()):g} + tail={t:g} + abstain={a:g}"
            raise MuxsimError(f"AnswerLaw: {parts} sums to {total:.12g}, not 1")
        object.__setattr__(self, "correct", c)
        object.__setattr__(self, "wrong", wrong)
        object.__setattr__(self, "tail", t)
        object.__setattr__(self, "abstain", a)

    @property
    def valid(self) -> float:
        """Probability that a draw gives an answer (1 - abstain)."""
        return 1.0 - self.abstain


def _check_count(name: str, value: object) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise MuxsimError(f"LoggedPool: {name}={value!r} must be an integer >= 0")
    return value


@dataclass(frozen=True)
class LoggedPool:
    """K logged answers of one model on one question, drawn without replacement.

    Parameters
    ----------
    correct : number of logged answers equal to the reference.
    wrong : label -> number of logged answers equal to that wrong answer.
    tail : number of logged wrong answers that are unique (appear once, in no
        other model's pool); each counts as its own answer.
    abstain : number of logged samples with no answer.

    >>> LoggedPool(3, {"X": 1}, tail=1).size
    5
    """

    correct: int
    wrong: Mapping[str, int] = field(default_factory=dict)
    tail: int = 0
    abstain: int = 0

    def __post_init__(self) -> None:
        if not isinstance(self.wrong, Mapping):
            raise MuxsimError(f"LoggedPool: wrong={self.wrong!r} must be a mapping label -> count")
        wrong = {_check_label(k, "LoggedPool"): _check_count(f"wrong[{k!r}]", v) for k, v in self.wrong.items()}
        object.__setattr__(self, "correct", _check_count("correct", self.correct))
        object.__setattr__(self, "wrong", wrong)
        object.__setattr__(self, "tail", _check_count("tail", self.tail))
        object.__setattr__(self, "abstain", _check_count("abstain", self.abstain))
        if self.size == 0:
            raise MuxsimError("LoggedPool: holds no logged answers (size 0)")

    @property
    def size(self) -> int:
        """K, the number of logged samples."""
        return self.correct + sum(self.wrong.values()) + self.tail + self.abstain


Source = Union[AnswerLaw, LoggedPool]


def check_sources(sources: Sequence[Source], what: str = "laws") -> str:
    """Validate a list of per-model sources; return the mode, 'law' or 'pool'."""
    if isinstance(sources, (AnswerLaw, LoggedPool)) or not isinstance(sources, Sequence):
        raise MuxsimError(f"{what} must be a sequence of AnswerLaw or LoggedPool, got {type(sources).__name__}")
    if len(sources) == 0:
        raise MuxsimError(f"{what} is empty: give at least one model")
    kinds = {type(s) for s in sources}
    if not kinds <= {AnswerLaw, LoggedPool}:
        bad = next(s for s in sources if not isinstance(s, (AnswerLaw, LoggedPool)))
        raise MuxsimError(f"{what}: {bad!r} is not an AnswerLaw or LoggedPool")
    if len(kinds) > 1:
        raise MuxsimError(f"{what}: mixes AnswerLaw and LoggedPool; use one kind for all models")
    return "law" if kinds == {AnswerLaw} else "pool"
