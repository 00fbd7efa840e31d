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

from typing import Sequence

import numpy as np
from scipy.special import gammaln, xlog1py, xlogy
from scipy.stats import hypergeom


def cond_kernel(num: np.ndarray, rem: np.ndarray, s_max: int, mode: str) -> np.ndarray:
    """``kappa[b, s, x] = P(x draws land in a category | s draws for it and the categories after it)``.

    ``num`` is the category's weight, ``rem`` the weight of it and all later
    categories (shape ``(B,)``).  Returns shape ``(B, s_max + 1, s_max + 1)``.
    """
    if mode == "law":  # Pascal's rule B(s, x) = (1 - p) B(s - 1, x) + p B(s - 1, x - 1): convex, stable
        num, rem = np.asarray(num, dtype=float), np.asarray(rem, dtype=float)
        p = np.clip(np.divide(num, rem, out=np.zeros_like(num), where=rem > 0), 0.0, 1.0)[:, None]
        out = np.zeros((len(num), s_max + 1, s_max + 1))
        out[:, 0, 0] = 1.0
        for s in range(1, s_max + 1):
            out[:, s, : s + 1] = (1.0 - p) * out[:, s - 1, : s + 1]
            out[:, s, 1 : s + 1] += p * out[:, s - 1, :s]
        return out
    num = np.asarray(num, dtype=float)[:, None, None]
    rem = np.asarray(rem, dtype=float)[:, None, None]
    s = np.arange(s_max + 1)[None, :, None]
    x = np.arange(s_max + 1)[None, None, :]
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
        self._tables: dict[object, tuple[np.ndarray, np.ndarray]] = {}

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
        if ("cw", k) not in self._tables:
            v = self.w[:, 1 : 1 + self.L]
            if self.mode == "law":
                self._tables["cw", k] = (v**k).sum(axis=1)
            else:
                lt = _log_comb(self.total, k)  # -inf on rows (other models' pools) with fewer than k answers
                ok = np.isfinite(lt)
                val = np.exp(_log_comb(v, k) - np.where(ok, lt, 0.0)[:, None]).sum(axis=1)
                self._tables["cw", k] = np.where(ok, val, 0.0)
        return self._tables["cw", k]

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
        S, Q = self.k_max + 1, self.Q
        # H and T depend on a row's multiset of label weights only: each row's drawn labels go first, so
        # the DP runs over the most labels any one row draws (not every column of the layout)
        drawn = self.w[:, 1 : 1 + self.L] > 0
        L = int(drawn.sum(axis=1).max(initial=0))
        cols = np.argsort(~drawn, axis=1, kind="stable")[:, :L]
        wr = np.concatenate([np.take_along_axis(self.w[:, 1 : 1 + self.L], cols, axis=1), self.w[:, 1 + self.L, None]], axis=1)
        # rows ordered by their last drawn label, so that the rows label l can change are a prefix
        last = np.where(wr[:, :L] > 0, np.arange(L), -1).max(axis=1, initial=-1)
        order = np.argsort(-last, kind="stable")
        wr = wr[order]
        rem = np.cumsum(wr[:, ::-1], axis=1)[:, ::-1]
        s = np.arange(S)
        # F[b-1, s, j, q] = P(the labels after this one have every count <= b, j of them at b | s draws left);
        # questions on the last axis keep numpy's inner loops long
        F = np.zeros((S - 1, S, L + 1, Q))
        F[:, :, 0] = 1.0  # the tail takes what is left: each tail draw counts 1 <= b
        for l in reversed(range(L)):
            n = int((last >= l).sum())
            kap = np.moveaxis(cond_kernel(wr[:n, l], rem[:n, l], S - 1, self.mode), 0, -1)  # (s, x, n)
            old = F[..., :n]
            new = kap[None, :, 0, None, :] * old  # this label draws x = 0 of the s: below every b
            for x in range(1, S):  # it draws x of the s: below every b > x, at the top for b = x
                kx = kap[x:, x]  # (s >= x, n)
                new[x:, x:] += kx[None, :, None, :] * old[x:, : S - x]
                new[x - 1, x:, 1:] += kx[:, None, :] * old[x - 1, : S - x, :-1]
            F[..., :n] = new
        H = np.zeros((Q, S, S))
        T = np.zeros((Q, S, S))
        H[:, 0, 0] = 1.0
        H[order, :, 1:] = np.moveaxis(F.sum(axis=2), -1, 0).swapaxes(1, 2)
        T[order, :, 1:] = np.moveaxis(np.einsum("bsjq,j->bsq", F, 1.0 / (1.0 + np.arange(L + 1))), -1, 0).swapaxes(1, 2)
        if S > 1:
            T[:, :, 1] = H[:, :, 1] / (1.0 + s)
        self._H, self._T = H, T
        return H, T

    def _given_non_correct(self) -> tuple[np.ndarray, np.ndarray]:
        """G[q, s, t] = P(every wrong count <= t | s draws not correct) and
        U[q, s, t] = E[1 / (1 + #wrong answers at t); every wrong count <= t | s draws not correct]:
        :meth:`_wrong_max_tables` averaged over the r wrong (not abstaining) draws among the s."""
        if "given" not in self._tables:
            H, T = self._wrong_max_tables()
            s, r = np.meshgrid(np.arange(self.k_max + 1), np.arange(self.k_max + 1), indexing="ij")
            W = np.where(r <= s, self.kap_a[:, s, np.clip(s - r, 0, None)], 0.0)  # P(r wrong | s), m = s - r abstain
            self._tables["given"] = (W @ H, W @ T)
        return self._tables["given"]

    def top(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """``P[q, t]`` = P(plurality count = t) and ``C[q, t]`` its credit mass, for k draws.

        With j correct draws the other k - j decide the rest (:meth:`_given_non_correct`)::

            P(top <= t) = sum_{j <= t} P(n_correct = j) G[k - j, t],    C[t] = P(n_correct = t) U[k - t, t]  (t >= 1)

        This is the (top, valid) table of :meth:`top_valid` summed over valid.
        """
        key = ("top", k)
        if key in self._tables:
            return self._tables[key]
        G, U = self._given_non_correct()
        S = k + 1
        j, t = np.meshgrid(np.arange(S), np.arange(S), indexing="ij")
        pc = self.kap_c[:, k, :S]  # P(n_correct = j)
        cdf = np.einsum("qj,qjt->qt", pc, np.where(j <= t, G[:, k - j, t], 0.0))
        P = np.diff(cdf, axis=1, prepend=0.0)
        C = pc * U[:, k - np.arange(S), np.arange(S)]
        C[:, 0] = 0.0
        self._tables[key] = (P, C)
        return P, C

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

    def own_labels_gf(self, k: int, own: Sequence[int], K: int, y: np.ndarray) -> np.ndarray:
        """For a model whose named wrong answers ``own`` (label indices) no other model gives:

            psi[q, n, g, j] = P(n_correct = j) E[prod_{w in own} ([N_w < n] + y_g [N_w = n]) | n_correct = j]

        for n = 0..K, at the nodes ``y``; shape ``(Q, K + 1, len(y), k + 1)``.  The
        k - j draws that are not correct go to the own answers by the chain of
        conditional kernels (the tail and abstentions take the rest).  Feeds the
        vote of models with private wrong answers (:func:`muxsim.exact.combine.private_credit`).
        """
        S, n = k + 1, np.arange(K + 1)
        x = np.arange(S)
        # g[n, y, x] = [x < n] + y [x = n]
        gy = (x[None, None, :] < n[:, None, None]) + y[None, :, None] * (x[None, None, :] == n[:, None, None])
        R = None  # R[q, n, y, s]: the answers after this one, s draws left (none: 1)
        rem = self.total - self.w[:, 0] - self.w[:, [1 + l for l in own]].sum(axis=1)
        for l in reversed(list(own)):
            rem = rem + self.w[:, 1 + l]
            kap = cond_kernel(self.w[:, 1 + l], rem, k, self.mode)  # (Q, s, x), 0 for x > s
            if R is None:  # the last answer: R = 1, so new[q, n, y, s] = sum_x kap[q, s, x] gy[n, y, x]
                R = (kap.reshape(-1, S) @ gy.reshape(-1, S).T).reshape(self.Q, S, K + 1, len(y)).transpose(0, 2, 3, 1)
                continue
            new = np.zeros_like(R)
            for xv in range(S):
                new[..., xv:] += kap[:, None, None, xv:, xv] * gy[None, :, :, xv, None] * R[..., : S - xv]
            R = new
        if R is None:
            R = np.ones((self.Q, K + 1, len(y), S))
        return self.kap_c[:, k, None, None, :S] * R[..., ::-1]  # s = k - j

    def correct_and_label(self, k: int, label: int) -> np.ndarray:
        """``(Q, k + 1, k + 1)``: P(n_correct = j, n_label = x) for k draws of a model whose only
        named wrong answer is ``label`` (the other non-correct draws are tail or abstain)."""
        S = k + 1
        kap = cond_kernel(self.w[:, 1 + label], self.total - self.w[:, 0], k, self.mode)  # (Q, s, x), s = k - j
        return self.kap_c[:, k, :S, None] * kap[:, ::-1, :]

    def singleton_gf(self, k: int, n_labels: int, u: np.ndarray) -> np.ndarray:
        """Single-draw patterns of k draws, as a generating function in the tail count.

        ``g[q, mask, j] = sum_m P(pattern mask, n_tail = m) u_j^m`` at the nodes ``u``,
        shape ``(Q, 2**(n_labels+1), len(u))``, where pattern mask means: each named
        answer in mask drawn exactly once, every other named answer (correct
        included) not drawn, the rest tail or abstain.  Bit n_labels of mask is the
        correct answer.  Feeds the vote's N_correct = 1 case.

        Laws (multinomial, s = |mask|)::

            g = k! / (k - s)! * prod_{w in mask} v_w * (a + t u)^(k - s)

        Pools (hypergeometric): prod_{w in mask} K_w * C(K_t, m) C(K_a, k - s - m) / C(K, k), summed over m.
        """
        L1 = n_labels + 1
        masks = np.arange(2**L1)
        bits = (masks[:, None] >> np.arange(L1)[None, :]) & 1  # (2^L1, L1)
        size = bits.sum(axis=1)
        wsel = self.w[:, [1 + l for l in range(n_labels)] + [0]]  # (Q, L1): labels..., correct
        prod = np.where(bits[None] == 1, wsel[:, None, :], 1.0).prod(axis=2)  # (Q, 2^L1)
        t, a = self.w[:, self.L + 1], self.w[:, self.L + 2]
        if self.mode == "law":
            lead = np.exp(gammaln(k + 1) - gammaln(np.maximum(k - size, 0) + 1)) * (size <= k)
            base = a[:, None] + t[:, None] * u[None, :]  # (Q, nodes)
            pw = np.empty((L1 + 1,) + base.shape)  # pw[s] = base^(k - s) for patterns of size s <= L1
            pw[L1] = base ** max(k - L1, 0)
            for d in range(L1 - 1, -1, -1):
                pw[d] = pw[d + 1] * base if k - d > 0 else 1.0
            return (lead * prod)[:, :, None] * pw[size].transpose(1, 0, 2)
        m = np.arange(k + 1)
        rest = k - size[:, None] - m[None, :]  # abstain draws, (2^L1, k+1)
        val = (
            _log_comb(t[:, None, None], m[None, None, :])
            + _log_comb(a[:, None, None], rest[None])
            - _log_comb(self.total, k)[:, None, None]
        )
        ok = (rest >= 0)[None] & (size <= k)[None, :, None]
        tab = prod[:, :, None] * np.where(ok, np.exp(np.where(ok, val, -np.inf)), 0.0)  # (Q, 2^L1, k+1)
        return tab @ (u[None, :] ** m[:, None])
