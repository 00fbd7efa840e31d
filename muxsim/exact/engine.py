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
        self.rows = lay.n_questions
        # every model's rows stacked (model-major) in one set of count tables
        stacked = np.concatenate([lay.model(i) for i in range(lay.n_models)])
        self.counts = ModelCounts(stacked, lay.mode, max(kmax))

    def _mix(self, a: np.ndarray) -> np.ndarray:
        if self.E == 1:
            return a
        a = a.reshape((self.Q, self.E) + a.shape[1:])
        return np.tensordot(self.mix_w, a, axes=(0, 1))

    def _of(self, i: int, a: np.ndarray) -> np.ndarray:
        """Model i's rows of a stacked per-row array, mixed into questions."""
        return self._mix(a[self._rows(i)])

    def _rows(self, i: int) -> slice:
        return slice(i * self.rows, (i + 1) * self.rows)

    def _k(self, i: int, k: int) -> int:
        if k > self.k_max[i]:
            raise MuxsimError(f"k={k} exceeds k_max={self.k_max[i]} prepared for model {i}")
        return k

    def single(self, i: int) -> np.ndarray:
        c = self.lay.model(i)
        return self._mix(c[:, 0] / c.sum(axis=1))

    def sc(self, i: int, k: int) -> np.ndarray:
        _, C = self.counts.top(self._k(i, k))
        return self._mix(C[self._rows(i)].sum(axis=1))

    def mux(self, models: Sequence[int], ks: Sequence[int], score: str = "per_k"):
        """Returns (accuracy (Q,), p_selected (Q, n), p_selected_and_correct (Q, n))."""
        check_score(score)
        dists, credits, scores = [], [], []
        for i, k in zip(models, ks):
            top = np.arange(k + 1)
            if score == "per_k":
                P, C = self.counts.top(self._k(i, k))
                dists.append(self._of(i, P))
                credits.append(self._of(i, C))
                scores.append(top / k)
            else:
                P, C = self.counts.top_valid(self._k(i, k))
                P, C = self._of(i, P), self._of(i, C)
                valid = np.arange(k + 1)
                s = np.where(valid[None, :] > 0, top[:, None] / np.maximum(valid[None, :], 1), 0.0)
                dists.append(P.reshape(self.Q, -1))
                credits.append(C.reshape(self.Q, -1))
                scores.append(s.ravel())
        return combine.mux(dists, credits, scores)

    def _at_least(self, i: int, k: int, r: int) -> np.ndarray:
        return self._mix(self.counts.n_correct(self._k(i, k))[self._rows(i), r:].sum(axis=1))

    def union(self, models: Sequence[int], ks: Sequence[int], r: int = 1) -> np.ndarray:
        r = check_r(r)
        return combine.union([self._at_least(i, k, r) for i, k in zip(models, ks)])

    def contradiction(self, models: Sequence[int], ks: Sequence[int], r: int = 1) -> np.ndarray:
        r = check_r(r)
        a = [self._of(i, self.counts.consistently_wrong(self._k(i, k))) for i, k in zip(models, ks)]
        b = [self._at_least(i, k, r) for i, k in zip(models, ks)]
        return combine.contradiction(a, b)

    def vote(self, models: Sequence[int], ks: Sequence[int], *, sparse: bool | None = None) -> np.ndarray:
        """Pooled vote.

        Logged pools: each question by merging the models' few possible count
        vectors (:func:`combine.vote_sparse`) when that is small, else as laws.
        Laws: questions grouped by their number L of named wrong answers and
        by which models give which answer; when the models split into units
        (:meth:`_grid_free`), by :func:`combine.private_credit`, else on the
        margin grid (:func:`combine.margin_credit`); plus
        :func:`combine.single_draw_term`.  ``sparse`` forces (True) or forbids
        (False) the pool path (for tests).
        """
        return self.vote_curve(models, [list(ks)], sparse=sparse)[0]

    def vote_curve(self, models: Sequence[int], points: Sequence[Sequence[int]], *, sparse: bool | None = None) -> np.ndarray:
        """``(len(points), Q)``: the pooled vote at each k-vector of ``points`` (one k per model).

        For laws without mixture, the spectrum of one draw from every model is built
        once on the grid of the largest K and raised to the k of successive points
        by running powers (a curve k = 1, 2, ... costs one product per point).
        """
        models = list(models)
        points = [[self._k(i, int(k)) for i, k in zip(models, ks)] for ks in points]
        if self.lay.mode == "pool" and sparse is not False:
            return np.stack([self._vote_pools(models, ks, force=bool(sparse)) for ks in points])
        return self._vote_laws(models, points)

    def _vote_pools(self, models: list[int], ks: Sequence[int], force: bool) -> np.ndarray:
        K = int(sum(ks))
        out = np.full(self.Q, np.nan)
        for q in range(self.Q):
            w = self.lay.weights[q]
            vectors = [combine.pool_count_vectors(w[i], k) for i, k in zip(models, ks)]
            if force or np.prod([float(len(p)) for _, p in vectors]) <= combine.SPARSE_MAX_ROWS:
                out[q] = combine.vote_sparse(vectors, K)
        rest = np.flatnonzero(np.isnan(out))
        if len(rest):
            sub = Engine(Layout(self.lay.mode, self.lay.weights[rest], self.lay.n_labels[rest], tuple(self.lay.labels[q] for q in rest)), self.k_max)
            out[rest] = sub._vote_laws(models, [ks])[0]
        return out

    def _vote_laws(self, models: list[int], points: list[list[int]]) -> np.ndarray:
        used = self.lay.weights[:, models, 1 : 1 + self.lay.width].max(axis=1) > 0  # (rows, L)
        # labels are numbered per question with used ones first only when built by layout();
        # take the highest used column + 1 so any layout works
        if used.shape[1] == 0:
            n_lab = np.zeros(used.shape[0], dtype=int)
        else:
            n_lab = np.where(used.any(axis=1), used.shape[1] - np.argmax(used[:, ::-1], axis=1), 0)
        n_lab = n_lab.reshape(self.Q, self.E).max(axis=1)
        out = np.zeros((len(points), self.Q))
        K = max(sum(ks) for ks in points)
        giv = self._givers(models)
        free = self._grid_free(giv)
        n = len(models)
        for L in np.unique(n_lab):
            if not L:
                continue
            here = (n_lab == L) & free
            for sig in np.unique(giv[here][:, :L].reshape(-1, L * n), axis=0):  # no grid: see combine.private_credit
                qs = np.flatnonzero(here & (giv[:, :L].reshape(-1, L * n) == sig).all(axis=1))
                step = max(1, int(combine.VOTE_CHUNK_CELLS // (self.E * (K + 1) * (L // 2 + 1) * (K + 1))))
                for start in range(0, len(qs), step):
                    chunk = qs[start : start + step]
                    out[:, chunk] = self._vote_private_group(models, points, chunk, int(L), sig.reshape(L, n))
        shared = np.flatnonzero(~free | (n_lab == 0))
        if len(shared):
            L_max = int(n_lab[shared].max())
            combine.check_vote_size(K, L_max)
            size = combine.margin_grid(K, L_max)  # one grid for every point: powers carry over
            for L in np.unique(n_lab[shared]):
                group = shared[n_lab[shared] == L]
                step = max(1, int(combine.VOTE_CHUNK_CELLS // (self.E * size ** int(L))))  # bounded memory
                for start in range(0, len(group), step):
                    qs = group[start : start + step]
                    out[:, qs] = self._vote_fft_group(models, points, qs, int(L), size)
        return out

    def _givers(self, models: list[int]) -> np.ndarray:
        """``(Q, width, n)``: which of ``models`` give each named answer of each question."""
        pos = self.lay.weights[:, models, 1 : 1 + self.lay.width] > 0  # (rows, n, width)
        return pos.reshape((self.Q, self.E) + pos.shape[1:]).any(axis=1).transpose(0, 2, 1)

    @staticmethod
    def _grid_free(giv: np.ndarray) -> np.ndarray:
        """``(Q,)``: the vote needs no grid when every model that shares a named answer gives no other
        (the models split into units: one model with its own answers, or models around one answer)."""
        shared = giv.sum(axis=2) >= 2  # (Q, width)
        in_shared = (giv & shared[..., None]).any(axis=1)  # (Q, n)
        return ~(in_shared & (giv.sum(axis=1) > 1)).any(axis=1)

    def _vote_private_group(self, models: list[int], points: list[list[int]], qs: np.ndarray, L: int,
                            giv: np.ndarray) -> np.ndarray:
        """The vote of questions whose models split into units (``giv[l, a]``: model a gives answer l)."""
        rows = (qs[:, None] * self.E + np.arange(self.E)[None, :]).ravel()
        n = len(qs)
        y, wy = combine.tie_nodes(L)
        count = giv.sum(axis=1)
        groups = [(l, [models[a] for a in np.flatnonzero(giv[l])]) for l in range(L) if count[l] >= 2]
        alone = [(i, [l for l in range(L) if giv[l, a] and count[l] == 1]) for a, i in enumerate(models)
                 if not any(giv[l, a] and count[l] >= 2 for l in range(L))]
        out = np.zeros((len(points), n))
        for p, ks in enumerate(points):
            K = int(sum(ks))
            k_of = dict(zip(models, ks))
            u, _ = combine.vote_nodes(K)
            sub = {i: ModelCounts(self.lay.model(i)[rows], self.lay.mode, k_of[i]) for i in models}
            psis = [self._mix_rows(sub[i].own_labels_gf(k_of[i], own, K, y), n) for i, own in alone]
            psis += [combine.shared_label_gf([self._mix_rows(sub[i].correct_and_label(k_of[i], l), n) for i in grp], K, y)
                     for l, grp in groups]
            singles = [self._mix_rows(sub[i].singleton_gf(k_of[i], L, u), n) for i in models]
            out[p] = combine.private_credit(psis, K, int((count == 0).sum()), y, wy)
            out[p] += combine.single_draw_term(singles, L, K)
        return np.clip(out, 0.0, 1.0)

    def _vote_fft_group(self, models: list[int], points: list[list[int]], qs: np.ndarray, L: int, size: int) -> np.ndarray:
        rows = (qs[:, None] * self.E + np.arange(self.E)[None, :]).ravel()
        n = len(qs)
        out = np.zeros((len(points), n))
        powers: dict[tuple[int, ...], list] = {}  # models with one k: [phi, k, phi^k] for running powers
        for p, ks in enumerate(points):
            K = int(sum(ks))
            u, _ = combine.vote_nodes(K)
            spectra, singles = [], []
            for k in sorted(set(ks)):  # models with the same k share one set of tables
                same = tuple(i for i, kk in zip(models, ks) if kk == k)
                w = np.concatenate([self.lay.model(i)[rows] for i in same])
                sub = ModelCounts(w, self.lay.mode, k)
                parts = lambda a: [self._mix_rows(x, n) for x in np.split(a, len(same))]  # noqa: E731
                singles += parts(sub.singleton_gf(k, L, u))
                if not L:
                    continue
                if self.lay.mode == "pool":
                    spectra += parts(combine.margin_spectrum(sub.label_counts(k, L), k, size))
                elif self.E > 1:  # a mixture: each model's k-th power before averaging
                    spectra += parts(combine.ipow(combine.one_draw_spectrum(w, L, size), k))
                else:
                    # draws with replacement, no mixture: prod_i phi_i^k = (prod_i phi_i)^k, and prod_i phi_i
                    # is the spectrum of one draw from each model, a law on the small box [-m, m]^L
                    if same not in powers:
                        phi = combine.box_spectrum(combine.one_draw_box(w, L, len(same)), size)
                        powers[same] = [phi, 0, None]
                    phi, k0, pk = powers[same]
                    if k0 and k > k0:  # in place: the previous point is done with its spectrum
                        pk = np.multiply(pk, combine.ipow(phi, k - k0), out=None if pk is phi else pk)
                    elif not k0 or k < k0:
                        pk = combine.ipow(phi, k)
                    powers[same][1:] = [k, pk]
                    spectra.append(pk)
            out[p] = combine.margin_credit(spectra, K, L, size, n) + combine.single_draw_term(singles, L, K)
        return np.clip(out, 0.0, 1.0)

    def _mix_rows(self, a: np.ndarray, n: int) -> np.ndarray:
        if self.E == 1:
            return a
        return np.tensordot(self.mix_w, a.reshape((n, self.E) + a.shape[1:]), axes=(0, 1))
