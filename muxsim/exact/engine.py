"""Exact evaluation of every method on a batch of questions (a :class:`~muxsim.layout.Layout`).

Rows of the layout may be grouped into mixtures: ``mix=(E, weights)`` says
that each consecutive run of E rows is one question whose per-model answer law
is the weighted mixture of those E laws (latent difficulty integrated by
quadrature).  Per-model summaries are linear in the law, so they are averaged
over the mixture before models are combined.
"""

from __future__ import annotations

import functools
from typing import Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.exact import combine
from muxsim.exact.counts import ModelCounts
from muxsim.layout import Layout
from muxsim.rules import check_r, check_score


def check_k(k: object, n_models: int) -> list[int]:
    """An int, or one int per model; each >= 1."""
    ks = list(k) if isinstance(k, (list, tuple, np.ndarray)) else [k] * n_models
    if len(ks) != n_models:
        raise MuxsimError(f"k={list(ks)!r} gives {len(ks)} values for {n_models} models")
    out = []
    for v in ks:
        if isinstance(v, bool) or not isinstance(v, (int, np.integer)) or v < 1:
            raise MuxsimError(f"k={v!r} must be an integer >= 1")
        out.append(int(v))
    return out


class Engine:
    """Exact per-question values for one layout; models are referred to by index."""

    def __init__(self, lay: Layout, k_max: int | Sequence[int], mix: tuple[int, np.ndarray] | None = None):
        self.lay = lay
        kmax = check_k(k_max, lay.n_models)
        if lay.mode == "pool":
            sizes = lay.pool_sizes()
            for i, k in enumerate(kmax):
                short = np.flatnonzero(sizes[:, i] < k)
                if len(short):
                    q = short[0]
                    raise MuxsimError(
                        f"k={k} is larger than the {int(sizes[q, i])} logged samples of model {i} on question {q}"
                    )
        self.k_max = kmax
        self.E, self.mix_w = (1, np.ones(1)) if mix is None else (int(mix[0]), np.asarray(mix[1], dtype=float))
        if lay.n_questions % self.E:
            raise MuxsimError(f"{lay.n_questions} rows do not split into mixtures of {self.E}")
        self.Q = lay.n_questions // self.E
        self.counts = [ModelCounts(lay.model(i), lay.mode, kmax[i]) for i in range(lay.n_models)]
        self._phi: dict[tuple, np.ndarray] = {}  # one-draw margin spectra, reused for every k

    def _mix(self, a: np.ndarray) -> np.ndarray:
        if self.E == 1:
            return a
        a = a.reshape((self.Q, self.E) + a.shape[1:])
        return np.tensordot(self.mix_w, a, axes=(0, 1))

    def _k(self, i: int, k: int) -> int:
        if k > self.k_max[i]:
            raise MuxsimError(f"k={k} exceeds k_max={self.k_max[i]} prepared for model {i}")
        return k

    def single(self, i: int) -> np.ndarray:
        c = self.lay.model(i)
        return self._mix(c[:, 0] / c.sum(axis=1))

    def sc(self, i: int, k: int) -> np.ndarray:
        _, C = self.counts[i].top_valid(self._k(i, k))
        return self._mix(C.reshape(C.shape[0], -1).sum(axis=1))

    def mux(self, models: Sequence[int], ks: Sequence[int], score: str = "per_k"):
        """Returns (accuracy (Q,), p_selected (Q, n), p_selected_and_correct (Q, n))."""
        check_score(score)
        dists, credits, scores = [], [], []
        for i, k in zip(models, ks):
            P, C = self.counts[i].top_valid(self._k(i, k))
            P, C = self._mix(P), self._mix(C)
            top = np.arange(k + 1)
            if score == "per_k":
                dists.append(P.sum(axis=2))
                credits.append(C.sum(axis=2))
                scores.append(top / k)
            else:
                valid = np.arange(k + 1)
                s = np.where(valid[None, :] > 0, top[:, None] / np.maximum(valid[None, :], 1), 0.0)
                dists.append(P.reshape(self.Q, -1))
                credits.append(C.reshape(self.Q, -1))
                scores.append(s.ravel())
        return combine.mux(dists, credits, scores)

    def _at_least(self, i: int, k: int, r: int) -> np.ndarray:
        return self._mix(self.counts[i].n_correct(self._k(i, k))[:, r:].sum(axis=1))

    def union(self, models: Sequence[int], ks: Sequence[int], r: int = 1) -> np.ndarray:
        r = check_r(r)
        return combine.union([self._at_least(i, k, r) for i, k in zip(models, ks)])

    def contradiction(self, models: Sequence[int], ks: Sequence[int], r: int = 1) -> np.ndarray:
        r = check_r(r)
        a = [self._mix(self.counts[i].consistently_wrong(self._k(i, k))) for i, k in zip(models, ks)]
        b = [self._at_least(i, k, r) for i, k in zip(models, ks)]
        return combine.contradiction(a, b)

    def vote(self, models: Sequence[int], ks: Sequence[int], *, sparse: bool | None = None) -> np.ndarray:
        """Pooled vote.

        Logged pools: each question by merging the models' few possible count
        vectors (:func:`combine.vote_sparse`) when that is small, else as laws.
        Laws: questions grouped by their number L of named wrong answers, each
        group by FFT of the margin laws (:func:`combine.vote`).  ``sparse``
        forces (True) or forbids (False) the pool path (for tests).
        """
        models = list(models)
        if self.lay.mode == "pool" and sparse is not False:
            return self._vote_pools(models, ks, force=bool(sparse))
        return self._vote_fft(models, ks)

    def _vote_pools(self, models: list[int], ks: Sequence[int], force: bool) -> np.ndarray:
        K = int(sum(ks))
        out = np.full(self.Q, np.nan)
        for q in range(self.Q):
            w = self.lay.weights[q]
            vectors = [combine.pool_count_vectors(w[i], self._k(i, k)) for i, k in zip(models, ks)]
            if force or np.prod([float(len(p)) for _, p in vectors]) <= combine.SPARSE_MAX_ROWS:
                out[q] = combine.vote_sparse(vectors, K)
        rest = np.flatnonzero(np.isnan(out))
        if len(rest):
            sub = Engine(Layout(self.lay.mode, self.lay.weights[rest], self.lay.n_labels[rest], tuple(self.lay.labels[q] for q in rest)), self.k_max)
            out[rest] = sub._vote_fft(models, ks)
        return out

    def _vote_fft(self, models: list[int], ks: Sequence[int]) -> np.ndarray:
        used = self.lay.weights[:, models, 1 : 1 + self.lay.width].max(axis=1) > 0  # (rows, L)
        # labels are numbered per question with used ones first only when built by layout();
        # take the highest used column + 1 so any layout works
        if used.shape[1] == 0:
            n_lab = np.zeros(used.shape[0], dtype=int)
        else:
            n_lab = np.where(used.any(axis=1), used.shape[1] - np.argmax(used[:, ::-1], axis=1), 0)
        n_lab = n_lab.reshape(self.Q, self.E).max(axis=1)
        out = np.zeros(self.Q)
        K, L_max = int(sum(ks)), int(n_lab.max())
        combine.check_vote_size(K, L_max)
        # one FFT length for every k <= k_max (one-draw spectra computed once per model), unless
        # that grid is over the limit while this k's is not
        size = combine.margin_grid(sum(self.k_max[i] for i in models), L_max)
        if size**L_max > combine.VOTE_MAX_CELLS:
            size = combine.margin_grid(K, L_max)
        for L in np.unique(n_lab):
            group = np.flatnonzero(n_lab == L)
            step = max(1, int(combine.VOTE_CHUNK_CELLS // (self.E * size ** int(L))))  # bounded memory
            for start in range(0, len(group), step):
                qs = group[start : start + step]
                out[qs] = self._vote_fft_group(models, ks, qs, int(L), size, start)
        return out

    def _vote_fft_group(self, models: list[int], ks: Sequence[int], qs: np.ndarray, L: int, size: int, start: int) -> np.ndarray:
        rows = (qs[:, None] * self.E + np.arange(self.E)[None, :]).ravel()
        spectra, sgs = [], []
        same_k: dict[int, list] = {}  # without mixtures, prod_i phi_i^k = (prod_i phi_i)^k
        for i, k in zip(models, ks):
            w = self.lay.model(i)[rows]
            sub = ModelCounts(w, self.lay.mode, self._k(i, k))
            sgs.append(self._mix_rows(sub.singletons(k, L), len(qs)))
            if not L:
                continue
            if self.lay.mode == "law":  # k draws with replacement: the k-th power of one draw
                key = (tuple(models), i, L, size, start)  # rows depend on the model subset and chunk
                if key not in self._phi:
                    self._phi[key] = combine.one_draw_spectrum(w, L, size)
                phi = self._phi[key]
                if self.E == 1:
                    same_k.setdefault(k, []).append(key)
                else:
                    spectra.append(self._mix_rows(combine.ipow(phi, k), len(qs)))
            else:
                spectra.append(self._mix_rows(combine.margin_spectrum(sub.label_counts(k, L), k, size), len(qs)))
        for k, keys in same_k.items():
            pkey = ("prod",) + tuple(keys)
            if pkey not in self._phi:
                self._phi[pkey] = functools.reduce(np.multiply, [self._phi[key] for key in keys])
            spectra.append(combine.ipow(self._phi[pkey], k))
        return combine.vote(spectra, sgs, list(ks), L, size)

    def _mix_rows(self, a: np.ndarray, n: int) -> np.ndarray:
        if self.E == 1:
            return a
        return np.tensordot(self.mix_w, a.reshape((n, self.E) + a.shape[1:]), axes=(0, 1))
