"""The regenerated paper: symbolic polynomials, claims (every verdict recomputed), tables, figures, the report.

Claims are recomputed here and their evidence checked by a second route: the
symbolic polynomials against the exact engine and enumeration (tests/brute.py),
counterexamples against the float engine or the paper's formula, log numbers
against ``evaluate_logs``.  Verdicts must move when the data move.
"""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest
import sympy as sp

from muxsim import claims as C
from muxsim import exact, paper
from muxsim import paper_tables as T
from muxsim import reproduce as R
from muxsim import symbolic as sy
from muxsim.errors import MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.logs.evaluate import evaluate_logs
from muxsim.population import Empirical, evaluate

from brute import brute


@pytest.fixture(scope="module")
def logs():
    return R.jhu_studies(0.7)


# ---------------------------------------------------------------- symbolic


@pytest.mark.parametrize("N", [1, 2, 3, 4, 5])
@pytest.mark.parametrize("shares, tail", [((1,), 0), ((Fraction(1, 2),) * 2, 0), ((Fraction(2, 3), Fraction(1, 3)), 0), ((), 1),
                                          ((Fraction(1, 2),), Fraction(1, 2))])
def test_sc_poly_equals_engine(N, shares, tail):
    e = sy.sc_poly(N, [sp.Rational(s.numerator, s.denominator) if isinstance(s, Fraction) else s for s in shares],
                   sp.nsimplify(tail))
    for p in (0.13, 0.4, 0.77):
        wrong = {f"w{j}": float(s) * (1 - p) for j, s in enumerate(shares)}
        law = AnswerLaw(p, wrong, tail=float(tail) * (1 - p))
        assert float(e.subs(sy.P, sp.nsimplify(p))) == pytest.approx(exact.self_consistency(law, N), abs=1e-12)


@pytest.mark.parametrize("k", [1, 2, 3, 4])
@pytest.mark.parametrize("shared", [False, True])
def test_two_model_polys_equal_enumeration(k, shared):
    p1, p2 = 0.7, 0.35
    A = AnswerLaw(p1, {"X": 1 - p1})
    B = AnswerLaw(p2, {"X" if shared else "Y": 1 - p2})
    sub = {sy.P1: sp.Rational(7, 10), sy.P2: sp.Rational(7, 20)}
    assert float(sy.mux_poly(k, shared).subs(sub)) == pytest.approx(brute("mux", [A, B], [k, k]), abs=1e-12)
    assert float(sy.vote_poly(k, shared).subs(sub)) == pytest.approx(brute("vote", [A, B], [k, k]), abs=1e-12)


def test_binomial_A_is_the_paper_formula():
    for N in range(1, 8):
        e = sy.binomial_A(N, "won")
        for p in (0.2, 0.5, 0.9):
            assert float(e.subs(sy.P, sp.nsimplify(p))) == pytest.approx(paper.binomial_majority(N, p), abs=1e-12)
    # a tie split 1/2 is what plurality gives for one wrong answer
    assert sp.expand(sy.binomial_A(4, "split") - sy.sc_poly(4, (1,))) == 0


def test_positive_set_exact():
    assert sy.positive_set(sy.binomial_A(3) - sy.P) == [(sp.Rational(1, 2), 1)]
    assert sy.positive_set(sy.P * 0) == []
    (lo, hi), = sy.positive_set(sy.binomial_A(4, "won") - sy.P)
    assert float(lo) == pytest.approx((5 - 13 ** 0.5) / 6, abs=1e-12) and hi == 1


def test_symbolic_bad_input():
    with pytest.raises(MuxsimError):
        sy.binomial_A(0)
    with pytest.raises(MuxsimError):
        sy.binomial_A(3, "lost")
    with pytest.raises(MuxsimError):
        sy.sc_poly(3, (sp.Rational(1, 2),), 0)  # shares sum to 1/2


# ---------------------------------------------------------------- claims (theory)


def test_binary_threshold_claim_recomputed_on_a_grid():
    c = C.claim_binary_threshold(range(2, 8))
    grid = np.linspace(0.001, 0.999, 999)
    grid = grid[np.abs(grid - 0.5) > 1e-3]
    for row in c.data["rows"]:
        N, ties = row["N"], row["ties"]
        A = paper.binomial_majority(N, grid) if ties == "won" else np.array(
            [exact.self_consistency(AnswerLaw(float(p), {"W": 1 - float(p)}), N) for p in grid])
        iff_numeric = bool(np.all((A > grid + 1e-12) == (grid > 0.5)))
        assert row["iff"] == iff_numeric, (N, ties)
    # odd N holds; even N with ties counted as wins fails: the verdict follows from the rows
    assert all(r["iff"] for r in c.data["rows"] if r["N"] % 2)
    assert not any(r["iff"] for r in c.data["rows"] if r["N"] % 2 == 0 and r["ties"] == "won")
    assert c.status == "conditional"
    cx = c.data["cex"]
    assert cx["p"] < sp.Rational(1, 2) and paper.binomial_majority(cx["N"], float(cx["p"])) > float(cx["p"])


def test_multiclass_claim_counterexample_and_threshold():
    c = C.claim_multiclass_threshold(range(3, 6))
    assert c.status == "fails"
    cx = c.data["cex"]
    p = float(cx["p"])
    shares = [float(sp.nsimplify(s)) for s in cx["shares"]]
    law = AnswerLaw(p, {f"w{j}": s * (1 - p) for j, s in enumerate(shares)}, tail=float(cx["tail"]) * (1 - p))
    sc = exact.self_consistency(law, cx["N"])
    assert p < 0.5 and sc > p and sc == pytest.approx(float(cx["sc"]), abs=1e-12)
    # p* = 1/3 for two equal wrong answers: SC(3) - p changes sign there
    two = lambda q: AnswerLaw(q, {"a": (1 - q) / 2, "b": (1 - q) / 2})
    assert exact.self_consistency(two(0.32), 3) < 0.32 and exact.self_consistency(two(0.35), 3) > 0.35
    assert {r["p_star"] for r in c.data["rows"] if r["law"] == "2 wrong answers (equal)"} == {sp.Rational(1, 3)}


@pytest.mark.parametrize("fn, method", [(C.claim_mux_approx, "mux"), (C.claim_af_approx, "vote"), (C.claim_mux_ge_af, "diff")])
def test_two_model_claims_checked_by_the_engine(fn, method):
    c = fn(range(1, 4))
    for row in c.data["rows"]:
        k = row["k"]
        for a, b, g in (row["min"], row["max"]) if "max" in row else (row["min"],):
            A, B = AnswerLaw(float(a), {"X": 1 - float(a)}), AnswerLaw(float(b), {"Y": 1 - float(b)})
            mux, vote = exact.mux([A, B], k), exact.vote([A, B], k)
            want = {"mux": mux - paper.binomial_majority(k, float(a)),
                    "vote": vote - paper.binomial_majority(k, (float(a) + float(b)) / 2), "diff": mux - vote}[method]
            assert float(g) == pytest.approx(want, abs=1e-12)
    worst = max(max(abs(float(r["min"][2])), abs(float(r.get("max", r["min"])[2]))) for r in c.data["rows"])
    if method != "diff":
        assert (c.status == "fails") == (worst > C.TOL)
    else:
        assert (c.status == "holds") == (min(float(r["min"][2]) for r in c.data["rows"]) >= 0)


def test_nonmonotone_example_checked_by_the_engine():
    c = C.claim_nonmonotone_k((1, 3), None, 15)
    assert c.data["per_question"]
    w, pe, ph = c.data["example"]
    pop = Empirical([[AnswerLaw(float(pe), {"W": 1 - float(pe)})], [AnswerLaw(float(ph), {"W": 1 - float(ph)})]])
    # question weights w, 1 - w: combine two one-question populations
    def sc(k):
        e = [evaluate(Empirical([q]), k, methods=["sc[m0]"], with_paper=False).values["sc[m0]"][0] for q in pop.questions]
        return float(w) * e[0] + (1 - float(w)) * e[1]
    vals = [sc(k) for k in range(1, 16, 2)]
    peak = int(np.argmax(vals))
    assert 0 < peak < len(vals) - 1


# ---------------------------------------------------------------- claims on data: verdicts move with the data


def test_samples_vs_models_verdict_follows_the_data():
    up, flat = [0.1, 0.2, 0.3, 0.4], [0.3, 0.2, 0.25, 0.2]
    assert C.claim_samples_vs_models({"a": up}, {"b": flat}).status == "holds"
    assert C.claim_samples_vs_models({"a": flat}, {"b": up}).status == "fails"


def test_union_contradiction_verdict_follows_the_data():
    def curve(u, c):
        best = [R.SubsetScore(("m",) * (i + 1), u[i], 0, c[i], 0, c[i] / u[i], 1.0) for i in range(len(u))]
        return R.SearchCurve("t", "s", 3, 3, 1.0, list(range(1, len(u) + 1)), best, [0] * len(u), [0] * len(u),
                             u, [0] * len(u), best)
    assert C.claim_union_contradiction_rise([curve([0.5, 0.6], [0, 0.1])]).status == "holds"
    assert C.claim_union_contradiction_rise([curve([0.5, 0.6], [0.2, 0.1])]).status == "conditional"


def test_type_decomposition_on_logs(logs):
    c = C.claim_type_decomposition(logs.test, 3)
    s1, s2, s3, sh = c.data["parts"]
    assert s1 == pytest.approx(0, abs=1e-12)  # Type 1: SC of an all-correct pool is correct
    assert s1 + s2 + s3 + sh == pytest.approx(c.data["total"], abs=1e-9)
    m, q, d, p = c.data["worst"]
    # the counterexample by a second route: the logged pool of that model and question
    i = logs.test.models.index(m)
    codes = logs.table.select(logs.test.models, questions=R.split_by_subject(
        R.jhu_subjects(logs.table.question_ids))[1]).codes[q, i]
    wrong = {}
    for v in codes[codes > 0].tolist():
        wrong[f"a{v}"] = wrong.get(f"a{v}", 0) + 1
    pool = LoggedPool(int((codes == 0).sum()), wrong, abstain=int((codes < 0).sum()))
    assert (codes == 0).mean() == pytest.approx(p) and p < 0.5
    assert exact.self_consistency(pool, 3) - p == pytest.approx(d, abs=1e-12) and d > 0


def test_adding_model_claim_checked_by_evaluate_logs(logs):
    c = C.claim_adding_model(logs.test, 3, 2)
    assert c.data["n"] == 9 * 8 + 36 * 7
    assert c.data["lower_up"] > 0 and c.counterexample
    # the printed example, recomputed with evaluate_logs (its own path through the logs)
    text = c.counterexample
    m = text.split("adding ")[1].split(" to ")[0]
    S = text.split(" to ")[1].split(":")[0].split(" + ")
    tt = logs.table.select(logs.test.models, questions=R.split_by_subject(R.jhu_subjects(logs.table.question_ids))[1])
    order = list(logs.test.models)
    T_ = [x for x in order if x in S or x == m]
    before = evaluate_logs(tt, [3], models=[x for x in order if x in S], methods=["mux"] if len(S) > 1 else [f"sc[{S[0]}]"])
    after = evaluate_logs(tt, [3], models=T_, methods=["mux", "union"])
    b = before.values["mux" if len(S) > 1 else f"sc[{S[0]}]"][0]
    dmux = float(text.split("ΔMUX = ")[1].split(",")[0])
    assert after.values["mux"][0] - b == pytest.approx(dmux, abs=5e-5) and dmux < 0


# ---------------------------------------------------------------- reproduce / tables


def test_split_and_subjects(logs):
    subj = R.jhu_subjects(logs.table.question_ids)
    assert len(set(subj.tolist())) == 10 and all((subj == s).sum() == 10 for s in set(subj.tolist()))
    val, test = R.split_by_subject(subj)
    assert len(val) == len(test) == 50 and not set(val) & set(test)


def test_best_subsets_is_exhaustive(logs):
    best = R.best_subsets(logs.val, 2, 3, top=1)[0]
    allp = [R.score_subset(logs.val, S, 3) for S in __import__("itertools").combinations(logs.val.models, 2)]
    assert best.objective == pytest.approx(max(s.objective for s in allp))
    ref = R.best_subsets(logs.val, 2, 3, top=1, normalise="reference")[0]
    assert ref.objective_ref == pytest.approx(max(s.objective_ref for s in allp))


def test_reproduce_bad_input(logs):
    with pytest.raises(MuxsimError):
        R.best_subsets(logs.val, 0, 3)
    with pytest.raises(MuxsimError):
        R.best_subsets(logs.val, 2, 3, normalise="mine")
    with pytest.raises(MuxsimError):
        R.fitted_population("HumanEval")
    with pytest.raises(MuxsimError):
        logs.val.value("mux", ["nobody"], 3)
    with pytest.raises(MuxsimError):
        logs.val.value("mux", logs.val.models[:2], 11)
    from muxsim.report import make_figure
    with pytest.raises(MuxsimError):
        make_figure("pie")


def test_fitted_population_means_are_the_papers():
    st = R.fitted_study("GPQA")
    for m, (acc, _) in R.PAPER_ACCURACY["GPQA"].items():
        assert st.value(f"single[{m}]", [m], 1)[0] == pytest.approx(acc / 100, abs=2e-3)
    assert "not the paper's data" in st.source


def test_tables_cite_the_paper_and_gains_are_paired(logs):
    t = T.regenerate(logs.val, logs.test)
    for b in T.BENCHES:
        assert f"(paper Table 1, {b})" in t.table1 and f"(paper Table 2, {b})" in t.table2 and f"(paper Table 3, {b})" in t.table3
    assert len(t.checks) == 6 + 6 + 6
    g1 = t.groups["group1"]
    best = [m for m in logs.test.models if m in g1][0]
    d, se = logs.test.diff(("mux", g1, 3), (f"single[{best}]", [best], 1))
    row = next(c for c in t.checks if c.what.startswith("Table 2 MATH group 1"))
    assert row.ours == pytest.approx(100 * d) and row.ours_se == pytest.approx(100 * se)
    assert row.within_2se == (abs(row.paper - 100 * d) <= 2 * 100 * se)


def test_calibration_table_from_testbed():
    tb = R.testbed_results()
    md = T.calibration_markdown(tb)
    s = tb.data["score"]["paper"]
    assert s["n"] > 0 and f"| paper's binomial approximation (SC, MUX, vote) | {s['n']} | {s['mae']:.2f} |" in md


# ---------------------------------------------------------------- the reduced report (CI) and the scripts


def test_reduced_report_builds(tmp_path):
    from muxsim.report import EXPECTED_FILES, build

    build(tmp_path, reduced=True, progress=False)
    missing = [f for f in EXPECTED_FILES if not (tmp_path / f).is_file() or (tmp_path / f).stat().st_size == 0]
    assert not missing
    claims = json.loads((tmp_path / "claims.json").read_text())
    assert len(claims) == 10 and all(c["status"] in ("holds", "fails", "conditional") and c["evidence"] for c in claims)
    html = (tmp_path / "index.html").read_text()
    assert html.count('<img alt=') == 6 and 'src="figures/samples.png"' in html and "<table>" in html
    md = (tmp_path / "index.md").read_text()
    assert "not the paper's data" in md and "paper Table 3" in md


def test_figure_script_writes_png_and_pdf(tmp_path):
    import importlib.util
    from pathlib import Path

    path = Path(__file__).parents[1] / "paper_figures" / "fig_majority.py"
    spec = importlib.util.spec_from_file_location("fig_majority", path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    out = mod.main(str(tmp_path / "m"))
    assert [p.suffix for p in out] == [".png", ".pdf"] and all(p.stat().st_size > 1000 for p in out)


def test_cli_report_subcommand(capsys):
    from muxsim.cli import main

    with pytest.raises(SystemExit) as e:
        main(["report", "--bogus"])
    assert e.value.code == 2
    with pytest.raises(SystemExit) as e:
        main(["report", "--help"])
    assert e.value.code == 0 and "--reduced" in capsys.readouterr().out
