"""The testbed's task family: small arithmetic with controllable difficulty.

A problem is ``a OP b`` with ``OP`` one of

* ``+``: two ``digits``-digit numbers;
* ``-``: two ``digits``-digit numbers with ``a >= b`` (the result is never negative);
* ``*``: a ``digits``-digit number times a one-digit number (2..9).

The prompt is ``"Q: 37+48=? A:"`` and the reference answer the decimal result
(``"85"``).  A model is trained to continue the prompt with ``" 85"`` and an
end-of-sequence token.

Difficulty is the number of carries (``+`` and ``*``) or borrows (``-``) of the
schoolbook algorithm, :func:`difficulty`; :meth:`TaskFamily.sample` draws a
problem of one operation, optionally with a given difficulty, by rejection.

The held-out set (:func:`held_out`) is a fixed function of its seed, balanced
over the operations; training draws (:meth:`TaskFamily.sample` with
``exclude``) never repeat a held-out problem.

Pure Python + numpy: no torch, no tokenizer.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from muxsim.errors import MuxsimError

OPS = ("+", "-", "*")
OP_NAMES = {"+": "add", "-": "sub", "*": "mul"}
PROMPT_TEMPLATE = "Q: {question}=? A:"
ALPHABET = "0123456789 +-*=?:QA"


class TestbedError(MuxsimError):
    """Bad input to the testbed (a configuration, a problem, a file)."""

    __test__ = False  # not a pytest test class despite its name


@dataclass(frozen=True, order=True)
class Problem:
    """One arithmetic problem ``a op b``."""

    a: int
    op: str
    b: int

    def __post_init__(self) -> None:
        if self.op not in OPS:
            raise TestbedError(f"op={self.op!r} must be one of {OPS}")
        if self.a < 0 or self.b < 0:
            raise TestbedError(f"a={self.a}, b={self.b} must be >= 0")
        if self.op == "-" and self.a < self.b:
            raise TestbedError(f"a={self.a} < b={self.b}: subtraction problems are non-negative")

    @property
    def question(self) -> str:
        return f"{self.a}{self.op}{self.b}"

    @property
    def prompt(self) -> str:
        return PROMPT_TEMPLATE.format(question=self.question)

    @property
    def value(self) -> int:
        return self.a + self.b if self.op == "+" else self.a - self.b if self.op == "-" else self.a * self.b

    @property
    def answer(self) -> str:
        return str(self.value)

    @property
    def id(self) -> str:
        return f"arith/{OP_NAMES[self.op]}/{self.a}_{self.b}"

    @property
    def difficulty(self) -> int:
        return difficulty(self)


def difficulty(p: Problem) -> int:
    """Carries (``+``, ``*``) or borrows (``-``) of the schoolbook algorithm."""
    a, b = p.a, p.b
    n = 0
    if p.op == "+":
        c = 0
        while a or b or c:
            c = 1 if (a % 10 + b % 10 + c) >= 10 else 0
            n += c
            a, b = a // 10, b // 10
    elif p.op == "-":
        br = 0
        while a or b:
            br = 1 if (a % 10 - b % 10 - br) < 0 else 0
            n += br
            a, b = a // 10, b // 10
    else:  # one-digit multiplier b
        c = 0
        while a:
            c = (a % 10 * b + c) // 10
            n += c > 0
            a //= 10
    return n


def max_difficulty(op: str, digits: int) -> int:
    """The largest number of carries/borrows a problem of ``op`` can have."""
    if op not in OPS:
        raise TestbedError(f"op={op!r} must be one of {OPS}")
    return digits - 1 if op == "-" else digits


@dataclass(frozen=True)
class TaskFamily:
    """Arithmetic problems with ``digits``-digit operands (``*``: times one digit 2..9)."""

    digits: int = 2

    def __post_init__(self) -> None:
        if isinstance(self.digits, bool) or not isinstance(self.digits, int) or not 1 <= self.digits <= 4:
            raise TestbedError(f"digits={self.digits!r} must be an integer in 1..4")

    def _operands(self, op: str, rng: np.random.Generator) -> tuple[int, int]:
        lo, hi = (10 ** (self.digits - 1) if self.digits > 1 else 0), 10**self.digits
        a = int(rng.integers(lo, hi))
        if op == "*":
            return a, int(rng.integers(2, 10))
        b = int(rng.integers(lo, hi))
        if op == "-" and a < b:
            a, b = b, a
        return a, b

    def sample(self, op: str, rng: np.random.Generator, *, difficulty: int | None = None,
               exclude: frozenset[Problem] | set[Problem] = frozenset(), max_tries: int = 10_000) -> Problem:
        """One problem of ``op``; with ``difficulty``, one with exactly that many carries/borrows."""
        if op not in OPS:
            raise TestbedError(f"op={op!r} must be one of {OPS}")
        if difficulty is not None and not 0 <= difficulty <= max_difficulty(op, self.digits):
            raise TestbedError(f"difficulty={difficulty} for op={op!r} must be in 0..{max_difficulty(op, self.digits)}")
        for _ in range(max_tries):
            a, b = self._operands(op, rng)
            p = Problem(a, op, b)
            if p in exclude:
                continue
            if difficulty is None or p.difficulty == difficulty:
                return p
        raise TestbedError(f"no problem of op={op!r} difficulty={difficulty} found in {max_tries} draws")


def held_out(n: int, *, seed: int, family: TaskFamily = TaskFamily(), ops: Sequence[str] = OPS) -> list[Problem]:
    """``n`` distinct problems, the operations in turn (``+ - * + - * ...``), fixed by ``seed``."""
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise TestbedError(f"n={n!r} must be an integer >= 1")
    bad = [o for o in ops if o not in OPS]
    if bad or not ops:
        raise TestbedError(f"ops={list(ops)!r} must be a non-empty selection of {OPS}")
    rng = np.random.default_rng([seed, 7001])
    seen: set[Problem] = set()
    out: list[Problem] = []
    for i in range(n):
        p = family.sample(ops[i % len(ops)], rng, exclude=seen)
        seen.add(p)
        out.append(p)
    return out


def parse_problem(question: str) -> Problem:
    """Inverse of :attr:`Problem.question`: ``"37+48"`` -> ``Problem(37, "+", 48)``."""
    for op in OPS:
        left, sep, right = question.partition(op)
        if sep and left.isdigit() and right.isdigit():
            return Problem(int(left), op, int(right))
    raise TestbedError(f"question={question!r} is not 'A OP B' with OP in {OPS}")


def write_questions(path: str | Path, problems: Iterable[Problem]) -> Path:
    """The held-out set as the harness's JSON Lines question file (id, question, answer, op, difficulty)."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", encoding="utf-8") as fh:
        for q in problems:
            fh.write(json.dumps({"id": q.id, "question": q.question, "answer": q.answer,
                                 "op": q.op, "difficulty": q.difficulty}) + "\n")
    return p
