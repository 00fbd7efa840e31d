"""Per-model count distributions: everything one model contributes, as exact sums.

All quantities here are *linear* in the distribution of one model's draw counts,
so a mixture of laws (latent difficulty) is handled by averaging these arrays.

Draw counts of one model follow either

* ``mode="law"``: a multinomial (k draws with replacement from an AnswerLaw), or
* ``mode="pool"``: a multivariate hypergeometric (k of K logged answers without
  replacement).

Both are written as a chain of *conditional kernels*: the count of category i
given the s draws left for categories i, i+1, ... is Binomial(s, w_i / R_i)
(laws) or Hypergeom(R_i, w_i, s) (pools), where R_i is the weight of categories
i and after.  Every intermediate is a probability in [0, 1], so nothing
overflows for large k (tested to k = 128).
"""

from __future__ import annotations

import numpy as np
from scipy.special import gammaln, xlog1py, xlogy
from scipy.stats import hypergeom


def cond_kernel(num: np.ndarray, rem: np.ndarray, s_max: int, mode: str) -> np.ndarray:
    """``kappa[b, s, x] = P(x draws land in a category | s draws for it and the categories after it)``.

    ``num`` is the category's weight, ``rem`` the weight of it and all later
    categories (shape ``(B,)``).  Returns shape ``(B, s_max + 1, s_max + 1)``.
    """
    num = np.asarray(num, dtype=float)[:, None, None]
    rem = np.asarray(rem, dtype=float)[:, None, None]
    s = np.arange(s_max + 1)[None, :, None]
    x = np.arange(s_max + 1)[None, None, :]
    if mode == "law":
        p = np.clip(np.divide(num, rem, out=np.zeros_like(num), where=rem > 0), 0.0, 1.0)
        ok = x <= s
        logpmf = _log_comb(s, x) + xlogy(x, p) + xlog1py(np.where(ok, s - x, 0), -p)
        return np.where(ok, np.exp(np.where(ok, logpmf, -np.inf)), 0.0)
    M = np.round(rem).astype(np.int64)
    n = np.minimum(np.round(num).astype(np.int64), M)
    with np.errstate(invalid="ignore", divide="ignore"):
        out = hypergeom.pmf(x, M, n, np.minimum(s, M))
    out = np.nan_to_num(out)
    out = np.where(s <= M, out, 0.0)
    return np.where(s == 0, (x == 0).astype(float), out)


def _log_comb(n: np.ndarray, k: np.ndarray) -> np.ndarray:
    """log C(n, k), -inf where k < 0 or k > n."""
    n = np.asarray(n, dtype=float)
    k = np.asarray(k, dtype=float)
    ok = (k >= 0) & (k <= n)
    with np.errstate(invalid="ignore"):
        v = gammaln(n + 1) - gammaln(np.where(ok, k, 0) + 1) - gammaln(np.where(ok, n - k, 0) + 1)
    return np.where(ok, v, -np.inf)


class ModelCounts:
    """Exact count summaries of one model on Q questions, for every k <= k_max.

    ``weights`` has shape ``(Q, L + 3)``: ``[correct, labels..., tail, abstain]``
    (see :mod:`muxsim.layout`).
    """

    def __init__(self, weights: np.ndarray, mode: str, k_max: int):
        self.w = np.asarray(weights, dtype=float)
        self.mode = mode
        self.k_max = int(k_max)
        self.L = self.w.shape[1] - 3
        self.Q = self.w.shape[0]
        self.total = self.w.sum(axis=1)
        self._kap_c: np.ndarray | None = None
        self._kap_a: np.ndarray | None = None
        self._H: np.ndarray | None = None
        self._T: np.ndarray | None = None
        self._tables: dict[int, tuple[np.ndarray, np.ndarray]] = {}

    @property
    def kap_c(self) -> np.ndarray:
        """Kernel of the correct count (the first category)."""
        if self._kap_c is None:
            self._kap_c = cond_kernel(self.w[:, 0], self.total, self.k_max, self.mode)
        return self._kap_c

    @property
    def kap_a(self) -> np.ndarray:
        """Kernel of the abstain count given the draws left after the correct ones."""
        if self._kap_a is None:
            self._kap_a = cond_kernel(self.w[:, -1], self.total - self.w[:, 0], self.k_max, self.mode)
        return self._kap_a

    # ---- marginal of the correct count (union, contradiction) -------------
    def n_correct(self, k: int) -> np.ndarray:
        """``(Q, k + 1)``: P(n_correct = j) for k draws."""
        return self.kap_c[:, k, : k + 1]

    def consistently_wrong(self, k: int) -> np.ndarray:
        """``(Q,)``: P(all k draws are one and the same named wrong answer); 0 for k = 1.

        Laws: sum_w v_w^k.  Pools: sum_w C(K_w, k) / C(K, k).
        """
        if k < 2 or self.L == 0:
            return np.zeros(self.Q)
        v = self.w[:, 1 : 1 + self.L]
        if self.mode == "law":
            return (v**k).sum(axis=1)
        return np.exp(_log_comb(v, k) - _log_comb(self.total, k)[:, None]).sum(axis=1)

    # ---- plurality of one model: (top, valid) table ------------------------
    def _wrong_max_tables(self) -> tuple[np.ndarray, np.ndarray]:
        """H[q, r, b] = P(every wrong answer has count <= b | r wrong draws) and
        T[q, r, b] = E[1 / (1 + #wrong answers with count b) ; every count <= b | r].

        Tail draws count 1 each, so for b = 1 every one of the r wrong draws is a
        distinct answer with count 1 and T[., r, 1] = H[., r, 1] / (1 + r).
        Computed by a DP over the named labels with the number of labels at
        exactly b as an extra index (work O(L^2 k^3) per question).
        """
        if self._H is not None:
            return self._H, self._T  # type: ignore[return-value]
        L, S, Q = self.L, self.k_max + 1, self.Q
        wr = self.w[:, 1 : L + 2]  # labels, then tail
        rem = np.cumsum(wr[:, ::-1], axis=1)[:, ::-1]
        s = np.arange(S)
        x = s[:, None] - s[None, :]  # x = s - s' drawn by this label
        xi = np.clip(x, 0, None)
        shifts = []
        for l in range(L):
            kap = cond_kernel(wr[:, l], rem[:, l], S - 1, self.mode)
            shifts.append(np.where(x >= 0, kap[:, s[:, None], xi], 0.0))  # (Q, s, s')
        H = np.zeros((Q, S, S))
        T = np.zeros((Q, S, S))
        H[:, 0, 0] = 1.0
        ties = np.arange(L + 1)
        for b in range(1, S):
            F = np.zeros((Q, S, L + 1))
            F[:, :, 0] = 1.0  # the tail takes what is left: each tail draw counts 1 <= b
            for l in reversed(range(L)):
                below = shifts[l] * (x < b)
                at = shifts[l] * (x == b)
                shifted = np.concatenate([np.zeros((Q, S, 1)), F[:, :, :-1]], axis=2)
                F = below @ F + at @ shifted
            H[:, :, b] = F.sum(axis=2)
            T[:, :, b] = (F / (1.0 + ties)).sum(axis=2)
        if S > 1:
            T[:, :, 1] = H[:, :, 1] / (1.0 + s)
        self._H, self._T = H, T
        return H, T

    def top_valid(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``P[q, top, valid]`` and ``C[q, top, valid]`` (credit mass) for k draws.

        top = the plurality count, valid = non-abstain draws, credit = the
        probability that the plurality answer (uniform among ties) is correct.
        Sum of C is SC(k).  Built from n_correct = j, n_abstain = m and the
        wrong-count maximum b over r = k - j - m wrong draws: top = max(j, b).
        """
        if k in self._tables:
            return self._tables[k]
        H, T = self._wrong_max_tables()
        j, m = np.meshgrid(np.arange(k + 1), np.arange(k + 1), indexing="ij")
        keep = j + m <= k
        J, M = j[keep], m[keep]
        R = k - J - M
        p_jm = self.kap_c[:, k, J] * self.kap_a[:, k - J, M]  # (Q, pairs)
        Hk = H[:, : k + 1, : k + 1]
        dens = np.diff(Hk, axis=2, prepend=0.0)  # P(max wrong = b | r)
        tau = np.arange(k + 1)
        g = np.where(tau[None, None, :] == J[None, :, None], Hk[:, R, :][:, np.arange(len(J)), J][:, :, None], 0.0)
        g = g + np.where(tau[None, None, :] > J[None, :, None], dens[:, R, :], 0.0)
        onehot = ((k - M)[:, None] == tau[None, :]).astype(float)  # pair -> valid = k - m
        P = np.swapaxes(p_jm[:, :, None] * g, 1, 2) @ onehot
        credit = p_jm * np.where(J >= 1, T[:, R, J], 0.0)
        onehot_top = (J[:, None] == tau[None, :]).astype(float)
        C = (onehot_top.T[None] * credit[:, None, :]) @ onehot
        self._tables[k] = (P, C)
        return P, C

    # ---- pooled vote: joint counts over the correct answer and labels ------
    def label_counts(self, k: int, n_labels: int) -> np.ndarray:
        """``(Q, k+1, ..., k+1)``: P(n_correct, n_label_0, ..., n_label_{n-1}) for k draws
        (tail and abstain absorb the rest)."""
        Q, S = self.Q, k + 1
        s_idx, x_idx = np.nonzero(np.tri(S, dtype=bool))  # pairs x <= s
        A = np.zeros((Q, 1, S))
        A[:, 0, k] = 1.0
        rem = self.total.copy()
        for col in [0] + [1 + l for l in range(n_labels)]:
            kap = cond_kernel(self.w[:, col], rem, k, self.mode)  # (Q, s, x)
            new = np.zeros((Q, A.shape[1], S, S))
            new[:, :, x_idx, s_idx - x_idx] = A[:, :, s_idx] * kap[:, None, s_idx, x_idx]
            A = new.reshape(Q, -1, S)
            rem = rem - self.w[:, col]
        return A.sum(axis=2).reshape((Q,) + (S,) * (n_labels + 1))

    def singletons(self, k: int, n_labels: int) -> np.ndarray:
        """``(Q, 2**(n_labels+1), k+1)``: P(each answer in `mask` drawn exactly once, every
        other named answer (correct included) not drawn, n_tail = m); bit n_labels of
        the mask is the correct answer.  Feeds the vote's N_correct = 1 case."""
        L1 = n_labels + 1
        masks = np.arange(2**L1)
        bits = (masks[:, None] >> np.arange(L1)[None, :]) & 1  # (2^L1, L1)
        size = bits.sum(axis=1)
        cols = [1 + l for l in range(n_labels)] + [0]
        wsel = self.w[:, cols]  # (Q, L1)
        t, a = self.w[:, self.L + 1], self.w[:, self.L + 2]
        m = np.arange(k + 1)
        rest = k - size[:, None] - m[None, :]  # abstain draws, (2^L1, k+1)
        with np.errstate(divide="ignore"):
            logw = np.log(wsel)
        logprod = np.where(bits[None] == 1, logw[:, None, :], 0.0).sum(axis=2)  # (Q, 2^L1)
        if self.mode == "law":
            lead = gammaln(k + 1) - gammaln(np.maximum(k - size, 0) + 1)
            val = (
                lead[None, :, None]
                + logprod[:, :, None]
                + _log_comb(k - size[:, None], m[None, :])[None]
                + xlogy(m[None, None, :], t[:, None, None])
                + xlogy(np.maximum(rest, 0)[None], a[:, None, None])
            )
        else:
            val = (
                logprod[:, :, None]
                + _log_comb(t[:, None, None], m[None, None, :])
                + _log_comb(a[:, None, None], rest[None])
                - _log_comb(self.total, k)[:, None, None]
            )
        ok = (rest >= 0)[None] & (size <= k)[None, :, None]
        with np.errstate(over="ignore"):
            return np.where(ok, np.exp(np.where(ok, val, -np.inf)), 0.0)
