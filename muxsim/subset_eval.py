"""Exact values of many (subset, k) jobs on one fit or population, in chunks of questions.

A *job* is a tuple of model indices (into the pool ``names``) with one k per model; its
value is the exact expectation of one method (``mux``, ``mux_valid``, ``vote``) and,
optionally, of the union and contradiction at robust level r -- the same numbers as
:func:`muxsim.population.evaluate` on the job's own population, so the same as
``Fit.predict(..., level=None)``.

How the work is shared (every path gives the average over all questions, weighted by
each chunk's share of the questions; chunking only changes memory, not the values):

* a population, or a parametric fit (:class:`~muxsim.fit.LatentFit`): one exact engine
  over the whole pool; every job combines the per-model tables built once;
* a fit of logged questions whose population of a model set does not depend on the set
  (``not fit.joint_dependent``, e.g. the latent classes): the pool's population in
  chunks of questions small enough for memory (at most :data:`CHUNK_ROWS` layout rows x
  models per chunk); one engine per chunk serves every job.  The pool's population
  restricted to a job's models is the job's own population (per-model laws given the
  question's row; the class fit's sharing patterns are independent per model, so their
  restriction is the job's pattern law up to relabelling wrong answers);
* a mixture of fits (:class:`~muxsim.fit.mixture.MixtureFit`): each component's values by
  the rules here, weighted;
* a joint-dependent fit (shrinkage with cross-model priors: a model's prior depends on
  which models are predicted with it): each distinct subset's own population, in
  chunks, with one engine serving every k of that subset.  Nothing is shared across
  subsets there -- the fit itself does not allow it.

The latent classes (:class:`~muxsim.fit.ClassFit`) with a shared-wrong-answer share > 0
copy every question once per sharing pattern of the models (2^n - n patterns: about 500
for 9 models).  Only the pooled vote sees which wrong answers coincide: MUX, union and
contradiction combine per-model summaries (top-count law, credit, P(>= r correct),
P(consistently wrong)), which a pattern does not change (it renames one model's attractor
column), so the pool is evaluated with share 0 -- the same values, exactly, on
1/(2^n - n) of the rows -- and the vote sums over a subset's own 2^s - s patterns from the
same engine's per-model tables (:meth:`~muxsim.exact.engine.Engine.vote_sharing`).
"""

from __future__ import annotations

import math
from typing import Callable, Iterator, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.population import collect_notes, exact_layout

__all__ = ["SubsetEvaluator", "CHUNK_ROWS", "MAX_ROWS", "is_fit"]

#: largest layout rows x models of one engine over a whole population (no chunks possible)
MAX_ROWS = 5_000_000
#: target layout rows x models of one chunk of a fit of logged questions
CHUNK_ROWS = 1_000_000
#: target subsets x questions x confidences x models of one vectorised block of MUX values
BATCH_CELLS = 2_000_000


def is_fit(obj) -> bool:
    from muxsim.fit.common import Fit

    return isinstance(obj, Fit)


class SubsetEvaluator:
    """Exact job values of ``source`` (a :class:`~muxsim.fit.Fit` or a population) for the models ``names``.

    ``k_max``: the largest k of any job (engines are prepared for it)."""

    def __init__(self, source, names: Sequence[str] | None, k_max: int, *, chunk_rows: int = CHUNK_ROWS):
        self.source = source
        self.fit = source if is_fit(source) else None
        self.names = list(source.models) if names is None else list(names)
        self.k_max = int(k_max)
        self.chunk_rows = int(chunk_rows)
        self.logged = self.fit is not None and getattr(self.fit, "question_ids", None) is not None
        self.joint = self.logged and bool(self.fit.joint_dependent)
        self._whole: dict = {}  # (models,) -> (engine, weights) of the last model set evaluated in one chunk
        self._notes: list[str] = []  # votes past the engine's work limit (their values are NaN)
        # a mixture of fits (muxsim.fit.mixture): each component's evaluator, weighted
        self.parts = [(float(w), SubsetEvaluator(c, self.names, k_max, chunk_rows=chunk_rows))
                      for w, c in zip(self.fit.weights, self.fit.components)] if hasattr(self.fit, "components") else []

    @property
    def notes(self) -> list[str]:
        """The notes of votes past the engine's work limit, whose values are NaN (of every component)."""
        return self._notes + [n for _, ev in self.parts for n in ev.notes]

    # -- chunks ---------------------------------------------------------------------------------
    def _engines(self, sel: list[str]) -> Iterator[tuple[object, np.ndarray]]:
        """(engine over the models ``sel``, question weights summing to the chunk's share of all questions)."""
        from muxsim.exact.engine import Engine

        fit = self.fit
        n = len(sel)
        key = tuple(sel)
        if key in self._whole:  # all questions in one engine, kept from the last call (singles, then values)
            yield self._whole[key]
            return
        if not self.logged:  # one engine over the whole population
            pop = fit.population(sel) if fit is not None else self.source
            lay, mix, qw, share = exact_layout(pop)
            if lay.n_questions * n > MAX_ROWS:
                raise MuxsimError(
                    f"the {type(pop).__name__} of {n} models has {lay.n_questions:,} layout rows per model: too "
                    f"large for one engine over the whole pool (limit {MAX_ROWS:,} rows x models)")
            self._whole = {key: (Engine(lay, [self.k_max] * n, mix=mix, share=share), np.asarray(qw, dtype=float))}
            yield self._whole[key]
            return
        Q = len(fit.question_ids)
        step = self._chunk_step(sel)
        start = 0
        while start < Q:
            qs = list(range(start, min(Q, start + step)))
            lay, mix, qw, share = exact_layout(fit.population(sel, questions=qs))
            if lay.n_questions * n > 2 * self.chunk_rows and len(qs) > 1:  # heavier questions than the probe
                step = max(1, len(qs) // 2)
                continue
            out = Engine(lay, [self.k_max] * n, mix=mix, share=share), np.asarray(qw, dtype=float) * (len(qs) / Q)
            if len(qs) == Q:
                self._whole = {key: out}
            yield out
            start += len(qs)

    def _chunk_step(self, sel: list[str]) -> int:
        """Questions per chunk: about :attr:`chunk_rows` layout rows x models, sized on the first question."""
        probe = exact_layout(self.fit.population(sel, questions=[0]))[0].n_questions
        return max(1, min(len(self.fit.question_ids), self.chunk_rows // max(1, probe * len(sel))))

    # -- values ---------------------------------------------------------------------------------
    def singles(self) -> np.ndarray:
        """Each model's predicted single-draw accuracy: for a fit, from the model's own one-model population
        (cheap; for fits that are not joint-dependent it equals the pool's); for a population, from its engine."""
        if self.parts:
            return sum(w * ev.singles() for w, ev in self.parts)
        if self.fit is None:
            eng, qw = next(self._engines(self.names))
            return np.array([float(qw @ eng.single(i)) for i in range(len(self.names))])
        return np.array([sum(float(qw @ eng.single(0)) for eng, qw in self._engines([m])) for m in self.names])

    def values(self, jobs: Sequence[tuple[Sequence[int], Sequence[int]]], method: str, *, r: int = 1,
               union: bool = False, progress: Callable[[float], None] | None = None
               ) -> tuple[np.ndarray, np.ndarray | None]:
        """``(len(jobs), 3)`` array of (method, union, contradiction) (the last two 0 unless ``union``);
        where the source is one engine over per-question rows (empirical populations), the
        ``(len(jobs),)`` standard errors of the method over questions (else None).

        ``progress(n)`` is called as jobs finish (with the chunk's share of the jobs where chunks are shared)."""
        out = np.zeros((len(jobs), 3))
        if self.parts:
            for w, ev in self.parts:
                prog = (lambda x, w=w: progress(w * x)) if progress else None
                out += w * ev.values(jobs, method, r=r, union=union, progress=prog)[0]
            return out, None
        if not self.joint:
            n_chunks = (math.ceil(len(self.fit.question_ids) / self._chunk_step(self.names))
                        if self.logged and tuple(self.names) not in self._whole else 1)
            per_q = self._per_question_rows() and n_chunks == 1
            se = np.full(len(jobs), math.nan) if per_q else None
            for eng, qw in self._engines(self.names):
                for js, v, rows in self._batches(eng, qw, jobs, method, r, union):
                    out[js] += rows
                    if se is not None:
                        Q = len(qw)
                        se[js] = np.sqrt(((v - rows[:, :1]) ** 2) @ qw**2 * Q / max(Q - 1, 1)) if Q > 1 else math.nan
                if progress:
                    progress(len(jobs) / n_chunks)
            return out, se
        by_subset: dict[tuple[int, ...], list[int]] = {}
        for j, (idx, _) in enumerate(jobs):
            by_subset.setdefault(tuple(idx), []).append(j)
        for idx, js in by_subset.items():
            local = [(range(len(idx)), jobs[j][1]) for j in js]  # the subset's own engine: its models are 0..n-1
            for eng, qw in self._engines([self.names[i] for i in idx]):
                for bjs, _, rows in self._batches(eng, qw, local, method, r, union):
                    out[np.asarray(js)[bjs]] += rows
            if progress:
                progress(len(js))
        return out, None

    def _batches(self, eng, qw: np.ndarray, jobs: Sequence[tuple[Sequence[int], Sequence[int]]], method: str, r: int,
                 union: bool) -> Iterator[tuple[np.ndarray, np.ndarray, np.ndarray]]:
        """(job indices, the method's per-question values (B, Q), (B, 3) values of the method, union and
        contradiction weighted by ``qw`` (the last two 0 unless ``union``)) of ``jobs`` on one engine: MUX, union
        and contradiction of the jobs with the same k-vector in vectorised blocks of about :data:`BATCH_CELLS`;
        each vote on its own.  Each row is weighted on its own (the same sums in a block of any size: a
        search's values do not depend on how its jobs were split)."""
        groups: dict[tuple[int, ...], list[int]] = {}
        for j, (_, ks) in enumerate(jobs):
            groups.setdefault(tuple(int(k) for k in ks), []).append(j)
        for ks, js in groups.items():
            grid = max(ks) + 1 if method == "mux" else (max(ks) + 1) ** 2  # confidences (at most)
            step = 1 if method == "vote" else max(1, BATCH_CELLS // (eng.Q * grid * len(ks)))
            for b in range(0, len(js), step):
                block = js[b : b + step]
                sub = np.array([jobs[j][0] for j in block], dtype=int)
                if method == "vote":
                    v = self._vote(eng, list(sub[0]), list(ks))[None]
                else:
                    v = eng.mux_many(sub, ks, "per_k" if method == "mux" else "per_valid")
                rows = np.zeros((len(block), 3))
                rows[:, 0] = (v * qw).sum(axis=1)
                if union:
                    rows[:, 1] = (eng.union_many(sub, ks, r) * qw).sum(axis=1)
                    rows[:, 2] = (eng.contradiction_many(sub, ks, r) * qw).sum(axis=1)
                yield np.array(block), v, rows

    def shares_work(self, method: str) -> bool:
        """Whether every subset's value of ``method`` is cheap: per-model work shared across subsets, combined
        once per subset.  Not so for a joint-dependent fit (each subset is its own population), nor for the
        latent classes' vote with shared wrong answers, which combines the shared tables once per sharing
        pattern of the subset (2^s - s of them: about a second for 5 models of 500 questions)."""
        if self.parts:
            return all(ev.shares_work(method) for _, ev in self.parts)
        return not (self.joint or (method == "vote" and self._class_patterns()))

    def _class_patterns(self) -> bool:
        return self.logged and self.fit.family == "classes" and self.fit.share > 0

    def _per_question_rows(self) -> bool:
        from muxsim.population import Empirical

        return self.fit is None and isinstance(self.source, Empirical)

    def _vote(self, eng, idx: list[int], ks: list[int]) -> np.ndarray:
        """Per-question pooled vote of one job; a vote past the engine's work limit is NaN, its note kept in
        :attr:`notes` (as :func:`muxsim.population.evaluate` does)."""
        with collect_notes() as notes:
            v = eng.vote_curve(idx, [ks])[0]
        self._notes += notes
        return v
