"""The paper's experiments re-run on data muxsim bundles: result objects for the figures and tables.

Three kinds of source, always named in what is drawn from them:

* **bundled logs** — jhu-llm-temperature ``comprehensive-100`` (9 models x 100
  multiple-choice questions x 10 samples, T = 0.7; ten exam sources of ten
  questions each).  Questions are split per exam source into a validation half
  (model search, tie-break order, choice of k) and a test half (every reported
  number).  Values are exact expectations of drawing k of the 10 logged answers
  without replacement; SEs are over test questions.
* **testbed run** — ``real_runs/testbed/example/results.json`` (4 tiny models
  trained here, 200 questions, exact held-out curves k = 1..7 for every subset).
* **fitted population** — a :class:`~muxsim.LatentDifficulty` population whose
  per-model mean accuracy is the paper's reported single-model accuracy
  (:data:`PAPER_ACCURACY`); the spread, wrong-answer attractor and correlation
  are assumed (:data:`FITTED_SHAPE`).  It is *not* the paper's data.

Model groups are chosen by the paper's search objective
O(S) = union(S) - lambda * contradiction(S) with :func:`best_subsets`, a
minimal exhaustive search over :meth:`Engine.union` / :meth:`Engine.contradiction`.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np

from muxsim import paper
from muxsim.errors import MuxsimError
from muxsim.exact.engine import Engine
from muxsim.logs.evaluate import AnswerTable, answer_table, validation_order
from muxsim.logs.importers import read_jhu_dir
from muxsim.population import Curves, LatentDifficulty, ModelParams, per_question

ROOT = Path(__file__).resolve().parents[1]
JHU_DIR = ROOT / "real_runs" / "logs" / "jhu-llm-temperature"
TESTBED_RESULTS = ROOT / "real_runs" / "testbed" / "example" / "results.json"

#: Per-model accuracies (%) reported by the paper, with where each comes from.  Appendix table:
#: temperature 0; Qwen2.5-7B (MATH) and Mistral-Small-24B (GPQA) from the best single of Table 2's
#: groups (the only member that can reach it); GSM8K's 88.5 is Table 2's group 1 best single, which
#: of its two members reached it is not stated, so it is not used.
PAPER_ACCURACY: dict[str, dict[str, tuple[float, str]]] = {
    "MATH": {"Llama-3.1-8B": (48.6, "appendix table"), "Mixtral-8x7B": (31.6, "appendix table"),
             "Gemma-2-27B": (56.8, "appendix table"), "Qwen2.5-7B": (75.5, "Table 2, MATH best single")},
    "GPQA": {"Llama-3.1-8B": (23.7, "appendix table"), "Mixtral-8x7B": (31.9, "appendix table"),
             "Gemma-2-27B": (38.8, "appendix table"), "Mistral-Small-24B": (45.1, "Table 2, GPQA best single")},
    "GSM8K": {"Llama-3.1-8B": (84.2, "appendix table"), "Mixtral-8x7B": (63.4, "appendix table"),
              "Gemma-2-27B": (81.6, "appendix table")},
}
#: Assumed shape of every fitted population (not reported by the paper).
FITTED_SHAPE = dict(concentration=2.0, attractor=0.5, loading=0.5)

SOURCE_JHU = "jhu-llm-temperature comprehensive-100 logs (bundled), T = 0.7"
SOURCE_TESTBED = "real_runs/testbed/example (bundled testbed run: 4 tiny models, 200 questions)"


def source_fitted(bench: str) -> str:
    """Source line of a fitted population (the panel title names the benchmark)."""
    return ("fitted populations: Beta means = the paper's reported single-model accuracies on the named benchmark, "
            "spread/attractor/correlation assumed (not the paper's data)")


# ---------------------------------------------------------------------------
# a study: an engine over questions, with question weights
# ---------------------------------------------------------------------------


@dataclass
class Study:
    """Exact per-question values of any method for any subset of the models of one source.

    ``models`` are in tie-break order; ``weights`` (summing to 1) weight the
    questions; ``empirical`` says whether the questions are a sample (SEs over
    questions) or quadrature nodes of a population (exact, SE 0).
    """

    source: str
    models: tuple[str, ...]
    engine: Engine
    weights: np.ndarray
    empirical: bool
    k_max: int
    subjects: np.ndarray | None = None  # per question, when the source has them

    def index(self, models: Iterable[str]) -> list[int]:
        names = list(models)
        bad = [m for m in names if m not in self.models]
        if bad:
            raise MuxsimError(f"unknown model(s) {bad}; the study has {list(self.models)}")
        return sorted(self.models.index(m) for m in names)  # tie-break order

    def per_question(self, method: str, models: Iterable[str], k: int, r: int = 1) -> np.ndarray:
        if k > self.k_max:
            raise MuxsimError(f"k={k} exceeds k_max={self.k_max} of {self.source}")
        idx = self.index(models)
        return per_question(self.engine, method, idx, self.models, int(k), r)

    def mean_se(self, values: np.ndarray) -> tuple[float, float]:
        """Weighted mean and its SE over questions (0 for a population)."""
        m = float(self.weights @ values)
        if not self.empirical:
            return m, 0.0
        n = len(values)
        return m, float(np.std(values, ddof=1) / np.sqrt(n)) if n > 1 else float("nan")

    def value(self, method: str, models: Iterable[str], k: int, r: int = 1) -> tuple[float, float]:
        return self.mean_se(self.per_question(method, models, k, r))

    def diff(self, a: tuple[str, Sequence[str], int], b: tuple[str, Sequence[str], int]) -> tuple[float, float]:
        """Paired difference (method, models, k) a - b, SE of the paired per-question differences."""
        return self.mean_se(self.per_question(*a) - self.per_question(*b))


def _study_from_table(table: AnswerTable, source: str, subjects: np.ndarray | None) -> Study:
    lay = table.empirical().layout()[0]
    eng = Engine(lay, [table.K] * len(table.models))
    Q = table.n_questions
    return Study(source, table.models, eng, np.full(Q, 1.0 / Q), True, table.K, subjects)


def jhu_table(temperature: float = 0.7, models: Sequence[str] | None = None) -> AnswerTable:
    """The bundled jhu-llm-temperature logs at one temperature, aligned (models sorted by name)."""
    return answer_table(read_jhu_dir(JHU_DIR, temperature, models))


def jhu_subjects(question_ids: Sequence[str], temperature: float = 0.7) -> np.ndarray:
    """Each question's exam source (the CSV's ``Source`` column, e.g. ``agi-eval/lsat-ar``)."""
    path = next(p for p in sorted(JHU_DIR.glob(f"*__temp-{temperature}.csv.gz")))
    with gzip.open(path, "rt", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(io.StringIO(fh.read(), newline="")))
    by = {f"{(r.get('Exam Name') or 'exam').strip()}/{r['Problem ID'].strip()}": r["Source"].strip() for r in rows}
    missing = [q for q in question_ids if q not in by]
    if missing:
        raise MuxsimError(f"{path.name}: no Source for question(s) {missing[:3]}")
    return np.array([by[q] for q in question_ids])


def split_by_subject(subjects: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Validation / test question indices: the first half of each subject's questions (file order) / the rest."""
    val, test = [], []
    for s in sorted(set(subjects.tolist())):
        qs = np.flatnonzero(subjects == s)
        h = len(qs) // 2
        val.extend(qs[:h].tolist())
        test.extend(qs[h:].tolist())
    return np.array(sorted(val)), np.array(sorted(test))


@dataclass
class LogStudies:
    """The bundled logs split into a validation and a test study (same tie-break order)."""

    val: Study
    test: Study
    table: AnswerTable


def jhu_studies(temperature: float = 0.7, models: Sequence[str] | None = None) -> LogStudies:
    """Validation/test studies of the bundled logs; tie-break order by validation per-sample accuracy."""
    table = jhu_table(temperature, models)
    subjects = jhu_subjects(table.question_ids, temperature)
    val, test = split_by_subject(subjects)
    order, _ = validation_order(table, val)
    src = f"{SOURCE_JHU} ({len(test)} test questions; groups, order and k chosen on {len(val)} validation questions)"
    tv = table.select(order, questions=val)
    tt = table.select(order, questions=test)
    return LogStudies(_study_from_table(tv, src, subjects[val]), _study_from_table(tt, src, subjects[test]), table)


def fitted_population(bench: str) -> LatentDifficulty:
    """LatentDifficulty population with the paper's per-model accuracies on ``bench`` as Beta means.

    Beta(a, b) with a + b = FITTED_SHAPE['concentration'], attractor and loading
    from FITTED_SHAPE, no abstention; models in descending accuracy (tie-break order).
    """
    if bench not in PAPER_ACCURACY:
        raise MuxsimError(f"bench={bench!r}; choose from {sorted(PAPER_ACCURACY)}")
    conc = FITTED_SHAPE["concentration"]
    items = sorted(PAPER_ACCURACY[bench].items(), key=lambda kv: -kv[1][0])
    params = tuple(ModelParams(name, a=acc / 100 * conc, b=(1 - acc / 100) * conc, attractor=FITTED_SHAPE["attractor"],
                               loading=FITTED_SHAPE["loading"]) for name, (acc, _) in items)
    return LatentDifficulty(params, shared_wrong=True, nodes=16)


def fitted_study(bench: str, k_max: int = 10) -> Study:
    pop = fitted_population(bench)
    lay, mix, qw = pop.layout()
    eng = Engine(lay, [k_max] * len(pop.models), mix=mix)
    return Study(source_fitted(bench), pop.models, eng, qw, False, k_max)


# ---------------------------------------------------------------------------
# model-group search (minimal; the paper's objective)
# ---------------------------------------------------------------------------


@dataclass(frozen=True)
class SubsetScore:
    """One subset's search scores at k samples per model (robust level r).

    ``contradiction`` is normalised over all questions (paper);
    ``contradiction_ref`` over union-correct questions (reference code).
    """

    models: tuple[str, ...]
    union: float
    union_se: float
    contradiction: float
    contradiction_se: float
    contradiction_ref: float
    lam: float

    @property
    def objective(self) -> float:
        return self.union - self.lam * self.contradiction

    @property
    def objective_ref(self) -> float:
        return self.union - self.lam * self.contradiction_ref


def score_subset(study: Study, models: Sequence[str], k: int, lam: float = 1.0, r: int = 1) -> SubsetScore:
    u = study.per_question("union", models, k, r)
    c = study.per_question("contradiction", models, k, r)
    um, us = study.mean_se(u)
    cm, cs = study.mean_se(c)
    ref = cm / um if um > 0 else float("nan")
    return SubsetScore(tuple(models), um, us, cm, cs, ref, lam)


def best_subsets(study: Study, size: int, k: int, lam: float = 1.0, r: int = 1, top: int = 2,
                 normalise: str = "paper") -> list[SubsetScore]:
    """Exhaustive search over subsets of ``size`` models: the ``top`` highest O(S) (ties: first subset in order).

    ``normalise="paper"`` ranks by union - lam * contradiction / |D|;
    ``"reference"`` by union - lam * contradiction / #union-correct.
    """
    if normalise not in ("paper", "reference"):
        raise MuxsimError(f"normalise={normalise!r} must be 'paper' or 'reference'")
    if not 1 <= size <= len(study.models):
        raise MuxsimError(f"size={size} must be between 1 and the {len(study.models)} models")
    scores = [score_subset(study, S, k, lam, r) for S in itertools.combinations(study.models, size)]
    key = (lambda s: s.objective) if normalise == "paper" else (lambda s: s.objective_ref)
    return sorted(scores, key=lambda s: -key(s))[:top]


# ---------------------------------------------------------------------------
# result objects for the figures
# ---------------------------------------------------------------------------


@dataclass
class KCurves:
    """Accuracy against samples per model for one group: SLM-MUX (both scores), pooled vote, best member's SC."""

    title: str
    source: str
    group: tuple[str, ...]
    best_single: str
    curves: Curves  # methods: mux, mux_valid, vote, best_sc, paper_mux, paper_vote


def k_curves(study: Study, group: Sequence[str], ks: Sequence[int], title: str, best_single: str | None = None) -> KCurves:
    """Exact curves of one group for each k; ``best_single`` defaults to the group's first in tie-break order."""
    group = [study.models[i] for i in study.index(group)]
    best = best_single or group[0]
    values: dict[str, list[float]] = {m: [] for m in ("mux", "mux_valid", "vote", "best_sc")}
    se: dict[str, list[float]] = {m: [] for m in values}
    for k in ks:
        for m, meth, models in (("mux", "mux", group), ("mux_valid", "mux_valid", group), ("vote", "vote", group),
                                ("best_sc", f"sc[{best}]", [best])):
            v, s = study.value(meth, models, k)
            values[m].append(v)
            se[m].append(s)
    singles = [study.value(f"single[{g}]", [g], 1)[0] for g in group]
    vals = {m: np.array(v) for m, v in values.items()}
    ses = {m: np.array(v) for m, v in se.items()}
    vals["paper_mux"] = np.array([paper.mux_approx(singles, int(k)) for k in ks])
    vals["paper_vote"] = np.array([paper.agent_forest_approx(singles, int(k)) for k in ks])
    ses["paper_mux"] = ses["paper_vote"] = np.zeros(len(ks))
    kind = "exact (logged pools)" if study.empirical else "exact (quadrature)"
    return KCurves(title, study.source, tuple(group), best, Curves(np.asarray(ks), vals, ses, kind, tuple(group)))


@dataclass
class SearchCurve:
    """Best subset of each size K by O(S) (search study), its scores and its SLM-MUX accuracy (eval study)."""

    title: str
    source: str
    k_search: int
    k_eval: int
    lam: float
    sizes: list[int]
    best: list[SubsetScore]
    mux: list[float]
    mux_se: list[float]
    union_eval: list[float]
    union_eval_se: list[float]
    best_ref: list[SubsetScore] = field(default_factory=list)


def search_curve(search: Study, evaluate: Study, sizes: Sequence[int], k_search: int, k_eval: int, title: str,
                 lam: float = 1.0) -> SearchCurve:
    best, best_ref, mux, mux_se, ue, ues = [], [], [], [], [], []
    for K in sizes:
        b = best_subsets(search, K, k_search, lam, top=1)[0]
        best.append(b)
        best_ref.append(best_subsets(search, K, k_search, lam, top=1, normalise="reference")[0])
        v, s = evaluate.value("mux", b.models, k_eval)
        mux.append(v)
        mux_se.append(s)
        v, s = evaluate.value("union", b.models, k_eval)
        ue.append(v)
        ues.append(s)
    return SearchCurve(title, search.source, k_search, k_eval, lam, list(sizes), best, mux, mux_se, ue, ues, best_ref)


@dataclass
class AttributionResult:
    """Share of SLM-MUX outputs that come from each model, and share that come from it and are correct."""

    title: str
    source: str
    k: int
    models: tuple[str, ...]
    selected: np.ndarray
    selected_se: np.ndarray
    correct: np.ndarray
    correct_se: np.ndarray


def attribution(study: Study, group: Sequence[str], k: int, title: str) -> AttributionResult:
    idx = study.index(group)
    _, sel, cor = study.engine.mux(idx, [k] * len(idx), "per_k")
    ms = [study.mean_se(sel[:, j]) for j in range(len(idx))]
    cs = [study.mean_se(cor[:, j]) for j in range(len(idx))]
    return AttributionResult(title, study.source, k, tuple(study.models[i] for i in idx),
                             np.array([m for m, _ in ms]), np.array([s for _, s in ms]),
                             np.array([m for m, _ in cs]), np.array([s for _, s in cs]))


@dataclass
class SubjectComparison:
    """Per exam source: each member's single-draw accuracy and the pair's SLM-MUX, with SEs over its questions."""

    title: str
    source: str
    k: int
    pair: tuple[str, str]
    subjects: list[str]
    values: dict[str, np.ndarray]  # series name -> per subject
    se: dict[str, np.ndarray]
    note: str


def subject_comparison(study: Study, pair: Sequence[str], k: int, title: str, note: str) -> SubjectComparison:
    if study.subjects is None:
        raise MuxsimError(f"{study.source}: no subject field")
    pair = tuple(study.models[i] for i in study.index(pair))
    subs = sorted(set(study.subjects.tolist()))
    series = {f"single[{m}]": study.per_question(f"single[{m}]", [m], 1) for m in pair}
    series["mux"] = study.per_question("mux", pair, k)
    vals, ses = {}, {}
    for name, v in series.items():
        vals[name] = np.array([v[study.subjects == s].mean() for s in subs])
        ses[name] = np.array([v[study.subjects == s].std(ddof=1) / np.sqrt((study.subjects == s).sum()) for s in subs])
    return SubjectComparison(title, study.source, k, pair, subs, vals, ses, note)


def complementary_and_dominated(study: Study, k: int) -> tuple[tuple[str, str], tuple[str, str]]:
    """Two pairs: the most complementary (largest union - best member's SC at k) and the most dominated
    (smallest such gain) among pairs whose members' single accuracies differ by < 15 points (complementary)
    or any pair (dominated)."""
    pairs = list(itertools.combinations(study.models, 2))
    gain = {}
    acc = {m: study.value(f"single[{m}]", [m], 1)[0] for m in study.models}
    for a, b in pairs:
        u = study.value("union", [a, b], k)[0]
        gain[(a, b)] = u - max(study.value(f"sc[{m}]", [m], k)[0] for m in (a, b))
    close = [p for p in pairs if abs(acc[p[0]] - acc[p[1]]) < 0.15] or pairs
    comp = max(close, key=lambda p: gain[p])
    dom = min(pairs, key=lambda p: gain[p])
    return comp, dom


# ---------------------------------------------------------------------------
# the testbed example (curves stored in results.json; no raw samples)
# ---------------------------------------------------------------------------


@dataclass
class TestbedResults:
    """Observed exact held-out curves of the bundled testbed run: ``curve(models, method)`` for k = 1..7."""

    data: dict

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.data["models_tiebreak_order"])

    @property
    def ks(self) -> np.ndarray:
        return np.asarray(self.data["ks"])

    def key(self, models: Sequence[str], method: str) -> str:
        order = [m for m in self.models if m in models]
        return "+".join(order) + "|" + method

    def curve(self, models: Sequence[str], method: str) -> tuple[np.ndarray, np.ndarray]:
        key = self.key(models, method)
        if key not in self.data["observed"]:
            raise MuxsimError(f"testbed results hold no curve {key!r}")
        return np.asarray(self.data["observed"][key]), np.asarray(self.data["observed_se_over_questions"][key])


def testbed_results(path: Path = TESTBED_RESULTS) -> TestbedResults:
    try:
        return TestbedResults(json.loads(Path(path).read_text()))
    except (OSError, json.JSONDecodeError) as e:
        raise MuxsimError(f"{path}: cannot read testbed results ({e})") from None


def testbed_search_curve(tb: TestbedResults, k: int, title: str, lam: float = 1.0) -> SearchCurve:
    """Best subsets by O(S) on the testbed's observed held-out union/contradiction at k (no validation split)."""
    j = int(np.flatnonzero(tb.ks == k)[0])
    best, best_ref, mux, mux_se, ue, ues = [], [], [], [], [], []
    for K in range(1, len(tb.models) + 1):
        scores = []
        for S in itertools.combinations(tb.models, K):
            u, us = tb.curve(S, "union")
            c, cs = tb.curve(S, "contradiction")
            scores.append(SubsetScore(tuple(S), u[j], us[j], c[j], cs[j], c[j] / u[j] if u[j] > 0 else float("nan"), lam))
        b = max(scores, key=lambda s: s.objective)
        best.append(b)
        best_ref.append(max(scores, key=lambda s: s.objective_ref))
        m, ms = tb.curve(b.models, "mux" if K > 1 else "sc")
        mux.append(float(m[j]))
        mux_se.append(float(ms[j]))
        ue.append(b.union)
        ues.append(b.union_se)
    return SearchCurve(title, SOURCE_TESTBED + "; held-out samples, no validation split", k, k, lam,
                       list(range(1, len(tb.models) + 1)), best, mux, mux_se, ue, ues, best_ref)


def testbed_k_curves(tb: TestbedResults, group: Sequence[str], title: str) -> KCurves:
    group = tuple(m for m in tb.models if m in group)
    best = group[0]
    vals, ses = {}, {}
    for name, models, meth in (("mux", group, "mux"), ("mux_valid", group, "mux_valid"), ("vote", group, "vote"),
                               ("best_sc", (best,), "sc")):
        vals[name], ses[name] = tb.curve(models, meth)
    singles = [tb.curve((g,), "sc")[0][0] for g in group]
    vals["paper_mux"] = np.array([paper.mux_approx(singles, int(k)) for k in tb.ks])
    vals["paper_vote"] = np.array([paper.agent_forest_approx(singles, int(k)) for k in tb.ks])
    ses["paper_mux"] = ses["paper_vote"] = np.zeros(len(tb.ks))
    return KCurves(title, SOURCE_TESTBED + "; k <= 7: the 7 held-out samples per question", group, best,
                   Curves(tb.ks, vals, ses, "exact (logged pools)", group))


# ---------------------------------------------------------------------------
# theory: SC against p for binary and multi-class laws
# ---------------------------------------------------------------------------

#: Laws of the majority figure: key -> (shares of the wrong mass over named wrong answers, tail share, title).
MAJORITY_LAWS: dict[str, tuple[tuple[float, ...], float, str]] = {
    "binary": ((1.0,), 0.0, "exact plurality, one wrong answer"),
    "two": ((0.5, 0.5), 0.0, "exact plurality, 2 wrong answers (equal)"),
    "three": ((1 / 3, 1 / 3, 1 / 3), 0.0, "exact plurality, 3 wrong answers (equal)"),
    "tail": ((), 1.0, "exact plurality, tail (every wrong answer unique)"),
}


@dataclass
class MajorityCurves:
    """SC(N) against p: the paper's A(N, p) and exact plurality per law, with the exact thresholds p*."""

    p: np.ndarray
    ns: list[int]
    paper: dict[int, np.ndarray]
    exact: dict[str, dict[int, np.ndarray]]
    titles: dict[str, str]
    thresholds: dict[str, float]


def majority_curves(ns: Sequence[int] = range(2, 10), n_points: int = 201) -> MajorityCurves:
    """Exact SC(N) on a grid of p for each law of :data:`MAJORITY_LAWS` (exact engine), A(N, p) (paper),
    and p* = the smallest p above which SC(N) >= p for every odd N in ``ns`` (sympy, exact)."""
    import sympy as sp

    from muxsim import symbolic
    from muxsim.laws import AnswerLaw
    from muxsim.layout import layout

    ns = [int(n) for n in ns]
    grid = np.linspace(0, 1, n_points)
    paper_c = {N: np.asarray(paper.binomial_majority(N, grid)) for N in ns}
    exact_c: dict[str, dict[int, np.ndarray]] = {}
    thresholds: dict[str, float] = {"paper": 0.5}
    odd = [N for N in ns if N % 2] or [3]
    for key, (shares, tail, _) in MAJORITY_LAWS.items():
        laws = [[AnswerLaw(float(p), {f"w{j}": float(s * (1 - p)) for j, s in enumerate(shares) if s * (1 - p) > 0},
                           tail=float(tail * (1 - p)))] for p in grid]
        eng = Engine(layout(laws), max(ns))
        exact_c[key] = {N: eng.sc(0, N) for N in ns}
        lows = []
        for N in odd:
            sh = [sp.nsimplify(s) for s in shares]
            pos = symbolic.positive_set(symbolic.sc_poly(N, sh, sp.nsimplify(tail)) - symbolic.P)
            lows.append(float(pos[0][0]) if pos else 1.0)
        thresholds[key] = max(lows)
    titles = {k: v[2] for k, v in MAJORITY_LAWS.items()}
    return MajorityCurves(grid, ns, paper_c, exact_c, titles, thresholds)
