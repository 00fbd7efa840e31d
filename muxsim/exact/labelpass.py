"""The pooled vote by a pass over the named wrong answers (any number of labels, no grid).

Models draw independently; model i's k_i draws are split over the columns
[correct, label_0, ..., label_{L-1}, tail, abstain] by the chain of conditional
kernels of :mod:`muxsim.exact.counts` (binomial for laws, hypergeometric for
logged pools), so column j takes x of the s draws model i has left with
probability kappa_ij(s, x).  Fix the total correct count N_c = c >= 1.  The vote
is correct with credit

    f = prod_w g_c(N_w) * (y^{N_tail} if c = 1),    g_c(N) = [N < c] + y [N = c],

integrated over y in [0, 1] (1 / (1 + ties) = int_0^1 y^ties dy; exact by
Gauss-Legendre, the integrand being a polynomial of degree <= L + K).  The pass
keeps, for each question and node y, the probability of every vector
d = (d_1, ..., d_n) of draws used so far; a label shared by several models adds
its running total N_w as a temporary index (cut at c: beyond it f = 0).

Work per question: O(nodes * prod_i (k_i + 1) * sum_c c * sum_w sum_{i gives w} k_i),
polynomial in L and K, exponential only in the number of models.  See
:func:`cost` for the estimate the engine uses to choose between paths.
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from scipy.special import roots_legendre

from muxsim.exact.counts import cond_kernel


def nodes(L: int, K: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1], exact for polynomials of degree <= L + K."""
    x, w = roots_legendre((L + K) // 2 + 1)
    return (x + 1) / 2, w / 2


def givers(W: np.ndarray) -> np.ndarray:
    """``(L, n)``: which models give each named answer on some question of ``W`` (Q, n, L + 3)."""
    return (W[:, :, 1:-2] > 0).any(axis=0).T


def cost(W: np.ndarray, ks: Sequence[int]) -> float:
    """Estimated floating-point work of :func:`vote` (the engine compares it across paths)."""
    Q, _, L3 = W.shape
    L, K = L3 - 3, int(sum(ks))
    giv = givers(W)
    states = float(np.prod([k + 1 for k in ks]))
    per_c = sum((giv[l] * (np.asarray(ks) + 1)).sum() * (1 if giv[l].sum() <= 1 else K / 2) for l in range(L))
    return Q * (L + K) / 2 * states * K * max(per_c, 1.0)


def _shift_add(out: np.ndarray, src: np.ndarray, coef: np.ndarray, axis: int, x: int, aux: int | None) -> None:
    """out[.., d + x (axis), .., a + x (aux)] += coef[q, d] * src[.., d, .., a] (coef broadcast along ``axis``)."""
    D = src.shape[axis]
    dst = [slice(None)] * src.ndim
    org = [slice(None)] * src.ndim
    dst[axis], org[axis] = slice(x, D), slice(0, D - x)
    if aux is not None:
        A = src.shape[aux]
        if x >= A:
            return
        dst[aux], org[aux] = slice(x, A), slice(0, A - x)
    out[tuple(dst)] += coef * src[tuple(org)]


def vote(W: np.ndarray, ks: Sequence[int], mode: str) -> np.ndarray:
    """``(Q,)``: exact pooled-vote accuracy of the n models of ``W`` (Q, n, L + 3), model i drawing ``ks[i]``.

    ``mode`` is ``"law"`` (draws with replacement, W probabilities) or ``"pool"``
    (without replacement from logged counts).  Labels no model gives are skipped.
    """
    W = np.asarray(W, dtype=float)
    Q, n, L3 = W.shape
    L = L3 - 3
    ks = [int(k) for k in ks]
    K = sum(ks)
    D = [k + 1 for k in ks]
    giv = givers(W)
    labels = [l for l in range(L) if giv[l].any()]
    y, wy = nodes(len(labels), K)
    Y = len(y)
    total = W.sum(axis=2)
    # kernels, per model: correct, then each label given the draws left, then the tail (abstain takes the rest)
    rem = total.copy()
    kap: dict[tuple[int, int], np.ndarray] = {}
    for col in [0] + [1 + l for l in range(L)] + [L + 1]:
        for i in range(n):
            if col == 0 or col == L + 1 or giv[col - 1, i]:
                kap[i, col] = cond_kernel(W[:, i, col], rem[:, i], ks[i], mode)  # (Q, s, x)
        rem = rem - W[:, :, col]
    # P(model i's correct count = x), and d_i + x draws used: one axis per model (axis 2 + i; axis 1 is y)
    shape = lambda i, m: (Q, 1) + (1,) * i + (m,) + (1,) * (n - 1 - i)  # noqa: E731
    P0 = np.ones((Q, 1) + (1,) * n)
    csum = np.zeros((1,) * n, dtype=int)
    for i in range(n):
        P0 = P0 * kap[i, 0][:, ks[i], : D[i]].reshape(shape(i, D[i]))
        csum = csum + np.arange(D[i]).reshape((1,) * i + (D[i],) + (1,) * (n - 1 - i))
    # tail factor for c = 1: E[y^{n_tail}] given the d_i draws used, per model
    tail = [np.einsum("qsx,yx->qys", kap[i, L + 1][:, ::-1], y[:, None] ** np.arange(D[i])[None, :]) for i in range(n)]
    out = np.zeros(Q)
    for c in range(1, K + 1):
        S = np.where(csum == c, P0[:, 0], 0.0)[:, None]  # (Q, 1, D...)
        if not S.any():
            continue
        S = np.broadcast_to(S, (Q, Y) + S.shape[2:]).copy()
        for l in labels:
            who = np.flatnonzero(giv[l])
            if len(who) == 1:  # a private label: g_c on the model's own count, no running total
                i = who[0]
                new = np.zeros_like(S)
                for x in range(min(ks[i], c) + 1):
                    g = 1.0 if x < c else y.reshape((1, Y) + (1,) * n)
                    coef = kap[i, 1 + l][:, ks[i] - np.arange(D[i] - x), x].reshape(shape(i, D[i] - x))
                    _shift_add(new, S * g, coef, 2 + i, x, None)
                S = new
                continue
            T = np.zeros(S.shape + (c + 1,))  # last axis: N_w so far (<= c)
            T[..., 0] = S
            for i in who:
                new = np.zeros_like(T)
                for x in range(min(ks[i], c) + 1):
                    coef = kap[i, 1 + l][:, ks[i] - np.arange(D[i] - x), x].reshape(shape(i, D[i] - x) + (1,))
                    _shift_add(new, T, coef, 2 + i, x, T.ndim - 1)
                T = new
            g = np.ones((Y, c + 1))
            g[:, c] = y
            S = np.einsum("qy...a,ya->qy...", T, g)
        if c == 1:
            for i in range(n):
                S = S * tail[i].reshape((Q, Y) + (1,) * i + (D[i],) + (1,) * (n - 1 - i))
        out += S.reshape(Q, Y, -1).sum(axis=2) @ wy
    return out
