"""Exact accuracies as polynomials in the accuracy p (sympy), for the paper's theory claims.

Each function enumerates every count vector of N draws (multinomial
probabilities, symbolic in p) and scores one concrete draw per count vector
with the rules of :mod:`muxsim.rules` (the same rules the exact engine and the
simulator use), so the polynomial is the exact accuracy of SEMANTICS.md §2.
Credits are fractions 1/m (ties split uniformly) and are made exact rationals.

Laws are parameterised by p: the correct answer has probability p, named
wrong answer j has ``shares[j] * (1 - p)``, the tail (unique wrong answers)
``tail * (1 - p)``; no abstention.  The paper's A(N, p) is
:func:`binomial_A` (ties counted as wins, ``ties="won"``) or the same
binomial with a tie split 1/2 : 1/2 (``ties="split"``, what plurality with a
uniform tie-break gives for one wrong answer).

>>> import sympy as sp
>>> sp.expand(binomial_A(3) - P)
-2*p**3 + 3*p**2 - p
>>> sp.factor(sc_poly(3, (1,)) - binomial_A(3))
0
"""

from __future__ import annotations

import functools
import itertools
from fractions import Fraction
from typing import Sequence

import numpy as np
import sympy as sp

from muxsim import rules
from muxsim.errors import MuxsimError

__all__ = ["P", "P1", "P2", "binomial_A", "sc_poly", "mux_poly", "vote_poly", "positive_set", "sign_change_points"]

P = sp.Symbol("p", real=True)
P1 = sp.Symbol("p1", real=True)
P2 = sp.Symbol("p2", real=True)


def _check_N(N: int) -> int:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise MuxsimError(f"N={N!r} must be an integer >= 1")
    return int(N)


def binomial_A(N: int, ties: str = "won", p: sp.Symbol = P) -> sp.Expr:
    """A(N, p) = sum_{j > N/2} C(N, j) p^j (1-p)^(N-j) + w * C(N, N/2) p^(N/2) (1-p)^(N/2) (even N).

    ``ties="won"``: w = 1 (the paper's formula, j >= ceil(N/2)); ``ties="split"``: w = 1/2.
    """
    N = _check_N(N)
    if ties not in ("won", "split"):
        raise MuxsimError(f"ties={ties!r} must be 'won' or 'split'")
    out = sum(sp.binomial(N, j) * p**j * (1 - p) ** (N - j) for j in range(N // 2 + 1, N + 1))
    if N % 2 == 0:
        w = sp.Integer(1) if ties == "won" else sp.Rational(1, 2)
        out += w * sp.binomial(N, N // 2) * p ** (N // 2) * (1 - p) ** (N // 2)
    return sp.expand(out)


def _compositions(n: int, parts: int):
    for cut in itertools.combinations(range(n + parts - 1), parts - 1):
        prev, out = -1, []
        for c in cut + (n + parts - 1,):
            out.append(c - prev - 1)
            prev = c
        yield tuple(out)


def _law(p: sp.Expr, shares: Sequence, tail) -> list[sp.Expr]:
    shares = [sp.nsimplify(s) for s in shares]
    tail = sp.nsimplify(tail)
    if any(s < 0 for s in shares) or tail < 0 or sum(shares) + tail != 1:
        raise MuxsimError(f"wrong-answer shares {list(shares)} + tail={tail} must be >= 0 and sum to 1")
    return [p] + [s * (1 - p) for s in shares] + [tail * (1 - p)]


def _outcomes(N: int, probs: list[sp.Expr], model: int) -> list[tuple[sp.Expr, list[int]]]:
    """(probability, concrete codes) for every count vector over [correct, wrong 1..L, tail]."""
    L = len(probs) - 2
    out = []
    for n in _compositions(N, L + 2):
        if any(ni > 0 and pr == 0 for ni, pr in zip(n, probs)):
            continue
        coef = sp.factorial(N)
        for ni in n:
            coef /= sp.factorial(ni)
        pr = coef * sp.Mul(*[b**e for b, e in zip(probs, n)])
        codes = [rules.CORRECT] * n[0]
        for j in range(L):
            codes += [j + 1] * n[1 + j]
        codes += [rules.TAIL_BASE + 1000 * model + t for t in range(n[L + 1])]
        out.append((pr, codes))
    return out


def _exact(x: float) -> sp.Rational:
    f = Fraction(float(x)).limit_denominator(10_000)
    return sp.Rational(f.numerator, f.denominator)


def sc_poly(N: int, shares: Sequence = (1,), tail=0) -> sp.Expr:
    """Exact SC(N) of one model as a polynomial in p (plurality, ties split, SEMANTICS §2)."""
    return _sc_poly(_check_N(N), tuple(sp.nsimplify(s) for s in shares), sp.nsimplify(tail))


@functools.lru_cache(maxsize=None)
def _sc_poly(N: int, shares: tuple, tail) -> sp.Expr:
    outs = _outcomes(N, _law(P, shares, tail), 0)
    credit = rules.self_consistency(np.array([c for _, c in outs], dtype=np.int64))
    return sp.expand(sum(pr * _exact(cr) for (pr, _), cr in zip(outs, credit)))


def _two(N: int, labels: tuple[int, int]) -> tuple[np.ndarray, list[np.ndarray]]:
    """Joint outcomes of two binary models (p1, wrong label a) and (p2, wrong label b), N draws each."""
    N = _check_N(N)
    per = []
    for i, (p, lab) in enumerate(zip((P1, P2), labels)):
        outs = _outcomes(N, [p, 1 - p, sp.Integer(0)], i)
        per.append([(pr, [c if c != 1 else lab for c in codes]) for pr, codes in outs])
    probs, draws = [], [[], []]
    for (pa, ca), (pb, cb) in itertools.product(*per):
        probs.append(pa * pb)
        draws[0].append(ca)
        draws[1].append(cb)
    return np.array(probs, dtype=object), [np.array(d, dtype=np.int64) for d in draws]


@functools.lru_cache(maxsize=None)
def mux_poly(N: int, shared_wrong: bool = False, score: str = "per_k") -> sp.Expr:
    """Exact SLM-MUX(N) of two models, model 1 (p1) first in tie-break order, as a polynomial in p1, p2.

    Each model has one wrong answer; ``shared_wrong`` says whether it is the same answer for both.
    """
    probs, d = _two(N, (1, 1 if shared_wrong else 2))
    credit = rules.mux(d, score)
    return sp.expand(sum(pr * _exact(c) for pr, c in zip(probs, credit)))


@functools.lru_cache(maxsize=None)
def vote_poly(N: int, shared_wrong: bool = False) -> sp.Expr:
    """Exact pooled vote of N draws from each of two models (one wrong answer each), in p1, p2."""
    probs, d = _two(N, (1, 1 if shared_wrong else 2))
    credit = rules.vote(d)
    return sp.expand(sum(pr * _exact(c) for pr, c in zip(probs, credit)))


def sign_change_points(expr: sp.Expr, var: sp.Symbol = P) -> list[sp.Expr]:
    """The distinct real roots of a polynomial strictly inside (0, 1), exact and sorted."""
    poly = sp.Poly(sp.expand(expr), var)
    if poly.is_zero:
        return []
    roots = {r for r in poly.real_roots() if 0 < r < 1}
    return sorted(roots, key=lambda r: float(r))


def positive_set(expr: sp.Expr, var: sp.Symbol = P) -> list[tuple[sp.Expr, sp.Expr]]:
    """Open subintervals of (0, 1) on which the polynomial is > 0 (exact endpoints).

    Between consecutive roots the sign is constant; it is read at an exact
    rational point strictly between the roots (isolating intervals of sympy).
    """
    poly = sp.Poly(sp.expand(expr), var)
    if poly.is_zero:
        return []
    roots = sign_change_points(expr, var)
    cuts = [sp.Integer(0)] + roots + [sp.Integer(1)]
    out: list[tuple[sp.Expr, sp.Expr]] = []
    for a, b in zip(cuts[:-1], cuts[1:]):
        mid = _rational_between(a, b)
        if poly.eval(mid) > 0:
            if out and out[-1][1] == a and poly.eval(a) > 0:
                out[-1] = (out[-1][0], b)
            else:
                out.append((a, b))
    return out


def _rational_between(a: sp.Expr, b: sp.Expr) -> sp.Rational:
    lo, hi = float(a), float(b)
    for den in (2, 4, 8, 16, 64, 256, 1024, 2**16, 2**24):
        m = _exact_floor((lo + hi) / 2, den)
        if a < m < b:
            return m
    raise MuxsimError(f"no rational point found between {a} and {b}")


def _exact_floor(x: float, den: int) -> sp.Rational:
    return sp.Rational(int(round(x * den)), den)
