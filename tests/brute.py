"""Brute-force reference: enumerate every joint outcome of small cases and apply the rules.

Independent of the exact engine: per-model count vectors are enumerated with
their multinomial / multivariate-hypergeometric probabilities (scipy.stats),
the joint over models is the full product, and each joint outcome is scored by
muxsim.rules on concrete answer codes.
"""

from __future__ import annotations

import itertools
from typing import Sequence

import numpy as np
from scipy.stats import multinomial, multivariate_hypergeom

from muxsim import rules
from muxsim.laws import AnswerLaw, LoggedPool


def _compositions(k: int, parts: int):
    for cut in itertools.combinations(range(k + parts - 1), parts - 1):
        prev, out = -1, []
        for c in cut + (k + parts - 1,):
            out.append(c - prev - 1)
            prev = c
        yield tuple(out)


def model_outcomes(src, k: int, labels: Sequence[str], model: int):
    """List of (probability, codes) for one model: codes = correct 0, label j -> j+1, tail unique, abstain -1."""
    if isinstance(src, AnswerLaw):
        w = [src.correct] + [src.wrong.get(l, 0.0) for l in labels] + [src.tail, src.abstain]
    else:
        w = [src.correct] + [src.wrong.get(l, 0) for l in labels] + [src.tail, src.abstain]
    L = len(labels)
    out = []
    for n in _compositions(k, L + 3):
        if isinstance(src, AnswerLaw):
            p = float(multinomial.pmf(n, k, np.array(w, dtype=float) / sum(w)))
        else:
            if any(ni > wi for ni, wi in zip(n, w)):
                continue
            p = float(multivariate_hypergeom.pmf(n, w, k))
        if p == 0:
            continue
        codes = [rules.CORRECT] * n[0]
        for j in range(L):
            codes += [j + 1] * n[1 + j]
        codes += [rules.TAIL_BASE + 1000 * model + t for t in range(n[L + 1])]
        codes += [rules.ABSTAIN] * n[L + 2]
        out.append((p, codes))
    return out


def joint(sources, ks):
    """(weights (R,), [draws of model i (R, k_i)]) over every joint outcome."""
    labels = sorted({l for s in sources for l in s.wrong})
    per = [model_outcomes(s, k, labels, i) for i, (s, k) in enumerate(zip(sources, ks))]
    weights, draws = [], [[] for _ in sources]
    for combo in itertools.product(*per):
        weights.append(np.prod([p for p, _ in combo]))
        for i, (_, codes) in enumerate(combo):
            draws[i].append(codes)
    return np.array(weights), [np.array(d, dtype=np.int64) for d in draws]


def brute(method: str, sources, ks, score: str = "per_k", r: int = 1):
    w, d = joint(sources, ks)
    if method == "sc":
        return float(w @ rules.self_consistency(d[0]))
    if method == "mux":
        return float(w @ rules.mux(d, score))
    if method == "attribution":
        credit, winner = rules.mux_with_winner(d, score)
        sel = np.array([w @ (winner == i) for i in range(len(d))])
        cor = np.array([w @ ((winner == i) * credit) for i in range(len(d))])
        return sel, cor
    if method == "vote":
        return float(w @ rules.vote(d))
    if method == "union":
        return float(w @ rules.union(d, r))
    if method == "contradiction":
        return float(w @ rules.contradiction(d, r))
    raise ValueError(method)
