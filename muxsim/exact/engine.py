"""Exact evaluation of every method on a batch of questions (a :class:`~muxsim.layout.Layout`).

Rows of the layout may be grouped into mixtures: ``mix=(E, weights)`` says
that each consecutive run of E rows is one question whose per-model answer law
is the weighted mixture of those E laws (latent difficulty integrated by
quadrature).  Per-model summaries are linear in the law, so they are averaged
over the mixture before models are combined.  The weights are one ``(E,)`` set
for every model and question, or ``(n_models, Q, E)``: each model's own per
question (:func:`muxsim.layout.mixture_weights`), since models are independent
given the question and each is averaged over its own rows.
"""

from __future__ import annotations

import functools
import itertools
import warnings
from typing import Sequence

import numpy as np
from scipy.special import comb

from muxsim.errors import MuxsimError, MuxsimWarning
from muxsim.exact import combine, labelpass
from muxsim.exact.counts import ModelCounts
from muxsim.layout import Layout, column_names, mixture_weights
from muxsim.rules import check_r, check_score


#: The pooled vote's exact paths (see :meth:`Engine.vote_curve`).
VOTE_PATHS = ("private", "sparse", "units", "grid", "labels")
#: Most named answers of one model for the ``private`` path (its single-draw table has 2^(m + 1) patterns).
PRIVATE_MAX_OWN = 8
#: Largest estimated work (floating-point operations, about a minute on one core) of one vote group.
VOTE_MAX_WORK = 3e10


def _over_limit(ks: Sequence[int], what: str, estimate: str, where: str = "") -> str:
    """The note of a vote past :data:`VOTE_MAX_WORK` (not computed)."""
    return (f"vote at k={list(ks) if len(set(ks)) > 1 else ks[0]}: {what} need more work than the limit "
            f"{VOTE_MAX_WORK:.2g}{where} (estimated: {estimate}); not computed (use fewer models or samples, "
            "or muxsim.simulate.vote)")


class VoteTooLarge(MuxsimError):
    """No exact path of the pooled vote fits the work limit (the message names k, L and the estimates)."""


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

    def __init__(self, lay: Layout, k_max: int | Sequence[int], mix: tuple[int, np.ndarray] | None = None,
                 share: float = 0.0):
        self.lay = lay
        self.share = float(share)  # the latent classes' sharing of wrong answers, summed by the vote (vote_sharing)
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
        self.E, w = mixture_weights(mix, lay.n_models, lay.n_questions)
        self.mix_w = np.asarray(mix[1], dtype=float) if mix is not None and np.ndim(mix[1]) == 1 else w
        self.Q = lay.n_questions // self.E
        self.rows = lay.n_questions
        # every model's rows stacked (model-major) in one set of count tables
        stacked = np.concatenate([lay.model(i) for i in range(lay.n_models)])
        self.counts = ModelCounts(stacked, lay.mode, max(kmax))
        self._memo: dict[tuple, object] = {}  # per-model summaries mixed into questions, shared by every subset

    def _memoised(self, key: tuple, make):
        if key not in self._memo:
            self._memo[key] = make()
        return self._memo[key]

    def _mix(self, a: np.ndarray, i: int) -> np.ndarray:
        return self._mix_rows(a, self.Q, i)

    def _of(self, i: int, a: np.ndarray) -> np.ndarray:
        """Model i's rows of a stacked per-row array, mixed into questions."""
        return self._mix(a[self._rows(i)], i)

    def _rows(self, i: int) -> slice:
        return slice(i * self.rows, (i + 1) * self.rows)

    def _k(self, i: int, k: int) -> int:
        if k > self.k_max[i]:
            raise MuxsimError(f"k={k} exceeds k_max={self.k_max[i]} prepared for model {i}")
        return k

    def single(self, i: int) -> np.ndarray:
        c = self.lay.model(i)
        return self._mix(c[:, 0] / c.sum(axis=1), i)

    def sc(self, i: int, k: int) -> np.ndarray:
        _, C = self.counts.top(self._k(i, k))
        return self._mix(C[self._rows(i)].sum(axis=1), i)

    def mux(self, models: Sequence[int], ks: Sequence[int], score: str = "per_k"):
        """Returns (accuracy (Q,), p_selected (Q, n), p_selected_and_correct (Q, n))."""
        check_score(score)
        kset = tuple(sorted(set(int(k) for k in ks)))  # the confidences of these k make the common grid
        return combine.mux_on_grid([self._mux_cells(score, i, int(k), kset) for i, k in zip(models, ks)])

    def _mux_cells(self, score: str, i: int, k: int, kset: tuple[int, ...]) -> tuple[np.ndarray, ...]:
        """Model i's :func:`combine.mux_cells` at k on the common grid of the confidences of ``kset``, memoised."""
        scores = self._memoised(("mux_scores", score, kset), lambda: {k: self._mux_scores(score, k) for k in kset})
        grid = self._memoised(("mux_grid", score, kset), lambda: combine.score_grid(list(scores.values())))
        return self._memoised(("mux_cells", score, i, k, kset),
                              lambda: combine.mux_cells(*self._mux_law(score, i, k), scores[k], grid))

    def mux_many(self, subsets: np.ndarray, ks: Sequence[int], score: str = "per_k") -> np.ndarray:
        """``(B, Q)``: :meth:`mux`'s accuracy for each row of ``subsets`` (B, n) of model indices (in tie-break
        order), the model at position p drawing ``ks[p]`` samples: one vectorised pass over the rows with the
        same memoised per-model tables (equal to :meth:`mux` row by row up to the order of the sums)::

            P(correct) = sum_p sum_s C_p(s) prod_{l<p} F_l^-(s) prod_{l>p} F_l(s)
        """
        check_score(score)
        kset = tuple(sorted(set(int(k) for k in ks)))
        tables = [[t[subsets[:, p]] for t in self._mux_stack(score, int(k), kset)] for p, k in enumerate(ks)]
        wins = combine.win_products([t[2] for t in tables], [t[3] for t in tables])
        # (subset, confidence, question): the sum over confidences adds whole rows, the same in any block
        return sum((t[1] * w).sum(axis=1) for t, w in zip(tables, wins))

    def _mux_stack(self, score: str, k: int, kset: tuple[int, ...]) -> list[np.ndarray]:
        """Every model's :meth:`_mux_cells` (D, C, F, F^-), each stacked as (model, confidence, question)."""
        return self._memoised(("mux_stack", score, k, kset), lambda: [
            np.ascontiguousarray(np.stack(a).transpose(0, 2, 1))
            for a in zip(*(self._mux_cells(score, i, k, kset) for i in range(self.lay.n_models)))])

    def union_many(self, subsets: np.ndarray, ks: Sequence[int], r: int = 1) -> np.ndarray:
        """``(B, Q)``: :meth:`union` for each row of ``subsets`` (B, n)."""
        return combine.union(self._per_position(subsets, ks, "at_least", check_r(r)))

    def contradiction_many(self, subsets: np.ndarray, ks: Sequence[int], r: int = 1) -> np.ndarray:
        """``(B, Q)``: :meth:`contradiction` for each row of ``subsets`` (B, n)."""
        r = check_r(r)
        return combine.contradiction(self._per_position(subsets, ks, "wrong"),
                                     self._per_position(subsets, ks, "at_least", r))

    def _per_position(self, subsets: np.ndarray, ks: Sequence[int], what: str, r: int = 1) -> list[np.ndarray]:
        """``[(B, Q)]`` per position p: P(>= r correct) (``at_least``) or P(consistently wrong) (``wrong``) of
        the model at position p of each row, drawing ``ks[p]``; every model's values stacked once per engine."""
        value = (lambda i, k: self._at_least(i, k, r)) if what == "at_least" else self.consistently_wrong
        return [self._memoised(("stack", what, int(k), r), lambda k=int(k): np.stack(
            [value(i, k) for i in range(self.lay.n_models)]))[subsets[:, p]] for p, k in enumerate(ks)]

    @staticmethod
    def _mux_scores(score: str, k: int) -> np.ndarray:
        """The confidence of each cell of :meth:`_mux_law`: top / k (``per_k``), or top / valid draws."""
        top = np.arange(k + 1)
        if score == "per_k":
            return top / k
        valid = np.arange(k + 1)
        return np.where(valid[None, :] > 0, top[:, None] / np.maximum(valid[None, :], 1), 0.0).ravel()

    def _mux_law(self, score: str, i: int, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Model i's (law, credit) over the cells of its top count (and valid draws), ``(Q, cells)`` each."""
        table = self.counts.top if score == "per_k" else self.counts.top_valid
        P, C = (self._of(i, x) for x in table(self._k(i, k)))
        return P.reshape(self.Q, -1), C.reshape(self.Q, -1)

    def _at_least(self, i: int, k: int, r: int) -> np.ndarray:
        return self._memoised(("at_least", i, k, r), lambda: self._mix(
            self.counts.n_correct(self._k(i, k))[self._rows(i), r:].sum(axis=1), i))

    def union(self, models: Sequence[int], ks: Sequence[int], r: int = 1) -> np.ndarray:
        r = check_r(r)
        return combine.union([self._at_least(i, k, r) for i, k in zip(models, ks)])

    def consistently_wrong(self, i: int, k: int) -> np.ndarray:
        """``(Q,)``: P(model i's k draws are all one and the same named wrong answer); 0 for k = 1."""
        return self._memoised(("wrong", i, k), lambda: self._of(i, self.counts.consistently_wrong(self._k(i, k))))

    def contradiction(self, models: Sequence[int], ks: Sequence[int], r: int = 1) -> np.ndarray:
        r = check_r(r)
        a = [self.consistently_wrong(i, k) for i, k in zip(models, ks)]
        b = [self._at_least(i, k, r) for i, k in zip(models, ks)]
        return combine.contradiction(a, b)

    def vote(self, models: Sequence[int], ks: Sequence[int], *, path: str | None = None) -> np.ndarray:
        """Pooled vote ``(Q,)``; raises :class:`VoteTooLarge` where no exact path fits the work limit.
        See :meth:`vote_curve`."""
        return self.vote_curve(models, [list(ks)], path=path, on_limit="raise")[0]

    def vote_curve(self, models: Sequence[int], points: Sequence[Sequence[int]], *, path: str | None = None,
                   on_limit: str = "nan") -> np.ndarray:
        """``(len(points), Q)``: the pooled vote at each k-vector of ``points`` (one k per model).

        An engine made with ``share`` > 0 sums the sharing patterns (:meth:`vote_sharing`).  Where no named
        wrong answer is given by two of ``models`` (each model's answers are its own, on
        every question), the ``private`` path combines per-model tables built once per engine and shared by
        every subset of its models: the units path below over all questions at once, whose single-draw
        term needs only each pattern's correct bit and size (:func:`combine.single_draw_private`).
        Otherwise each group of questions with the same number L of named wrong answers is
        computed by the cheapest exact path by estimated work (:meth:`vote_plan`):

        * ``sparse`` (logged pools): merge the models' count vectors, question by question;
        * ``units``: no grid, when the models split into units (:meth:`_grid_free`);
        * ``grid``: the margins' transform on (2K+1)^L cells, running powers along the curve;
        * ``labels``: a pass over the labels (:mod:`muxsim.exact.labelpass`), any L.

        ``path`` forces one (tests).  Points where no path fits :data:`VOTE_MAX_WORK`
        are NaN with a :class:`~muxsim.errors.MuxsimWarning` naming k, L and the
        estimates (``on_limit="nan"``; decided before any work), or raise
        :class:`VoteTooLarge` (``"raise"``).
        """
        models = list(models)
        points = [[self._k(i, int(k)) for i, k in zip(models, ks)] for ks in points]
        if path not in (None,) + VOTE_PATHS:
            raise MuxsimError(f"path={path!r} must be one of {VOTE_PATHS}")
        if self.share > 0 and len(models) > 1:
            return np.stack([self.vote_sharing(models, ks, self.share) for ks in points])
        own = self._own_labels(models) if path in (None, "private") else None
        if own is not None and self._private_cost(points, own) <= VOTE_MAX_WORK:
            return self._vote_private_all(models, points, own)
        sub = self._restricted(models)
        if sub is not None:
            return sub.vote_curve(range(len(models)), points, path=path, on_limit=on_limit)
        out = np.full((len(points), self.Q), np.nan)
        plan = self.vote_plan(models, points, path=path)
        notes = [note for _, _, how, note in plan if how is None]
        if notes and on_limit == "raise":
            raise VoteTooLarge(notes[0])
        for note in notes:
            warnings.warn(note, MuxsimWarning, stacklevel=2)
        for p, qs, how, L in plan:
            if how == "sparse":
                out[p, qs] = self._vote_pools(models, points[p], qs)
            elif how == "units":
                out[p, qs] = self._vote_private(models, points[p], qs, L)
            elif how == "labels":
                out[p, qs] = self._vote_label_pass(models, points[p], qs, L)
        grid = {}  # (L, questions) -> points: one set of running powers per question set
        for p, qs, how, L in plan:
            if how == "grid":
                grid.setdefault((L, tuple(qs)), []).append(p)
        for (L, qs), ps in grid.items():
            qs = np.asarray(qs)
            K = max(sum(points[p]) for p in ps)
            size = combine.margin_grid(K, L)
            per_q = len(models) * size**L + self.E * (2 * max(self.k_max) + 1) ** L if self.E > 1 else size**L
            step = max(1, int(combine.VOTE_CHUNK_CELLS // per_q))  # bounded memory
            for start in range(0, len(qs), step):
                chunk = qs[start : start + step]
                out[np.ix_(ps, chunk)] = self._vote_fft_group(models, [points[p] for p in ps], chunk, L, size)
        return out

    def _own_labels(self, models: list[int]) -> list[np.ndarray] | None:
        """Each model's named answers (label columns it gives on some question), where no two of ``models`` give
        the same answer on any question and none has more than :data:`PRIVATE_MAX_OWN`; else None."""
        used = [self._memoised(("used", i), lambda i=i: (self.lay.model(i)[:, 1 : 1 + self.lay.width] > 0)
                               .reshape(self.Q, self.E, -1).any(axis=1)) for i in models]
        if len(models) < 2 or (np.sum(used, axis=0) > 1).any():
            return None
        own = [np.flatnonzero(u.any(axis=0)) for u in used]
        return own if max(len(o) for o in own) <= PRIVATE_MAX_OWN else None

    def vote_sharing(self, models: Sequence[int], ks: Sequence[int], share: float) -> np.ndarray:
        """``(Q,)``: the pooled vote when each model gives one named wrong answer of its own (at most one label
        column) and, on each question and independently per model, moves it with probability ``share`` to the
        question's shared answer: a set S of two or more sharing models (probability ``share^|S| (1 -
        share)^(n - |S|)``) gives one answer together, the others their own (at most one sharing model is the
        private case).  This is the latent classes' sharing law (:class:`muxsim.fit.classes.ClassPosteriorPopulation`).

        Exact: the sum over S of the grid-free vote of its units (the group S around the shared answer, each
        other model alone), from per-model tables built once per engine and shared by every subset and
        pattern.  Raises :class:`~muxsim.errors.MuxsimError` where a model gives two named answers or two
        models give the same one."""
        models = list(models)
        ks = [self._k(i, int(k)) for i, k in zip(models, ks)]
        own = self._own_labels(models) if len(models) > 1 else None
        if own is None or max(len(o) for o in own) > 1:
            raise MuxsimError("vote_sharing: every model must give at most one named answer of its own")
        n, K = len(models), int(sum(ks))
        patterns = 2**n - n if share > 0 else 1
        cost = patterns * self.Q * n * (K + 1) ** 2 * (n // 2 + 1) * 4.0 + self.rows * n * (K + 1) ** 3
        if not cost <= VOTE_MAX_WORK:  # NaN, as vote_curve's on_limit="nan"
            warnings.warn(_over_limit(ks, f"{patterns} sharing patterns of {n} models on {self.Q} questions",
                                      f"{cost:.2g}"), MuxsimWarning, stacklevel=2)
            return np.full(self.Q, np.nan)
        y, wy = combine.tie_nodes(n)
        tabs = [self._memoised(("private", i, k, K, n, 1), lambda i=i, k=k, o=o: self._private_tables(i, k, K, o, y, 1))
                for i, k, o in zip(models, ks, own)]
        pairs = [self._memoised(("correct_and_label", i, k),
                                lambda t=t, i=i, k=k: self._mix(t[2].correct_and_label(k, 0), i))
                 for t, i, k in zip(tabs, models, ks)]
        memo: dict = {}  # the patterns' products, built up one model at a time and shared by the patterns

        def product(R: tuple[int, ...]) -> np.ndarray:  # prod of the private units' Psi over R (sorted)
            if ("psi", R) not in memo:
                memo["psi", R] = (tabs[R[0]][0] if len(R) == 1 else
                                  combine.poly_product([product(R[:-1]), tabs[R[-1]][0]], K))
            return memo["psi", R]

        def joint(S: tuple[int, ...]) -> np.ndarray:  # the group S's (correct, shared answer) law
            if ("joint", S) not in memo:
                memo["joint", S] = pairs[S[0]] if len(S) == 1 else combine.group_joint([joint(S[:-1]), pairs[S[-1]]])
            return memo["joint", S]

        private = (1 - share) ** n + n * share * (1 - share) ** (n - 1)
        out = private * (combine.diagonal_credit(product(tuple(range(n - 1))), tabs[n - 1][0], 0, y, wy)
                         + combine.single_draw_private([t[1] for t in tabs], n, K))
        for size in range(2, n + 1) if share > 0 else ():
            for S in itertools.combinations(range(n), size):
                rest = tuple(a for a in range(n) if a not in S)
                group = combine.label_gf(joint(S), K, y)
                others = product(rest) if rest else np.ones(group.shape[:-1] + (1,))
                singles = [combine.group_singles([tabs[a][1] for a in S])] + [tabs[a][1] for a in rest]
                out += share**size * (1 - share) ** (n - size) * (
                    combine.diagonal_credit(others, group, size - 1, y, wy) + combine.single_draw_private(singles, n, K))
        return combine.probability(out, "the sharing vote")

    def _private_cost(self, points: list[list[int]], own: list[np.ndarray]) -> float:
        """Estimated work of the ``private`` path (rough, as :meth:`_vote_costs`): each model's tables on every
        row, then the products over models per question."""
        L = sum(len(o) for o in own)
        K = max(sum(ks) for ks in points)
        ny, nu = L // 2 + 1, K // 2 + 3
        tables = self.rows * sum(2.0 ** (len(o) + 1) * nu + (K + 1) * ny * (K + 1) ** 2 for o in own)
        return len(points) * (tables + self.Q * len(own) * (K + 1) ** 2 * (ny + nu))

    def _vote_private_all(self, models: list[int], points: list[list[int]], own: list[np.ndarray]) -> np.ndarray:
        """The ``private`` path (:meth:`vote_curve`): every question at once, per-model tables memoised."""
        L = sum(len(o) for o in own)
        y, wy = combine.tie_nodes(L)
        out = np.zeros((len(points), self.Q))
        for p, ks in enumerate(points):
            K = int(sum(ks))
            tabs = [self._memoised(("private", i, k, K, L, 0), lambda i=i, k=k, o=o: self._private_tables(i, k, K, o, y))
                    for i, k, o in zip(models, ks, own)]
            out[p] = combine.private_credit([t[0] for t in tabs], K, 0, y, wy)
            out[p] += combine.single_draw_private([t[1] for t in tabs], L, K)
        return combine.probability(out, "the private-answer vote")

    def _private_tables(self, i: int, k: int, K: int, own: np.ndarray, y: np.ndarray, at_least: int = 0
                        ) -> tuple[np.ndarray, np.ndarray, ModelCounts]:
        """Model i's own-answer generating function and reduced single-draw patterns over its named answers
        ``own`` (padded with answers it never gives up to ``at_least``), mixed into questions, and its count
        tables over those columns."""
        w = self.lay.model(i)
        W = self.lay.width
        pad = np.zeros((len(w), max(0, at_least - len(own))))
        mc = ModelCounts(np.column_stack([w[:, 0], w[:, 1 + own], pad, w[:, W + 1], w[:, W + 2]]), self.lay.mode, k)
        m = mc.L
        psi = self._mix(mc.own_labels_gf(k, range(m), K, y), i)
        return psi, self._mix(combine.reduce_singles(mc.singleton_gf(k, m, combine.vote_nodes(K)[0]), m, K), i), mc

    def _restricted(self, models: list[int]) -> "Engine | None":
        """An engine over ``models`` alone whose label columns are the answers these models give, numbered
        per question (used first), or None when that is this engine already.

        Named wrong answers are exchangeable in the vote, so renumbering them per question leaves every
        value unchanged; dropping the pool's other answers keeps L (whose grid, label passes and
        single-draw patterns grow exponentially in it) at what the subset needs."""
        L = self.lay.width
        W = self.lay.weights[:, models]
        used = (W[:, :, 1 : 1 + L] > 0).any(axis=1).reshape(self.Q, self.E, L).any(axis=1)  # (Q, L)
        n_used = used.sum(axis=1)
        width = int(n_used.max()) if L else 0
        first = (np.arange(L)[None, :] < n_used[:, None]) == used  # already numbered used-first
        if len(models) == self.lay.n_models and models == list(range(len(models))) and width == L and first.all():
            return None
        order = np.repeat(np.argsort(~used, axis=1, kind="stable")[:, :width], self.E, axis=0)  # (rows, width)
        labels = np.take_along_axis(W[:, :, 1 : 1 + L], order[:, None, :], axis=2)
        per_row = np.repeat(n_used, self.E)
        lay = Layout(self.lay.mode, np.concatenate([W[:, :, :1], labels, W[:, :, -2:]], axis=2), per_row,
                     column_names(per_row))
        w = self.mix_w if self.mix_w.ndim == 1 else self.mix_w[models]
        return Engine(lay, [self.k_max[i] for i in models], mix=None if self.E == 1 else (self.E, w))

    def vote_plan(self, models: list[int], points: list[list[int]], path: str | None = None) -> list:
        """Choose a path per (point, group of questions with L named answers) by estimated work.

        Returns ``(point, questions, path, L)`` rows, and ``(point, questions, None, reason)``
        where no path is within :data:`VOTE_MAX_WORK` (or the forced path does not apply).
        """
        n_lab = self._n_labels(models)
        free = self._grid_free(self._givers(models))
        plan = []
        for p, ks in enumerate(points):
            for L in np.unique(n_lab):
                L = int(L)
                for is_free in (True, False):
                    qs = np.flatnonzero((n_lab == L) & (free == is_free))
                    if not len(qs):
                        continue
                    costs = self._vote_costs(models, ks, qs, L, is_free)
                    if path is not None:
                        costs = {path: costs.get(path, np.inf)}
                    how = min(costs, key=costs.get) if costs else None
                    if how is None or not costs[how] <= VOTE_MAX_WORK:
                        why = ", ".join(f"{h} {c:.2g}" for h, c in sorted(costs.items(), key=lambda hc: hc[1]))
                        plan.append((p, qs, None, _over_limit(
                            ks, f"{len(qs)} question(s) with L = {L} named wrong answers shared by {len(models)} models",
                            f"{why or 'none applies'}", " on every exact path")))
                    else:
                        plan.append((p, qs, how, L))
        return plan

    def _vote_costs(self, models: list[int], ks: list[int], qs: np.ndarray, L: int, free: bool) -> dict[str, float]:
        """Estimated floating-point work of each applicable path (rough: only compared with each other
        and with VOTE_MAX_WORK)."""
        n, K, rows = len(models), sum(ks), len(qs) * self.E
        single = 3.0 ** (L + 1) * (2000 + rows * (K // 2 + 3)) if L else 0.0  # combine.single_draw_term
        costs = {}
        cells = float(combine.margin_grid(K, L)) ** L
        if cells <= combine.VOTE_MAX_CELLS:  # pools and mixtures transform each model's law on the grid
            if self.E > 1 and self.lay.mode != "pool":  # each row's k-draw law on its small box, then per question
                box = sum((2.0 * k + 1) ** L * (L + 6) for k in ks)
                costs["grid"] = rows * box + len(qs) * cells * (sum(2 * k + 9 for k in ks) + n) + single
            else:
                costs["grid"] = rows * cells * (30 * n if self.lay.mode == "pool" else n + 8) + single
        if free:
            costs["units"] = rows * n * (K + 1.0) ** 3 * (L // 2 + 1) + single
        if self.E == 1:
            W = self._label_weights(models, qs, L)
            costs["labels"] = labelpass.cost(W, ks)
        if self.lay.mode == "pool":
            W = self.lay.weights[qs][:, models, :-1]  # count vectors over these columns (abstain takes the rest)
            k = np.asarray(ks)
            used = (W > 0).sum(axis=2)
            vectors = np.minimum(np.prod(np.minimum(W, k[None, :, None]) + 1, axis=2), comb(k[None, :] + used, used))
            # distinct totals after i models: at most the compositions of their draws, and at most the
            # product over columns of (largest column total + 1)
            cap = np.cumsum(np.minimum(W, k[None, :, None]), axis=1)  # (Q, n, columns)
            totals, work = np.ones(len(qs)), np.full(len(qs), 2e4)
            for i in range(len(ks)):
                work += totals * vectors[:, i] * (L + 2)
                totals = np.minimum.reduce([totals * vectors[:, i], np.prod(cap[:, i] + 1, axis=1),
                                            np.full(len(qs), comb(sum(ks[: i + 1]) + L + 2, L + 2))])
            costs["sparse"] = float(work.sum())
        return costs

    def _n_labels(self, models: list[int]) -> np.ndarray:
        """``(Q,)``: named answers used by ``models`` (label columns are numbered per question, used ones
        first when built by layout(); the highest used column + 1 makes any layout work)."""
        used = self.lay.weights[:, models, 1 : 1 + self.lay.width].max(axis=1) > 0  # (rows, L)
        if used.shape[1] == 0:
            n_lab = np.zeros(used.shape[0], dtype=int)
        else:
            n_lab = np.where(used.any(axis=1), used.shape[1] - np.argmax(used[:, ::-1], axis=1), 0)
        return n_lab.reshape(self.Q, self.E).max(axis=1)

    def _label_weights(self, models: list[int], qs: np.ndarray, L: int) -> np.ndarray:
        """``(len(qs), n, L + 3)``: the models' weights on these questions, label columns cut to L."""
        w = self.lay.weights[qs][:, models]
        return np.concatenate([w[:, :, : 1 + L], w[:, :, -2:]], axis=2)

    def _vote_label_pass(self, models: list[int], ks: list[int], qs: np.ndarray, L: int) -> np.ndarray:
        W = self._label_weights(models, qs, L)
        states = ((L + sum(ks)) // 2 + 1) * float(np.prod([k + 1 for k in ks])) * (sum(ks) + 1)
        step = max(1, int(combine.VOTE_CHUNK_CELLS // states))  # bounded memory
        out = np.concatenate([labelpass.vote(W[s : s + step], ks, self.lay.mode) for s in range(0, len(qs), step)])
        return combine.probability(out, "the label-pass vote")

    def _vote_pools(self, models: list[int], ks: Sequence[int], qs: np.ndarray) -> np.ndarray:
        """Logged pools, question by question: merge the models' count vectors (:func:`combine.vote_sparse`)."""
        K = int(sum(ks))
        out = np.array([combine.vote_sparse([combine.pool_count_vectors(self.lay.weights[q, i], k)
                                             for i, k in zip(models, ks)], K) for q in qs])
        return combine.probability(out, "the count-vector vote")

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

    def _vote_private(self, models: list[int], ks: list[int], qs: np.ndarray, L: int) -> np.ndarray:
        """Grid-free vote of questions whose models split into units, grouped by who gives which answer."""
        giv = self._givers(models)[qs, :L].reshape(len(qs), -1)
        out = np.zeros(len(qs))
        K = sum(ks)
        for sig in np.unique(giv, axis=0):
            sel = np.flatnonzero((giv == sig).all(axis=1))
            step = max(1, int(combine.VOTE_CHUNK_CELLS // (self.E * (K + 1) * (L // 2 + 1) * (K + 1))))
            for start in range(0, len(sel), step):
                chunk = sel[start : start + step]
                out[chunk] = self._vote_private_group(models, [ks], qs[chunk], L, sig.reshape(L, len(models)))[0]
        return out

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
            psis = [self._mix_rows(sub[i].own_labels_gf(k_of[i], own, K, y), n, i, qs) for i, own in alone]
            psis += [combine.shared_label_gf([self._mix_rows(sub[i].correct_and_label(k_of[i], l), n, i, qs)
                                              for i in grp], K, y) for l, grp in groups]
            singles = [self._mix_rows(sub[i].singleton_gf(k_of[i], L, u), n, i, qs) for i in models]
            out[p] = combine.private_credit(psis, K, int((count == 0).sum()), y, wy)
            out[p] += combine.single_draw_term(singles, L, K)
        return combine.probability(out, "the grid-free vote")

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
                parts = lambda a: [self._mix_rows(x, n, i, qs) for x, i in zip(np.split(a, len(same)), same)]  # noqa: E731
                singles += parts(sub.singleton_gf(k, L, u))
                if not L:
                    continue
                if self.lay.mode == "pool":
                    spectra += parts(combine.margin_spectrum(sub.label_counts(k, L), k, size))
                elif self.E > 1:  # a mixture: each row's k-draw law on the small box, averaged, then transformed
                    spectra += [combine.box_spectrum(b, size) for b in parts(combine.draws_box(w, L, k))]
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
        return combine.probability(out, "the grid vote")

    def _mix_rows(self, a: np.ndarray, n: int, i: int, qs: np.ndarray | None = None) -> np.ndarray:
        """Model i's per-row array ``a`` (n questions x E rows, first axis) mixed into its n questions (``qs``:
        which questions, where only some are; all by default)."""
        if self.E == 1:
            return a
        w = self.mix_w if self.mix_w.ndim == 1 else (self.mix_w[i] if qs is None else self.mix_w[i][qs])[:, None, :]
        return (w @ a.reshape(n, self.E, -1)).reshape((n,) + a.shape[1:])  # a batched product: no copies
