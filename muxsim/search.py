"""Model-selection search: the best subset of a pool for O(S) = union(S) - lambda * contradiction(S).

The maths here works on per-model, per-question arrays only (no I/O):

* ``a[i, q]``: model i counts as correct on question q (at least ``r`` correct draws);
* ``w[i, q]``: model i is *consistently wrong* on q (all its draws one and the same wrong answer).

Per model the two events are disjoint (r >= 1), and models are independent given the
question, so for a subset S and one question (:func:`muxsim.exact.combine.contradiction`)

    union_q(S)         = 1 - prod_S (1 - a)
    contradiction_q(S) = 1 - prod_S (1 - a) - prod_S (1 - w) + prod_S (1 - a - w)

i.e. P(some model correct and some model consistently wrong); with 0/1 values these are
``any(a)`` and ``any(a) & any(w)``.  Then union(S) = mean_q union_q and the contradiction is
normalised either over all questions (``norm="questions"``, the paper and SEMANTICS.md) or
by the union (``norm="union"``: sum_q contradiction_q / sum_q union_q, the public reference
code; 0 when the union is 0, as there, since the numerator is then 0 too).

Two ways to get ``a`` and ``w`` from an :class:`~muxsim.logs.evaluate.AnswerTable`:

* :func:`reference_stats` (objective ``reference``): the public SLM-MUX reference code's
  search on all K logged samples: correct = at least ``robust`` correct samples;
  consistently wrong = K > 1 samples, all equal, none correct, where an unparsed (empty)
  answer is just another answer string (all-unparsed counts as consistently wrong).
* :func:`exact_stats` (objective ``exact``): SEMANTICS.md, k of the K logged samples drawn
  without replacement, from the exact engine (``P(>= r correct)`` and
  ``sum_w C(K_w, k) / C(K, k)`` over named wrong answers; abstentions never count).

Search (:func:`search`): every subset of a size is scored in vectorised passes (bit sets
and popcounts for 0/1 values, products over chunks of subsets otherwise); when a size has
too many subsets, a depth-first branch and bound that states whether its result is
proven optimal.  Ranking: objective, then union (higher first), then the earlier subset
in the pool's order (``itertools.combinations`` order), as the reference code does.
"""

from __future__ import annotations

import itertools
import logging
import math
from dataclasses import dataclass, field
from typing import Callable, Iterator, Sequence

import numpy as np

from muxsim.errors import MuxsimError

log = logging.getLogger(__name__)

__all__ = ["PoolStats", "reference_stats", "exact_stats", "score", "score_subsets", "search", "SearchResult",
           "Ranked", "NORMS", "parse_sizes"]

NORMS = ("questions", "union")
CHUNK_CELLS = 4_000_000  # subset x question x member cells per vectorised pass
EXHAUSTIVE_LIMIT = 2_000_000  # above this many subsets of a size, "auto" uses branch and bound


@dataclass(frozen=True)
class PoolStats:
    """Per-model, per-question inputs of the objective: ``a`` (correct) and ``w`` (consistently wrong), (n, Q).

    ``binary`` is True when every value is 0 or 1 (then the search uses bit sets and the
    union and contradiction are exact counts).
    """

    models: tuple[str, ...]
    a: np.ndarray
    w: np.ndarray
    binary: bool
    label: str = ""

    def __post_init__(self) -> None:
        if self.a.shape != self.w.shape or self.a.ndim != 2 or self.a.shape[0] != len(self.models):
            raise MuxsimError(f"PoolStats: a{self.a.shape}, w{self.w.shape} for {len(self.models)} models")
        if self.a.shape[1] == 0:
            raise MuxsimError("PoolStats: no questions")

    @property
    def n_models(self) -> int:
        return len(self.models)

    @property
    def n_questions(self) -> int:
        return int(self.a.shape[1])

    def index(self, models: Sequence[str]) -> list[int]:
        unknown = [m for m in models if m not in self.models]
        if unknown:
            raise MuxsimError(f"unknown model(s) {unknown}; the pool has {list(self.models)}")
        if len(set(models)) != len(models):
            raise MuxsimError(f"models {list(models)}: a model named twice")
        return [self.models.index(m) for m in models]


def check_robust(robust: object) -> int:
    if isinstance(robust, bool) or not isinstance(robust, (int, np.integer)) or robust < 1:
        raise MuxsimError(f"robust={robust!r} must be an integer >= 1")
    return int(robust)


def reference_stats(table, robust: int = 2) -> PoolStats:
    """0/1 stats of the public reference code's search, on all K logged samples of each model.

    ``a = [#correct >= robust]``; ``w = [K > 1, all K answers equal, none correct]``, with the
    "no answer" code treated as one more answer string.
    """
    robust = check_robust(robust)
    if robust > table.K:
        raise MuxsimError(f"robust={robust} is larger than the K={table.K} logged samples: no model could count as correct")
    codes = np.transpose(table.codes, (1, 0, 2))  # (n, Q, K)
    a = (codes == 0).sum(axis=2) >= robust
    w = (codes == codes[:, :, :1]).all(axis=2) & (codes[:, :, 0] != 0) if table.K > 1 else np.zeros_like(a)
    return PoolStats(tuple(table.models), a.astype(float), w.astype(float), True, f"reference (robust={robust}, all K={table.K} samples)")


def exact_stats(table, k: int | Sequence[int], r: int = 1) -> PoolStats:
    """Exact per-model P(>= r correct) and P(consistently wrong) when k of the K logged answers are drawn.

    ``k`` is one int or one per model.  Computed by the exact engine
    (:class:`muxsim.exact.Engine` over the logged pools' layout).
    """
    from muxsim.exact.engine import Engine, check_k
    from muxsim.rules import check_r

    r = check_r(r)
    ks = check_k(k, len(table.models))
    if max(ks) > table.K:
        raise MuxsimError(f"k={max(ks)} is larger than the K={table.K} logged samples per question (k <= K)")
    if r > max(ks):
        raise MuxsimError(f"robust r={r} is larger than every model's k={max(ks)}: no model could count as correct")
    lay = table.empirical().layout()[0]
    eng = Engine(lay, ks)
    n = len(ks)
    a = np.stack([eng.union([i], [ks[i]], r) for i in range(n)])
    # P(all k draws are one named wrong answer); needs the engine's per-model table (no public per-model call yet)
    w = np.stack([eng.consistently_wrong(i, ks[i]) for i in range(n)])
    kdesc = ks[0] if len(set(ks)) == 1 else ks
    return PoolStats(tuple(table.models), a, w, False, f"exact (k={kdesc} of K={table.K}, r={r})")


def _check_lam_norm(lam: float, norm: str) -> float:
    if norm not in NORMS:
        raise MuxsimError(f"norm={norm!r} must be one of {NORMS}")
    try:
        lam = float(lam)
    except (TypeError, ValueError):
        raise MuxsimError(f"lam={lam!r} must be a number >= 0") from None
    if not math.isfinite(lam) or lam < 0:
        raise MuxsimError(f"lam={lam!r} must be a finite number >= 0")
    return lam


def _objective(u_sum: np.ndarray, c_sum: np.ndarray, Q: int, lam: float, norm: str):
    """(objective, union share, contradiction) from per-subset sums over questions."""
    union = u_sum / Q
    if norm == "questions":
        contra = c_sum / Q
    else:
        contra = np.divide(c_sum, u_sum, out=np.zeros_like(c_sum, dtype=float), where=u_sum > 0)
    return union - lam * contra, union, contra


class _Scorer:
    """Scores index arrays of subsets, (m, s) -> (objective, union, contradiction), each (m,)."""

    def __init__(self, stats: PoolStats, lam: float, norm: str):
        self.stats, self.lam, self.norm = stats, _check_lam_norm(lam, norm), norm
        self.Q = stats.n_questions
        if stats.binary:
            self.A = _pack(stats.a > 0.5)
            self.W = _pack(stats.w > 0.5)
        else:
            self.na = 1.0 - stats.a
            self.nw = 1.0 - stats.w
            self.naw = 1.0 - stats.a - stats.w

    def __call__(self, idx: np.ndarray):
        idx = np.asarray(idx, dtype=np.intp)
        m, s = idx.shape
        if self.stats.binary:
            ua = np.bitwise_or.reduce(self.A[idx], axis=1)
            uw = np.bitwise_or.reduce(self.W[idx], axis=1)
            u_sum = np.bitwise_count(ua).sum(axis=1, dtype=np.int64).astype(float)
            c_sum = np.bitwise_count(ua & uw).sum(axis=1, dtype=np.int64).astype(float)
        else:
            u_sum = np.empty(m)
            c_sum = np.empty(m)
            step = max(1, CHUNK_CELLS // max(1, s * self.Q))
            for lo in range(0, m, step):
                sl = idx[lo:lo + step]
                pa = self.na[sl].prod(axis=1)
                pc = 1.0 - pa - self.nw[sl].prod(axis=1) + self.naw[sl].prod(axis=1)
                u_sum[lo:lo + step] = (1.0 - pa).sum(axis=1)
                c_sum[lo:lo + step] = pc.sum(axis=1)
        return _objective(u_sum, c_sum, self.Q, self.lam, self.norm)


    def extend(self, prefixes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Sums over questions of union and contradiction of every prefix plus each one model j: two (m, n) arrays.

        With the prefix products PA = prod(1 - a), PW = prod(1 - w), PAW = prod(1 - a - w):
        sum_q union = Q - PA @ (1 - a_j) and sum_q contradiction = Q - PA @ (1 - a_j) - PW @ (1 - w_j)
        + PAW @ (1 - a_j - w_j) (matrix products over questions; only meaningful for j not in the prefix).
        """
        pa = self.na[prefixes].prod(axis=1)
        pw = self.nw[prefixes].prod(axis=1)
        paw = self.naw[prefixes].prod(axis=1)
        ua = pa @ self.na.T
        return self.Q - ua, self.Q - ua - pw @ self.nw.T + paw @ self.naw.T


def _pack(x: np.ndarray) -> np.ndarray:
    """(n, Q) bool -> (n, ceil(Q / 64)) uint64 bit sets."""
    n, Q = x.shape
    pad = (-Q) % 64
    b = np.packbits(np.concatenate([x, np.zeros((n, pad), bool)], axis=1), axis=1)
    return b.view(np.uint64)


def score_subsets(stats: PoolStats, idx: np.ndarray, lam: float = 1.0, norm: str = "questions"):
    """Vectorised O(S), union and contradiction of each row of ``idx`` (m subsets x s model indices)."""
    return _Scorer(stats, lam, norm)(np.atleast_2d(idx))


def score(stats: PoolStats, models: Sequence[str], lam: float = 1.0, norm: str = "questions") -> dict:
    """O(S), union and contradiction of one named subset."""
    idx = np.array([stats.index(list(models))])
    o, u, c = score_subsets(stats, idx, lam, norm)
    return {"models": list(models), "objective": float(o[0]), "union": float(u[0]), "contradiction": float(c[0])}


@dataclass(frozen=True)
class Ranked:
    """One scored subset (model indices in pool order)."""

    idx: tuple[int, ...]
    objective: float
    union: float
    contradiction: float
    se: float | None = None  #: standard error of the objective where it has one (predicted); NaN: not available
    lower: float | None = None  #: predictive interval of the objective at ``level`` (predicted on a fit)
    upper: float | None = None
    level: float | None = None

    def to_dict(self, models: Sequence[str]) -> dict:
        d = {"models": [models[i] for i in self.idx], "objective": self.objective, "union": self.union,
             "contradiction": self.contradiction}
        if self.se is not None:
            d["se"] = None if math.isnan(self.se) else self.se
        if self.level is not None:
            d.update(lower=self.lower, upper=self.upper, level=self.level)
        return d


@dataclass
class SizeResult:
    size: int
    top: list[Ranked]
    n_subsets: int  # subsets in the space of this size
    scored: int  # subsets actually scored
    strategy: str  # "exhaustive" or "branch-and-bound"
    proven: bool


@dataclass
class SearchResult:
    """Best subsets per size; ``objective`` names what was maximised."""

    objective: str
    models: tuple[str, ...]
    sizes: list[SizeResult]
    settings: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        best = []
        for s in self.sizes:
            d = {"size": s.size, **s.top[0].to_dict(self.models), "optimal": "proven" if s.proven else "not proven",
                 "strategy": s.strategy, "subsets": s.n_subsets, "scored": s.scored}
            best.append(d)
        top = {str(s.size): [r.to_dict(self.models) for r in s.top] for s in self.sizes}
        return {"objective": self.objective, "best": best, "top": top}

    def table(self) -> str:
        lines = [f"objective: {self.objective}" + "".join(f", {k}={v}" for k, v in self.settings.items())]
        for s in self.sizes:
            how = f"{s.strategy}, {s.scored:,} evaluations for {s.n_subsets:,} subsets, optimum {'proven' if s.proven else 'NOT proven'}"
            lines.append(f"size {s.size} ({how}):")
            has_se = any(r.se is not None for r in s.top)
            levels = {r.level for r in s.top if r.level is not None}
            iv_head = f"{f'{100 * min(levels):g}% interval':>17}  " if levels else ""
            lines.append(f"  {'#':>2}  {'objective':>9}  " + (f"{'SE':>7}  " if has_se else "") + iv_head
                         + f"{'union':>7}  {'contra':>7}  models")
            for j, r in enumerate(s.top, 1):
                se = (f"{r.se:7.4f}  " if r.se is not None else f"{'':7}  ") if has_se else ""
                iv = ((f"[{r.lower:.4f}, {r.upper:.4f}]  " if r.level is not None else f"{'':17}  ") if levels else "")
                lines.append(f"  {j:>2}  {r.objective:9.4f}  {se}{iv}{r.union:7.4f}  {r.contradiction:7.4f}  "
                             + ", ".join(self.models[i] for i in r.idx))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def parse_sizes(text: str) -> list[int]:
    """``"2-5"``, ``"2,4"`` or ``"3"`` -> sorted sizes >= 1."""
    from muxsim.calibrate_cli import parse_int_ranges

    return parse_int_ranges(text, "sizes=")


def check_sizes(sizes, models: Sequence[str]) -> list[int]:
    """Subset sizes: integers in 1..len(models), at least one."""
    sizes = list(sizes)
    if not sizes:
        raise MuxsimError("sizes: none given")
    for s in sizes:
        if isinstance(s, bool) or not isinstance(s, (int, np.integer)) or s < 1:
            raise MuxsimError(f"size={s!r} must be an integer >= 1")
        if s > len(models):
            raise MuxsimError(f"size={s} is larger than the pool of {len(models)} models {list(models)}")
    return sizes


def combinations_chunks(n: int, s: int, chunk: int) -> Iterator[np.ndarray]:
    """All s-subsets of range(n) in itertools order, as (m, s) int arrays of at most ``chunk`` rows."""
    if s == 0:
        yield np.zeros((1, 0), dtype=np.intp)
        return
    it = itertools.combinations(range(n), s)
    while True:
        flat = np.fromiter(itertools.chain.from_iterable(itertools.islice(it, chunk)), dtype=np.intp)
        if flat.size == 0:
            return
        yield flat.reshape(-1, s)


TIE_DECIMALS = 12  # real-valued objectives are ranked on values rounded to this many decimals


def _rank_keys(obj: np.ndarray, uni: np.ndarray, binary: bool) -> tuple[np.ndarray, np.ndarray]:
    """Values the ranking compares: exact for 0/1 stats (as the reference code compares floats); rounded to
    ``TIE_DECIMALS`` for real-valued stats, so that sums taken in a different order (a few ulps apart) tie
    and are then ordered by union and subset order whichever strategy computed them."""
    if binary:
        return obj, uni
    return np.round(obj, TIE_DECIMALS), np.round(uni, TIE_DECIMALS)


def _sort_rows(rows: list[tuple]) -> list[tuple]:
    """Rows (objective, union, contradiction, rank, idx, key objective, key union): best first."""
    return sorted(rows, key=lambda r: (-r[5], -r[6], r[3]))


def _merge_top(cur: list[tuple], obj, uni, con, idx: np.ndarray, order0: int, top: int, binary: bool) -> list[tuple]:
    """Keep the ``top`` best rows: objective desc, union desc, subset order asc."""
    m = len(obj)
    ko, ku = _rank_keys(obj, uni, binary)
    keys = np.lexsort((np.arange(m), -ku, -ko))[:top] if m > top else np.arange(m)
    rows = cur + [(float(obj[j]), float(uni[j]), float(con[j]), order0 + int(j), tuple(int(x) for x in idx[j]),
                   float(ko[j]), float(ku[j])) for j in keys]
    return _sort_rows(rows)[:top]


def _offsets(n: int, s: int) -> list[int]:
    """Rank (itertools order) of the first s-subset whose smallest member is i, for i = 0..n-s."""
    out, acc = [], 0
    for i in range(n - s + 1):
        out.append(acc)
        acc += math.comb(n - 1 - i, s - 1)
    return out


def score_block(stats: PoolStats, lam: float, norm: str, s: int, first: int, top: int) -> tuple[list[tuple], int]:
    """The ``top`` best s-subsets whose smallest member is ``first`` (one block of the exhaustive search).

    Returns (rows, number scored); rows are (objective, union, contradiction, rank, idx) with rank
    the subset's position in ``itertools.combinations(range(n), s)`` order.  A pure function of its
    arguments: the in-process and the Dask searches run the same blocks.
    """
    from threadpoolctl import threadpool_limits

    # many small matrix products: one BLAS thread each (threaded BLAS on busy cores is many times slower;
    # parallelism comes from running blocks on Dask workers)
    with threadpool_limits(1, user_api="blas"):
        return _score_block(stats, lam, norm, s, first, top)


def _score_block(stats: PoolStats, lam: float, norm: str, s: int, first: int, top: int) -> tuple[list[tuple], int]:
    scorer = _Scorer(stats, lam, norm)
    n = stats.n_models
    rank0 = _offsets(n, s)[first]
    rows: list[tuple] = []
    done = 0
    if not stats.binary and s >= 2:
        # each prefix's products once, then every completion j > its last member by one matrix product
        chunk = max(64, CHUNK_CELLS // max(1, (s - 1) * scorer.Q))
        for rest in combinations_chunks(n - first - 1, s - 2, chunk):
            pre = np.concatenate([np.full((len(rest), 1), first, dtype=np.intp), rest + first + 1], axis=1)
            u_all, c_all = scorer.extend(pre)
            ok = np.arange(n)[None, :] > pre[:, -1:]
            p_idx, j_idx = np.nonzero(ok)  # prefix-major, j ascending: itertools order
            idx = np.concatenate([pre[p_idx], j_idx[:, None]], axis=1)
            o, u, c = _objective(u_all[ok], c_all[ok], scorer.Q, scorer.lam, scorer.norm)
            rows = _merge_top(rows, o, u, c, idx, rank0 + done, top, stats.binary)
            done += len(idx)
        return rows, done
    width = scorer.A.shape[1] if stats.binary else scorer.Q
    chunk = max(1024, min(200_000, CHUNK_CELLS // max(1, s * width)))
    for rest in combinations_chunks(n - first - 1, s - 1, chunk):
        idx = np.concatenate([np.full((len(rest), 1), first, dtype=np.intp), rest + first + 1], axis=1)
        o, u, c = scorer(idx)
        rows = _merge_top(rows, o, u, c, idx, rank0 + done, top, stats.binary)
        done += len(idx)
    return rows, done


def _merge_rows(parts: Sequence[list[tuple]], top: int) -> list[tuple]:
    return _sort_rows([r for p in parts for r in p])[:top]


def _exhaustive(stats: PoolStats, lam: float, norm: str, s: int, top: int, progress: Callable[[int], None] | None,
                mapper: Callable | None = None) -> SizeResult:
    n = stats.n_models
    firsts = list(range(n - s + 1))
    if mapper is None:
        parts = []
        for i in firsts:
            rows, done = _score_block(stats, lam, norm, s, i, top)
            parts.append((rows, done))
            if progress:
                progress(done)
    else:
        parts = mapper(score_block, stats, [(lam, norm, s, i, top) for i in firsts])
        if progress:
            progress(sum(p[1] for p in parts))
    rows = _merge_rows([p[0] for p in parts], top)
    return SizeResult(s, [Ranked(r[4], r[0], r[1], r[2]) for r in rows], math.comb(n, s), sum(p[1] for p in parts),
                      "exhaustive", True)


def _lex_rank(idx: tuple[int, ...], n: int) -> int:
    """Position of a sorted index tuple in itertools.combinations(range(n), len(idx)) order."""
    s, rank, prev = len(idx), 0, -1
    for j, v in enumerate(idx):
        for x in range(prev + 1, v):
            rank += math.comb(n - 1 - x, s - 1 - j)
        prev = v
    return rank


def _branch_and_bound(scorer: _Scorer, n: int, s: int, top: int, node_limit: int, beam: int) -> SizeResult:
    """Depth-first branch and bound over s-subsets; proven when it finishes within ``node_limit`` nodes.

    Bound at a partial subset P with candidates R (models after P's last in the search order):
    union is submodular, so union(T) <= union(P) + the (s - |P|) largest single-model gains
    sum_q prod_P(1 - a) a_j; the contradiction sum never decreases as models are added.
    Hence O(T) <= U/Q - lam * C(P)/Q (norm "questions") or U/Q - lam * C(P)/U (norm "union"),
    with U that union bound (valid for lam >= 0).  Leaves are scored by the same vectorised
    scorer as the exhaustive search, so the values are identical.  An initial incumbent comes
    from a beam search of width ``beam``.
    """
    st, lam, Q = scorer.stats, scorer.lam, scorer.Q
    a, w = st.a, st.w
    # search order: models by descending solo union (good incumbents early); ties by pool order
    order = np.lexsort((np.arange(n), -a.sum(axis=1)))
    rows: list[tuple] = []  # (obj, union, con, lexrank, idx)
    scored = 0

    def offer(cands: np.ndarray) -> None:
        nonlocal rows, scored
        cands = np.sort(cands, axis=1)
        o, u, c = scorer(cands)
        scored += len(cands)
        ko, ku = _rank_keys(o, u, st.binary)
        new = [(float(o[j]), float(u[j]), float(c[j]), _lex_rank(tuple(int(x) for x in cands[j]), n),
                tuple(int(x) for x in cands[j]), float(ko[j]), float(ku[j])) for j in range(len(cands))]
        rows = _sort_rows(rows + new)
        # drop duplicates (beam and B&B may score the same subset)
        seen, keep = set(), []
        for r in rows:
            if r[4] not in seen:
                seen.add(r[4])
                keep.append(r)
        rows = keep[:top]

    # beam search for an incumbent
    frontier = [()]
    for depth in range(s):
        ext = sorted({tuple(sorted(p + (j,))) for p in frontier for j in range(n) if j not in p})
        arr = np.array(ext, dtype=np.intp)
        o, u, _ = scorer(arr)
        keep = np.lexsort((np.arange(len(arr)), -u, -o))[:beam]
        frontier = [tuple(int(x) for x in arr[j]) for j in keep]
    offer(np.array(frontier, dtype=np.intp))

    eps = 1e-9
    nodes = 0
    complete = True
    na, nw, naw = 1.0 - a, 1.0 - w, 1.0 - a - w

    def threshold() -> float:
        return rows[-1][0] if len(rows) >= top else -math.inf  # pruning keeps a margin eps for rounding

    # iterative DFS over positions in `order`; state: chosen positions, running products
    stack = [((), 0, np.ones(Q), np.ones(Q), np.ones(Q))]
    while stack:
        chosen, start, pa, pw, paw = stack.pop()
        d = len(chosen)
        need = s - d
        cand_pos = np.arange(start, n)
        if len(cand_pos) < need:
            continue
        nodes += 1
        if nodes > node_limit:
            complete = False
            break
        cand = order[cand_pos]
        u_now = Q - pa.sum()
        c_now = (1.0 - pa - pw + paw).sum()
        gains = a[cand] @ pa  # (len(cand),)
        # bound for the children (each child uses a suffix of cand); a global bound with all of cand is valid for all
        g = np.sort(gains)[::-1][:need].sum()
        ub_u = u_now + g
        ub = ub_u / Q - lam * (c_now / Q if scorer.norm == "questions" else (c_now / ub_u if ub_u > 0 else 0.0))
        if ub < threshold() - eps:
            continue
        if need == 1:
            leaves = np.array([tuple(order[list(chosen)]) + (int(j),) for j in cand], dtype=np.intp).reshape(len(cand), s)
            offer(leaves)
            continue
        # children in reverse so that the first candidate is expanded first
        for p in range(len(cand_pos) - need, -1, -1):
            j = cand[p]
            stack.append((chosen + (int(cand_pos[p]),), int(cand_pos[p]) + 1, pa * na[j], pw * nw[j], paw * naw[j]))
    return SizeResult(s, [Ranked(r[4], r[0], r[1], r[2]) for r in rows], math.comb(n, s), scored,
                      "branch-and-bound", complete)


STRATEGIES = ("auto", "exhaustive", "branch-and-bound")


def search(stats: PoolStats, sizes: Sequence[int], *, lam: float = 1.0, norm: str = "questions", top: int = 5,
           strategy: str = "auto", node_limit: int = 200_000, beam: int = 32,
           progress: Callable[[int], None] | None = None, objective: str | None = None,
           mapper: Callable | None = None) -> SearchResult:
    """Best ``top`` subsets of each size by O(S) = union - lam * contradiction.

    ``strategy``: ``exhaustive`` scores every subset; ``branch-and-bound`` prunes with the
    bound of :func:`_branch_and_bound` and reports whether it proved optimality within
    ``node_limit`` nodes; ``auto`` is exhaustive up to ``EXHAUSTIVE_LIMIT`` subsets of a size.
    The exhaustive search runs in blocks (one per smallest member, :func:`score_block`);
    ``mapper(fn, stats, argument_tuples)`` -> ``[fn(stats, *args) ...]`` runs them elsewhere
    (:func:`muxsim.scale.dask_mapper`); the merged result is the same.
    """
    lam = _check_lam_norm(lam, norm)
    if strategy not in STRATEGIES:
        raise MuxsimError(f"strategy={strategy!r} must be one of {STRATEGIES}")
    if isinstance(top, bool) or not isinstance(top, (int, np.integer)) or top < 1:
        raise MuxsimError(f"top={top!r} must be an integer >= 1")
    n = stats.n_models
    sizes = check_sizes(sizes, stats.models)
    from threadpoolctl import threadpool_limits

    scorer = _Scorer(stats, lam, norm)
    out = []
    with threadpool_limits(1, user_api="blas"):  # see score_block
        out = _search_sizes(stats, scorer, sizes, lam, norm, int(top), strategy, node_limit, beam, progress, mapper)
    name = objective or stats.label
    settings = {"lambda": lam, "contradiction": f"per {'question' if norm == 'questions' else 'union-correct question'}"}
    return SearchResult(name, stats.models, out, settings)


def _search_sizes(stats, scorer, sizes, lam, norm, top, strategy, node_limit, beam, progress, mapper) -> list[SizeResult]:
    n = stats.n_models
    out = []
    for s in sizes:
        total = math.comb(n, s)
        use = strategy if strategy != "auto" else ("exhaustive" if total <= EXHAUSTIVE_LIMIT else "branch-and-bound")
        if use == "exhaustive":
            out.append(_exhaustive(stats, lam, norm, s, top, progress, mapper))
        else:
            out.append(_branch_and_bound(scorer, n, s, top, node_limit, beam))
            if progress:
                progress(total)
    return out
