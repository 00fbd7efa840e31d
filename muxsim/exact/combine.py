"""Combine independent models' count summaries into method accuracies (exact).

Models are independent given the question, so each method is a sum over one
model's outcomes times products of the other models' distribution functions.
"""

from __future__ import annotations

from typing import Sequence

import functools
import itertools

import numpy as np
from scipy import sparse
from scipy.fft import irfftn, rfftn
from scipy.signal import fftconvolve
from scipy.special import gammaln, roots_legendre

from muxsim.errors import MuxsimError

#: Largest joint grid (cells per question) the pooled vote will build.
VOTE_MAX_CELLS = 4_000_000
#: Rows x cells of spectra held at once by the pooled vote (questions are processed in chunks).
VOTE_CHUNK_CELLS = 8_000_000


#: Round-off tolerated outside [0, 1] before a probability is clipped into it; more is a bug and raises.
ROUND_OFF = 1e-9


def probability(v: np.ndarray, what: str) -> np.ndarray:
    """``v`` clipped into [0, 1] after checking it is off by round-off only (an exact path's output)."""
    bad = ~((v >= -ROUND_OFF) & (v <= 1 + ROUND_OFF))
    if np.any(bad):
        raise RuntimeError(f"internal error: {what} gave {v[bad].ravel()[0]!r}, outside [0, 1]; please report it")
    return np.clip(v, 0.0, 1.0)


def score_grid(scores: Sequence[np.ndarray]) -> np.ndarray:
    """The distinct confidences of all the models, sorted (:func:`mux_on_grid`)."""
    return np.unique(np.concatenate([np.asarray(s, dtype=float) for s in scores]))


def mux_cells(P: np.ndarray, Cr: np.ndarray, sc: np.ndarray, grid: np.ndarray) -> tuple[np.ndarray, ...]:
    """One model's part of :func:`mux_on_grid`: ``P[q, c]`` = P(the model lands in cell c), ``Cr[q, c]`` its
    credit mass and ``sc[c]`` the confidence of cell c, moved onto the common ``grid`` of confidences: the law
    D and credit C on the grid, F (D's cumulative sum) and F^- = F - D, each ``(Q, len(grid))``; a model's own
    work, shared by every subset whose models' confidences make the same grid."""
    onto = (np.searchsorted(grid, sc)[:, None] == np.arange(len(grid))[None, :]).astype(float)  # cell -> grid value
    D, C = P @ onto, Cr @ onto
    le = np.cumsum(D, axis=1)
    return D, C, le, le - D


def mux_on_grid(cells: Sequence[tuple[np.ndarray, ...]]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """SLM-MUX from each model's :func:`mux_cells` (D_i, C_i, F_i, F_i^-), models in tie-break order::

        P(MUX correct) = sum_i sum_s C_i(s) prod_{l<i} F_l^-(s) prod_{l>i} F_l(s)

    (model i wins at confidence s when every earlier model scores below s and every later one at most s).
    Returns ``(accuracy (Q,), p_win (Q, n), p_win_and_correct (Q, n))``."""
    win = np.stack(win_products([c[2] for c in cells], [c[3] for c in cells]))  # (n, Q, G)
    p_win = np.einsum("nqg,nqg->qn", np.stack([c[0] for c in cells]), win)
    p_win_correct = np.einsum("nqg,nqg->qn", np.stack([c[1] for c in cells]), win)
    return p_win_correct.sum(axis=1), p_win, p_win_correct


def win_products(F: Sequence[np.ndarray], Fm: Sequence[np.ndarray]) -> list[np.ndarray]:
    """``prod_{l<i} F_l^- * prod_{l>i} F_l`` for each position i, from each position's F and F^- on the same
    grid (any shape, elementwise): the probability that the model at i wins the tie-break order at each
    confidence given its own score there (:func:`mux_on_grid`)."""
    before, after = [None], [None]  # None: the empty product
    for f in Fm[:-1]:
        before.append(f if before[-1] is None else before[-1] * f)
    for f in F[:0:-1]:
        after.append(f if after[-1] is None else after[-1] * f)
    parts = [[x for x in pair if x is not None] for pair in zip(before, after[::-1])]
    return [np.ones_like(F[0]) if not p else p[0] if len(p) == 1 else p[0] * p[1] for p in parts]


def union(p_at_least_r: Sequence[np.ndarray]) -> np.ndarray:
    """P(some model has >= r correct draws) = 1 - prod_i (1 - b_i)."""
    return 1.0 - np.prod([1.0 - b for b in p_at_least_r], axis=0)


def contradiction(p_consistently_wrong: Sequence[np.ndarray], p_at_least_r: Sequence[np.ndarray]) -> np.ndarray:
    """P(some model consistently wrong and another with >= r correct).

    Per model the two events are disjoint (r >= 1), so with a_i, b_i their
    probabilities: P = 1 - prod(1 - a) - prod(1 - b) + prod(1 - a - b).
    """
    a = np.stack(p_consistently_wrong)
    b = np.stack(p_at_least_r)
    return 1.0 - np.prod(1 - a, axis=0) - np.prod(1 - b, axis=0) + np.prod(1 - a - b, axis=0)


def _margin_credit(D: np.ndarray) -> np.ndarray:
    """f(D) = [all D_w >= 0] / (1 + #{D_w = 0}) for margins D_w = N_correct - N_w (axis 0 indexes w)."""
    if D.shape[0] == 0:
        return np.ones(D.shape[1:])
    return np.where(np.all(D >= 0, axis=0), 1.0 / (1.0 + (D == 0).sum(axis=0)), 0.0)


@functools.lru_cache(maxsize=64)
def _credit_spectrum(K: int, L: int, size: int) -> np.ndarray:
    """conj(rfft of f on the circular margin grid) times Hermitian weights / N (see :func:`margin_credit`),
    flattened as interleaved (real, -imaginary) pairs."""
    idx = np.indices((size,) * L)
    D = np.where(idx <= K, idx, idx - size)
    f = np.where((idx <= K) | (idx >= size - K), 1, 0).all(axis=0) * _margin_credit(D)
    F = np.conj(rfftn(f))
    w = np.full(size // 2 + 1, 2.0)
    w[0] = 1.0
    if size % 2 == 0:
        w[-1] = 1.0
    F = (F * w / size**L).ravel()
    out = np.empty(2 * F.size)  # Re(spec . F) = spec viewed as (re, im) pairs . (Re F, -Im F): one real dot
    out[0::2], out[1::2] = F.real, -F.imag
    return out


def margin_grid(K: int, n_labels: int) -> int:
    """Grid length per axis for summed margins in [-K, K]: 2K + 1, so nothing wraps around."""
    return 2 * K + 1


def margin_spectrum(label_counts: np.ndarray, k: int, size: int) -> np.ndarray:
    """rfft spectrum of one model's margins D_w = n_correct - n_w, stored circularly (D mod size)."""
    Q = label_counts.shape[0]
    L = label_counts.ndim - 2
    idx = np.indices(label_counts.shape[1:]).reshape(L + 1, -1)
    flat = np.ravel_multi_index(tuple((idx[0][None, :] - idx[1:]) % size), (size,) * L)
    onto = sparse.csr_matrix((np.ones(len(flat)), (np.arange(len(flat)), flat)), shape=(len(flat), size**L))
    out = np.asarray((onto.T @ label_counts.reshape(Q, -1).T).T).reshape((Q,) + (size,) * L)
    return rfftn(out, axes=tuple(range(1, L + 1)))


@functools.lru_cache(maxsize=16)
def _phases(n_labels: int, size: int) -> tuple[np.ndarray, ...]:
    """exp(-i sum_w t_w) on the half-spectrum grid (t_w = 2 pi omega_w / size), then exp(+i t_w)
    for each axis w as an array that broadcasts along the other axes."""
    L = n_labels
    freq = [np.arange(size)] * (L - 1) + [np.arange(size // 2 + 1)]
    t = np.meshgrid(*[2 * np.pi * f / size for f in freq], indexing="ij", sparse=True)
    return (np.exp(-1j * sum(t)),) + tuple(np.exp(1j * tw) for tw in t)


def one_draw_spectrum(weights: np.ndarray, n_labels: int, size: int) -> np.ndarray:
    """rfft spectrum (length ``size`` per axis) of the margins of ONE draw from a law:
    +1 on every axis w.p. correct, -1 on axis w w.p. v_w, 0 otherwise, i.e.

        phi(omega) = c e^{-i sum_w t_w} + sum_w v_w e^{+i t_w} + (1 - c - sum_w v_w),  t_w = 2 pi omega_w / size.

    The k-draw margin law's spectrum is phi^k (draws are independent)."""
    L = n_labels
    shape = (-1,) + (1,) * L
    ph = _phases(L, size)
    out = weights[:, 0].reshape(shape) * ph[0][None]
    out += (1.0 - weights[:, 0] - weights[:, 1 : 1 + L].sum(axis=1)).reshape(shape)
    for w in range(L):  # each label term varies along its own axis only
        out += weights[:, 1 + w].reshape(shape) * ph[1 + w][None]
    return out


def one_draw_box(weights: np.ndarray, n_labels: int, m: int) -> np.ndarray:
    """Law of the summed margins of ONE draw from each of m laws (independent; ``weights`` has
    their rows stacked model-major), on the box [-m, m]^L (array index D + m).

    The product of the m one-draw spectra on a grid of length 2m + 1 per axis determines
    this law exactly (no wrap-around); the inverse transform recovers it.
    """
    small = 2 * m + 1
    phi = one_draw_spectrum(weights, n_labels, small)
    phi = phi.reshape((m, -1) + phi.shape[1:]).prod(axis=0)
    box = irfftn(phi, s=(small,) * n_labels, axes=tuple(range(1, n_labels + 1)))
    return np.roll(box, m, axis=tuple(range(1, n_labels + 1)))


@functools.lru_cache(maxsize=32)
def _draw_compositions(n_labels: int, k: int) -> tuple[np.ndarray, np.ndarray, sparse.csr_matrix]:
    """Every split of k draws over (correct, each named answer, the rest): counts ``(M, L + 2)``, log multinomial
    coefficients ``(M,)`` and the 0/1 map ``(M, (2k + 1)^L)`` onto the margins' box (index D + k)."""
    L = n_labels
    comps = np.array([c for c in itertools.product(range(k + 1), repeat=L + 1) if sum(c) <= k], dtype=int)
    comps = np.column_stack([comps, k - comps.sum(axis=1)])
    logc = gammaln(k + 1) - gammaln(comps + 1).sum(axis=1)
    flat = np.ravel_multi_index(tuple((comps[:, :1] - comps[:, 1 : 1 + L] + k).T), (2 * k + 1,) * L)
    onto = sparse.csr_matrix((np.ones(len(comps)), (np.arange(len(comps)), flat)), shape=(len(comps), (2 * k + 1) ** L))
    return comps, logc, onto


def draws_box(weights: np.ndarray, n_labels: int, k: int) -> np.ndarray:
    """Law of the margins D_w = n_correct - n_w of k independent draws from each row's law, on the box
    [-k, k]^L (array index D + k): the multinomial law of the k draws over (correct, each named answer, the
    rest), summed onto the margins.  Linear in the law of the k draws, so rows can be mixed on this small box
    before :func:`box_spectrum` takes them to the vote's grid (instead of raising every row's spectrum there)."""
    L = n_labels
    comps, logc, onto = _draw_compositions(L, k)
    cols = np.column_stack([weights[:, : 1 + L], 1.0 - weights[:, : 1 + L].sum(axis=1)]).clip(0.0, 1.0)
    powers = cols[:, :, None] ** np.arange(k + 1)  # (rows, L + 2, k + 1)
    p = np.exp(logc)[None, :] * np.prod(powers[:, np.arange(L + 2)[None, :], comps], axis=2)  # (rows, M)
    return np.asarray((onto.T @ p.T).T).reshape((-1,) + (2 * k + 1,) * L)


def box_spectrum(box: np.ndarray, size: int) -> np.ndarray:
    """rfft spectrum (length ``size`` per axis) of a law given on the small box [-m, m]^L
    (index D + m): sum_D P(D) exp(-2 pi i omega.D / size), one small DFT matrix per axis."""
    L = box.ndim - 1
    m = (box.shape[1] - 1) // 2
    spec = box
    for a in range(L):  # each step contracts axis 1 and appends its frequencies last
        omega = np.arange(size // 2 + 1 if a == L - 1 else size)
        spec = np.tensordot(spec, np.exp(-2j * np.pi * np.outer(np.arange(-m, m + 1), omega) / size), axes=(1, 0))
    return spec


def ipow(z: np.ndarray, k: int) -> np.ndarray:
    """z**k for a positive integer k by repeated squaring (numpy's complex power is slow);
    products are formed in place where no caller's array is touched."""
    result, base = None, z
    while True:
        if k & 1:
            result = base if result is None else np.multiply(result, base, out=None if result is z else result)
        k >>= 1
        if not k:
            return result
        base = base * base if base is z or base is result else np.multiply(base, base, out=base)


@functools.lru_cache(maxsize=64)
def vote_nodes(K: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1] (exact for polynomials of degree <= K + 2),
    then the node u = 1 with weight 0 (where :func:`single_draw_term` reads the law itself)."""
    x, w = roots_legendre(K // 2 + 2)
    return np.append((x + 1) / 2, 1.0), np.append(w / 2, 0.0)


def check_vote_size(K: int, n_labels: int) -> None:
    """Refuse (clearly, before allocating) a pooled-vote grid larger than VOTE_MAX_CELLS."""
    cells = (2 * K + 1) ** n_labels
    if cells > VOTE_MAX_CELLS:
        raise MuxsimError(
            f"vote: the exact pooled vote needs a grid of (2K+1)^L = {2 * K + 1}^{n_labels} = {cells:.3g} cells "
            f"(K = {K} draws in all, L = {n_labels} distinct named wrong answers); the limit is {VOTE_MAX_CELLS:.3g}. "
            "Use fewer models or samples, or muxsim.simulate.vote"
        )


def margin_credit(spectra: Sequence[np.ndarray], K: int, n_labels: int, size: int, n_questions: int) -> np.ndarray:
    """``(Q,)``: E f(D) for the summed margins D_w = N_correct - N_w of all K draws, with

        f(D) = [all D_w >= 0] / (1 + #{D_w = 0}),

    the vote's credit whenever N_correct >= 2 (then the tail cannot tie).
    ``spectra[i]`` is the rfft (length ``size >= 2K + 1`` per axis, so nothing
    wraps around) of model i's margin law; their product is the law of the sum,
    and Parseval gives sum_D P(D) f(D) without an inverse transform.
    """
    if not n_labels:
        return np.ones(n_questions)  # no named wrong answer: f = 1 on every outcome
    if size < 2 * K + 1:
        raise MuxsimError(f"vote: FFT length {size} < 2K+1 = {2 * K + 1}")
    spec = np.ascontiguousarray(functools.reduce(np.multiply, spectra)).reshape(n_questions, -1)
    return spec.view(np.float64) @ _credit_spectrum(K, n_labels, size)


def tie_nodes(n_labels: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss-Legendre nodes and weights on [0, 1], exact for polynomials of degree <= n_labels."""
    x, w = roots_legendre(n_labels // 2 + 1)
    return (x + 1) / 2, w / 2


def private_credit(psis: Sequence[np.ndarray], K: int, n_free: int, y: np.ndarray, wy: np.ndarray) -> np.ndarray:
    """``(Q,)``: E f(D) (as :func:`margin_credit`) when the models split into independent units: one
    model with its own named wrong answers, or a group of models sharing one answer and giving no other.

    Then N_w counts its unit's draws only, and with 1/(1 + ties) = int_0^1 y^ties dy::

        E f = int_0^1 sum_n [z^n] prod_i Psi_i(z; n, y) * ([n > 0] + y [n = 0])^n_free dy,

    where ``psis[i][q, n, g, j]`` is unit i's :meth:`ModelCounts.own_labels_gf` or
    :func:`shared_label_gf` (j its correct count, the power of z) at the nodes ``y`` of :func:`tie_nodes` with weights
    ``wy``, and ``n_free`` counts the named answers no model gives (their count is 0).
    Work O(n K^3 nodes) per question, whatever the number of named answers: no grid.
    """
    first = poly_product(psis[:-1], K) if len(psis) > 1 else np.ones(psis[0].shape[:-1] + (1,))
    return diagonal_credit(first, psis[-1], n_free, y, wy)


def poly_product(psis: Sequence[np.ndarray], K: int) -> np.ndarray:
    """The product of polynomials in z (last axis: the power) ``psis[i][..., j]``, truncated to degree K."""
    prod = psis[0]
    for p in psis[1:]:
        deg = min(K + 1, prod.shape[-1] + p.shape[-1] - 1)
        new = np.zeros(prod.shape[:-1] + (deg,))
        for j in range(p.shape[-1]):
            top = min(prod.shape[-1], deg - j)
            new[..., j : j + top] += prod[..., :top] * p[..., j : j + 1]
        prod = new
    return prod


def diagonal_credit(a: np.ndarray, b: np.ndarray, n_free: int, y: np.ndarray, wy: np.ndarray) -> np.ndarray:
    """:func:`private_credit` from two factors of the product, ``a = prod`` of some units' Psi
    (:func:`poly_product`) and ``b`` the rest's: only the coefficients [z^n] at n (the diagonal) are formed,
    sum_j a[q, n, g, j] b[q, n, g, n - j], so the last factor costs O(K^2) instead of O(K^3)."""
    Q, N, G = a.shape[:3]
    coef = np.zeros((Q, N, G))
    n = np.arange(N)
    for j in range(min(a.shape[-1], N)):
        ok = n[(n >= j) & (n - j < b.shape[-1])]
        coef[:, ok] += a[..., j][:, ok] * b[:, ok, :, ok - j].transpose(1, 0, 2)  # (Q, len(ok), G)
    if n_free:
        coef *= ((n[:, None] > 0) + y[None, :] * (n[:, None] == 0)) ** n_free
    return coef.sum(axis=1) @ wy


def shared_label_gf(joints: Sequence[np.ndarray], K: int, y: np.ndarray) -> np.ndarray:
    """Psi of a group of models whose only named wrong answer is one shared answer X (see
    :func:`private_credit`): ``joints[i][q, j, x]`` = P(model i has j correct and x on X); their
    2-D convolution (by FFT, per question) is the group's (correct, X) law, and
    Psi[q, n, g, j] = sum_x P(j, x) ([x < n] + y_g [x = n])."""
    return label_gf(group_joint(joints), K, y)


def group_joint(joints: Sequence[np.ndarray]) -> np.ndarray:
    """The (correct, X) law of a group of independent models: the 2-D convolution of their ``joints``."""
    P = functools.reduce(lambda a, b: fftconvolve(a, b, axes=(1, 2)), joints)
    return np.clip(P, 0.0, None)  # FFT round-off (~1e-16) below zero


def label_gf(P: np.ndarray, K: int, y: np.ndarray) -> np.ndarray:
    """:func:`shared_label_gf` of the group's (correct, X) law ``P[q, j, x]`` (:func:`group_joint`)."""
    n, x = np.arange(K + 1), np.arange(P.shape[2])
    gy = (x[None, None, :] < n[:, None, None]) + y[None, :, None] * (x[None, None, :] == n[:, None, None])
    out = P @ gy.reshape(-1, len(x)).T  # (Q, j, n * g): one matrix product
    return out.reshape(P.shape[0], P.shape[1], K + 1, len(y)).transpose(0, 2, 3, 1)


#: At most this many rows, the vote's single-draw term combines patterns in one vectorised pass.
FEW_ROWS = 32


@functools.lru_cache(maxsize=None)
def _disjoint_pairs(bits: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[tuple[int, int]]]:
    """Every pair (a, b) of ``bits``-bit masks with a & b = 0, sorted by a | b: index arrays A, B, the start
    of each a | b group (every mask m occurs, as m | 0: the groups for np.add.reduceat), and the pairs as
    Python ints for a loop."""
    masks = np.arange(2**bits)
    A, B = np.nonzero((masks[:, None] & masks[None, :]) == 0)
    by = np.argsort(A | B, kind="stable")
    A, B = A[by], B[by]
    starts = np.flatnonzero(np.r_[True, np.diff(A | B) != 0])
    return A, B, starts, list(zip(A.tolist(), B.tolist()))


def single_draw_term(singles: Sequence[np.ndarray], n_labels: int, K: int) -> np.ndarray:
    """``(Q,)``: the vote's correction for N_correct <= 1.

    ``singles[i]`` is model i's single-draw patterns (:meth:`ModelCounts.singleton_gf`)
    at :func:`vote_nodes` (K).

    Case N_correct = 1: the correct answer wins only if all valid draws are
    distinct; its credit 1/(1 + #wrong valid draws) = int_0^1 u^(#wrong) du is
    integrated exactly by Gauss-Legendre.  Models combine by disjoint unions of
    their patterns.  Outcomes with N_correct <= 1 that :func:`margin_credit`
    counted (all named totals in {0, 1} with N_w <= N_correct; read at u = 1)
    are subtracted.
    """
    L = n_labels
    masks = np.arange(2 ** (L + 1))
    bits = (masks[:, None] >> np.arange(L + 1)) & 1  # columns: labels..., correct
    u, wu = vote_nodes(K)
    at_u = u[None, :] ** bits[:, :L].sum(axis=1)[:, None]  # u^(#named wrong answers in the pattern)
    A, B, starts, pairs = _disjoint_pairs(L + 1)
    state = None
    for g in singles:
        g = g * at_u
        if state is None:
            state = g
        elif len(g) <= FEW_ROWS:  # few rows: the loop's per-pair overhead dominates (10-40x at <= 16 rows)
            state = np.add.reduceat(state[:, A] * g[:, B], starts, axis=1)
        else:
            new = np.zeros_like(g)
            for a, b in pairs:
                new[:, a | b] += state[:, a] * g[:, b]
            state = new
    nc, nw = bits[:, L], bits[:, :L]
    counted = (nw <= nc[:, None]).all(axis=1)
    f_small = np.where(counted, _margin_credit((nc[:, None] - nw).T) if L else 1.0, 0.0)
    return state[:, nc == 1].sum(axis=1) @ wu - state[:, :, -1] @ f_small


def reduce_singles(g: np.ndarray, n_own: int, K: int) -> np.ndarray:
    """Model i's single-draw patterns (:meth:`ModelCounts.singleton_gf` over its ``n_own`` own named answers, at
    :func:`vote_nodes` (K)) summed by what the vote needs of a pattern when no other model gives these answers:
    ``r[q, c, j, t]`` = the patterns with correct bit c and j named answers, times ``u_t^j``.
    Shape ``(Q, 2, n_own + 1, nodes)``; feeds :func:`single_draw_private`."""
    u, _ = vote_nodes(K)
    masks = np.arange(2 ** (n_own + 1))
    c = masks >> n_own
    j = np.array([bin(m).count("1") for m in masks]) - c
    to = np.zeros((len(masks), 2 * (n_own + 1)))
    to[masks, c * (n_own + 1) + j] = 1.0
    r = np.einsum("qmt,mx->qxt", g, to).reshape(g.shape[0], 2, n_own + 1, g.shape[2])
    return r * u[None, None, None, :] ** np.arange(n_own + 1)[None, None, :, None]


def group_singles(parts: Sequence[np.ndarray]) -> np.ndarray:
    """:func:`reduce_singles` (one named answer each) of models that give one and the same named answer, combined
    into the group's: patterns are disjoint in both the correct answer and the shared one, so
    ``out[q, c, j]`` sums the members' products with correct bits adding to c <= 1 and shared bits to j <= 1."""
    state = parts[0]
    for g in parts[1:]:
        new = np.zeros_like(state)
        for c1, j1, c2, j2 in itertools.product((0, 1), repeat=4):
            if c1 + c2 <= 1 and j1 + j2 <= 1:
                new[:, c1 + c2, j1 + j2] += state[:, c1, j1] * g[:, c2, j2]
        state = new
    return state


def single_draw_private(parts: Sequence[np.ndarray], n_labels: int, K: int) -> np.ndarray:
    """:func:`single_draw_term` when every named answer is given by one model only (each model's own).

    Then two models' patterns are disjoint unless both draw the correct answer once, and a pattern matters
    only by its correct bit c and its number j of named answers (each drawn once): ``parts[i]`` is model i's
    :func:`reduce_singles`, models combine by convolution in j with c <= 1, and the subtracted outcomes that
    :func:`margin_credit` counted have credit 1 / (1 + j) for c = 1 and 1 / (1 + ``n_labels``) for c = j = 0.
    Work O(Q n^2 nodes) instead of the disjoint pairs of 2^(L + 1) masks."""
    _, wu = vote_nodes(K)
    state = parts[0]
    for g in parts[1:]:
        J = state.shape[2] + g.shape[2] - 1
        new = np.zeros((state.shape[0], 2, J, state.shape[3]))
        for j in range(g.shape[2]):
            top = state.shape[2]
            new[:, 0, j : j + top] += state[:, 0] * g[:, 0, j : j + 1]
            new[:, 1, j : j + top] += state[:, 1] * g[:, 0, j : j + 1] + state[:, 0] * g[:, 1, j : j + 1]
        state = new
    j = np.arange(state.shape[2])
    at_one = state[:, :, :, -1]  # u = 1: the law itself
    return state[:, 1].sum(axis=1) @ wu - at_one[:, 1] @ (1.0 / (1.0 + j)) - at_one[:, 0, 0] / (1.0 + n_labels)


#: Largest product of per-model support sizes for the sparse pooled vote of logged pools.
SPARSE_MAX_ROWS = 20_000_000


def pool_count_vectors(counts: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """Every count vector of k draws without replacement from one logged pool, with its probability.

    ``counts`` = [correct, labels..., tail, abstain] (integers).  Returns
    ``(vectors (S, L + 2), prob (S,))`` over [correct, labels..., tail]
    (abstain is the rest): prob = prod_c C(K_c, n_c) C(K_a, n_a) / C(K, k).
    """
    counts = np.round(counts).astype(np.int64)
    kept = counts[:-1]
    box = np.zeros((1, 0), dtype=np.int64)
    for c in kept:  # extend every partial vector whose sum is still <= k
        room = k - box.sum(axis=1)
        reps = np.minimum(room, c) + 1
        rows = np.repeat(np.arange(len(box)), reps)
        first = np.repeat(np.cumsum(reps) - reps, reps)
        box = np.column_stack([box[rows], np.arange(len(rows)) - first])
    n_a = k - box.sum(axis=1)
    ok = n_a <= counts[-1]
    box, n_a = box[ok], n_a[ok]
    logp = (gammaln(kept + 1) - gammaln(box + 1) - gammaln(kept - box + 1)).sum(axis=1)
    logp += gammaln(counts[-1] + 1) - gammaln(n_a + 1) - gammaln(counts[-1] - n_a + 1)
    K = counts.sum()
    logp -= gammaln(K + 1) - gammaln(k + 1) - gammaln(K - k + 1)
    return box, np.exp(logp)


def vote_sparse(per_model: Sequence[tuple[np.ndarray, np.ndarray]], K: int) -> float:
    """Exact pooled vote of one question from each model's (count vectors, probabilities).

    Models are merged one at a time: every sum of the totals so far and the next
    model's vectors, equal totals added up.  Totals are packed into int64 keys of
    radix K+1 only when (K+1)^D < 2^63 (D = columns some model uses; no carries,
    every total is <= K), else merged as rows, so nothing ever wraps around.
    Totals whose largest named count exceeds N_correct by more than the later
    models' correct draws can still add earn 0 and are dropped.  Credit of totals
    (N_c, N_w..., N_tail): the correct answer must reach the top count; it shares
    it with every label at the top and, when the top is 1, with every tail draw.
    """
    D = per_model[0][0].shape[1]
    keep = np.ones(D, dtype=bool)
    keep[1:-1] = np.any([vec[:, 1:-1].any(axis=0) for vec, _ in per_model], axis=0)  # labels some model gives
    per_model = [(vec[:, keep].astype(np.int64), p) for vec, p in per_model]
    D = int(keep.sum())
    packed = (K + 1) ** D < 2**63  # Python integers: exact
    radix = np.array([(K + 1) ** (D - 1 - j) for j in range(D)], dtype=np.int64) if packed else None
    later = np.cumsum([int(vec[:, 0].max()) for vec, _ in per_model][::-1])[::-1]  # correct draws still to come
    tot, prob = per_model[0]
    for m, (vec, p) in enumerate(per_model[1:], start=1):
        rows = (tot[:, None, :] + vec[None, :, :]).reshape(-1, D)
        weights = (prob[:, None] * p[None, :]).ravel()
        if packed:
            _, first, inv = np.unique(rows @ radix, return_index=True, return_inverse=True)
            tot = rows[first]
        else:
            tot, inv = np.unique(rows, axis=0, return_inverse=True)
        prob = np.bincount(inv.ravel(), weights=weights, minlength=len(tot))
        if D > 2 and m + 1 < len(per_model):
            alive = tot[:, 1:-1].max(axis=1) - tot[:, 0] <= later[m + 1]
            tot, prob = tot[alive], prob[alive]
    nc, nw, nt = tot[:, 0], tot[:, 1:-1], tot[:, -1]
    top = np.maximum(nc, np.maximum(nw.max(axis=1, initial=0), (nt > 0).astype(np.int64)))
    n_top = (nw == top[:, None]).sum(axis=1) + np.where(top == 1, nt, 0) + 1
    credit = np.where((nc == top) & (top > 0), 1.0 / n_top, 0.0)
    return float(prob @ credit)
