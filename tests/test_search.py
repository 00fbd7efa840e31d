"""muxsim search: the vectorised search against plain loops over subsets, the reference code's rules, the engine."""

from __future__ import annotations

import glob
import itertools
import json

import numpy as np
import pytest

from muxsim import search as S
from muxsim.cli import main
from muxsim.errors import MuxsimError
from muxsim.exact.engine import Engine
from muxsim.logs.evaluate import AnswerTable, answer_table
from tests.brute import brute

JHU = sorted(glob.glob("real_runs/logs/jhu-llm-temperature/*temp-0.7.csv.gz"))


def table_of(codes: np.ndarray) -> AnswerTable:
    """An AnswerTable from codes (Q, n, K): 0 correct, -1 no answer, c > 0 wrong answer 'w<c>'."""
    Q, n, _ = codes.shape
    labels = tuple(tuple(f"w{c}" for c in range(1, max(1, int(codes[q].max())) + 1)) for q in range(Q))
    return AnswerTable(tuple(f"q{q}" for q in range(Q)), tuple(f"m{i}" for i in range(n)), codes.astype(np.int64), labels)


def random_table(rng, Q=40, n=7, K=4, wrong=3) -> AnswerTable:
    p = rng.dirichlet(np.ones(wrong + 2), size=(Q, n))  # per question and model: correct, abstain, wrong labels
    codes = np.empty((Q, n, K), dtype=np.int64)
    vals = np.array([0, -1] + list(range(1, wrong + 1)))
    for q in range(Q):
        for i in range(n):
            codes[q, i] = rng.choice(vals, size=K, p=p[q, i])
    return table_of(codes)


# --- the reference objective, written as the reference code's plain loop over questions and models ----------------


def reference_loop(answers, correct, models, size, lam, robust):
    """answers[m][q]: list of answer strings; correct[m][q]: list of bools.  Best (combo, score, union) per size."""
    best = None
    Q = len(answers[models[0]])
    for combo in itertools.combinations(models, size):
        uc = cc = 0
        for q in range(Q):
            any_c = any_w = False
            for m in combo:
                nc = sum(correct[m][q])
                if nc >= robust:
                    any_c = True
                if len(answers[m][q]) > 1 and len(set(answers[m][q])) == 1 and nc == 0:
                    any_w = True
            if any_c:
                uc += 1
                if any_w and len(combo) > 1:
                    cc += 1
        u = uc / Q
        sc = u - lam * (cc / uc if uc else 0.0)
        if best is None or sc > best[1] or (sc == best[1] and u > best[2]):
            best = (list(combo), sc, u)
    return best


def _loop_inputs_from_codes(tab: AnswerTable):
    answers = {m: [[("" if c == -1 else f"w{c}") if c != 0 else "REF" for c in tab.codes[q, i]]
                   for q in range(tab.n_questions)] for i, m in enumerate(tab.models)}
    correct = {m: [[c == 0 for c in tab.codes[q, i]] for q in range(tab.n_questions)] for i, m in enumerate(tab.models)}
    return answers, correct


@pytest.mark.parametrize("robust, lam", [(1, 1.0), (2, 0.5), (3, 1.0)])
def test_reference_best_per_size_equals_the_loop_on_jhu_samples(robust, lam):
    from muxsim.calibrate_cli import read_logs

    samples = read_logs(JHU)
    tab = answer_table(samples)
    answers = {m: {} for m in tab.models}
    correct = {m: {} for m in tab.models}
    for s in sorted(samples, key=lambda s: (s.model, s.question_id, s.sample)):  # strings straight from the logs
        answers[s.model].setdefault(s.question_id, []).append(s.answer or "")
        correct[s.model].setdefault(s.question_id, []).append(bool(s.correct))
    answers = {m: [answers[m][q] for q in tab.question_ids] for m in tab.models}
    correct = {m: [correct[m][q] for q in tab.question_ids] for m in tab.models}
    res = S.search(S.reference_stats(tab, robust), [1, 2, 3, 4], lam=lam, norm="union", top=1)
    for sr in res.sizes:
        combo, sc, u = reference_loop(answers, correct, list(tab.models), sr.size, lam, robust)
        got = sr.top[0]
        assert [tab.models[i] for i in got.idx] == combo
        assert got.objective == sc and got.union == u  # the same floating-point value


@pytest.mark.parametrize("seed", range(4))
def test_reference_on_random_tables_with_ties_and_unparsed_answers(seed):
    rng = np.random.default_rng(seed)
    tab = random_table(rng, Q=30, n=7, K=3, wrong=2)  # few distinct answers: many ties, all-unparsed rows
    answers, correct = _loop_inputs_from_codes(tab)
    for lam in (0.5, 1.0):
        res = S.search(S.reference_stats(tab, 2), [1, 2, 3, 4], lam=lam, norm="union", top=1)
        for sr in res.sizes:
            combo, sc, u = reference_loop(answers, correct, list(tab.models), sr.size, lam, 2)
            assert [tab.models[i] for i in sr.top[0].idx] == combo and sr.top[0].objective == sc


def test_all_unparsed_samples_are_consistently_wrong_in_the_reference_objective():
    codes = np.array([[[0, 0], [-1, -1]], [[0, 0], [1, 1]], [[0, 0], [-1, 1]]])  # Q=3, n=2, K=2
    st = S.reference_stats(table_of(codes), 1)
    assert st.w[1].tolist() == [1.0, 1.0, 0.0]
    r = S.score(st, ["m0", "m1"], lam=1.0, norm="union")
    assert r["union"] == 1.0 and r["contradiction"] == pytest.approx(2 / 3)


def test_ties_go_to_higher_union_then_to_the_earlier_subset():
    # m0 and m1 identical (correct on q0, q1); m2 correct on q2, q3 and consistently wrong on q0, q1
    codes = np.zeros((4, 3, 2), dtype=np.int64)
    codes[:, 0] = [[0, 0], [0, 0], [1, 2], [1, 2]]
    codes[:, 1] = codes[:, 0]
    codes[:, 2] = [[1, 1], [1, 1], [0, 0], [0, 0]]
    st = S.reference_stats(table_of(codes), 1)
    res = S.search(st, [2], lam=1.0, norm="union", top=3)
    got = [(r.idx, r.objective, r.union) for r in res.sizes[0].top]
    # {m0,m1}: 2/4 - 0 = .5; {m0,m2} and {m1,m2}: 4/4 - 2/4 = .5 with the higher union, in itertools order
    assert got == [((0, 2), 0.5, 1.0), ((1, 2), 0.5, 1.0), ((0, 1), 0.5, 0.5)]


# --- the exact objective: per-model products against the engine and against enumeration -----------------------------


@pytest.mark.parametrize("k, r", [(1, 1), (2, 1), (3, 2), ([2, 3, 1, 2], 1)])
def test_exact_union_and_contradiction_equal_enumeration(k, r):
    rng = np.random.default_rng(7)
    tab = random_table(rng, Q=6, n=4, K=3, wrong=2)
    st = S.exact_stats(tab, k, r)
    ks = k if isinstance(k, list) else [k] * 4
    pools = tab.empirical().questions
    for s in (1, 2, 3):
        for combo in itertools.combinations(range(4), s):
            srcs = [[pools[q][i] for i in combo] for q in range(tab.n_questions)]
            kk = [ks[i] for i in combo]
            u = np.mean([brute("union", src, kk, r=r) for src in srcs])
            c = np.mean([brute("contradiction", src, kk, r=r) for src in srcs])
            got = S.score(st, [tab.models[i] for i in combo], lam=0.7, norm="questions")
            assert got["union"] == pytest.approx(u, abs=1e-12)
            assert got["contradiction"] == pytest.approx(c, abs=1e-12)
            assert got["objective"] == pytest.approx(u - 0.7 * c, abs=1e-12)
            gu = S.score(st, [tab.models[i] for i in combo], lam=0.7, norm="union")
            assert gu["contradiction"] == pytest.approx(c / u if u else 0.0, abs=1e-12)


def test_exact_search_equals_a_loop_over_subsets_with_the_engine():
    tab = random_table(np.random.default_rng(3), Q=25, n=6, K=5, wrong=3)
    lay = tab.empirical().layout()[0]
    eng = Engine(lay, 3)
    res = S.search(S.exact_stats(tab, 3, 1), [2, 3], lam=1.0, norm="questions", top=100)
    for sr in res.sizes:
        loop = []
        for combo in itertools.combinations(range(6), sr.size):
            u = eng.union(combo, [3] * sr.size, 1).mean()
            c = eng.contradiction(combo, [3] * sr.size, 1).mean()
            loop.append((combo, u - c))
        assert len(sr.top) == len(loop)
        got = {r.idx: r.objective for r in sr.top}
        for combo, o in loop:
            assert got[combo] == pytest.approx(o, abs=1e-12)
        best = max(loop, key=lambda t: t[1])
        assert sr.top[0].objective == pytest.approx(best[1], abs=1e-12)


# --- branch and bound ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("binary", [True, False])
@pytest.mark.parametrize("norm", ["questions", "union"])
def test_branch_and_bound_finds_the_exhaustive_top_list(binary, norm):
    for seed in range(3):
        tab = random_table(np.random.default_rng(100 + seed), Q=35, n=10, K=4, wrong=3)
        if seed == 0:  # two models duplicated: genuine ties, ordered by union then subset order
            tab = table_of(np.concatenate([tab.codes, tab.codes[:, :2]], axis=1))
        st = S.reference_stats(tab, 2) if binary else S.exact_stats(tab, 2, 1)
        ex = S.search(st, [2, 3, 4, 5], lam=1.0, norm=norm, top=3, strategy="exhaustive")
        bb = S.search(st, [2, 3, 4, 5], lam=1.0, norm=norm, top=3, strategy="branch-and-bound")
        for a, b in zip(ex.sizes, bb.sizes):
            assert b.proven
            assert [r.idx for r in a.top] == [r.idx for r in b.top]
            if binary:  # integer counts: the same floats; real values: sums in another order, a few ulps apart
                assert [r.objective for r in a.top] == [r.objective for r in b.top]
            else:
                assert [r.objective for r in a.top] == pytest.approx([r.objective for r in b.top], rel=1e-13, abs=1e-14)


def test_branch_and_bound_says_when_it_did_not_prove_optimality():
    tab = random_table(np.random.default_rng(5), Q=35, n=12, K=4, wrong=3)
    res = S.search(S.exact_stats(tab, 2, 1), [5], top=1, strategy="branch-and-bound", node_limit=3)
    assert not res.sizes[0].proven
    assert res.to_dict()["best"][0]["optimal"] == "not proven"


# --- CLI and bad input ---------------------------------------------------------------------------------------------------


def test_cli_json_has_the_issue_fields(capsys):
    assert main(["search", *JHU, "--sizes", "2-3", "--top", "2", "--json"]) == 0
    d = json.loads(capsys.readouterr().out)
    assert set(d) == {"objective", "best", "top"} and d["objective"] == "reference"
    assert [b["size"] for b in d["best"]] == [2, 3]
    for b in d["best"]:
        assert {"size", "models", "objective", "union", "contradiction", "optimal"} <= set(b)
        assert b["objective"] == pytest.approx(b["union"] - b["contradiction"])
        assert d["top"][str(b["size"])][0]["models"] == b["models"] and len(d["top"][str(b["size"])]) == 2


def _write(tmp_path, rows):
    from muxsim.logs.format import Sample, write_samples

    p = tmp_path / "s.jsonl"
    write_samples(p, [Sample(**r) for r in rows])
    return str(p)


def _rows(models, qids, K=2):
    return [dict(question_id=q, model=m, sample=j, answer="1", correct=True) for m in models for q in qids for j in range(K)]


BAD_CLI = [
    (lambda t: [*JHU, "--models", "gpt-4,gpt-5"], "['gpt-5']"),
    (lambda t: [*JHU, "--sizes", "2-10"], "size 10 is larger than the pool of 9 models"),
    (lambda t: [*JHU, "--sizes", "0-2"], "sizes='0-2'"),
    (lambda t: [*JHU, "--objective", "exact", "--k", "11"], "k=11 is larger than the K=10"),
    (lambda t: [*JHU, "--k", "3"], "--k 3: the reference objective uses all K=10"),
    (lambda t: [*JHU, "--robust", "11"], "robust=11"),
    (lambda t: [*JHU, "--objective", "exact", "--k", "2", "--robust", "3"], "robust r=3 is larger than every model's k=2"),
    (lambda t: [*JHU, "--lam", "-1"], "lam=-1.0"),
    (lambda t: [*JHU, "--top", "0"], "top=0"),
    (lambda t: [*JHU, "--norm", "questions"], "--norm questions"),
    (lambda t: [_write(t, _rows(["a"], ["q1", "q2"]) + _rows(["b"], ["q1", "q3"]))], "model 'b' has no samples on question 'q2'"),
    (lambda t: [str(t / "empty.jsonl")], "no samples"),
]


@pytest.mark.parametrize("args, message", BAD_CLI, ids=[m for _, m in BAD_CLI])
def test_bad_input_is_one_line_and_exit_2(args, message, tmp_path, capsys):
    (tmp_path / "empty.jsonl").write_text("")
    assert main(["search", *args(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and err.startswith("muxsim: error:") and message in err, err


BAD_API = [
    (lambda st: S.search(st, [2], lam=float("nan")), "lam=nan"),
    (lambda st: S.search(st, [2], norm="all"), "norm='all'"),
    (lambda st: S.search(st, [], top=1), "sizes: none"),
    (lambda st: S.search(st, [2], strategy="greedy"), "strategy='greedy'"),
    (lambda st: S.score(st, ["m0", "zz"]), "unknown model(s) ['zz']"),
    (lambda st: S.reference_stats(table_of(np.zeros((2, 2, 2), dtype=np.int64)), 0), "robust=0"),
]


@pytest.mark.parametrize("call, message", BAD_API, ids=[m for _, m in BAD_API])
def test_bad_api_arguments_raise(call, message):
    st = S.reference_stats(random_table(np.random.default_rng(0), Q=5, n=3, K=2), 1)
    with pytest.raises(MuxsimError) as e:
        call(st)
    assert message in str(e.value)


# --- Dask ------------------------------------------------------------------------------------------------------------


def _exact_k3(tab):
    return S.exact_stats(tab, 3, 1)


def test_search_on_a_dask_localcluster_equals_the_in_process_run():
    pytest.importorskip("distributed")
    from muxsim.scale import dask_client, dask_mapper, sweep

    tab = random_table(np.random.default_rng(11), Q=40, n=9, K=4, wrong=3)
    stats = [S.reference_stats(tab, 2), S.exact_stats(tab, 3, 1)]
    local = [S.search(st, [1, 2, 3, 4], lam=0.7, norm=nm, top=4, strategy="exhaustive")
             for st, nm in zip(stats, ("union", "questions"))]
    with dask_client(workers=2) as client:
        remote = [S.search(st, [1, 2, 3, 4], lam=0.7, norm=nm, top=4, strategy="exhaustive", mapper=dask_mapper(client))
                  for st, nm in zip(stats, ("union", "questions"))]
        swept = sweep(_exact_k3, [tab], client=client)
    for a, b in zip(local, remote):
        assert a.to_dict() == b.to_dict()  # the same subsets and the same floating-point values
    assert np.array_equal(swept[0].a, stats[1].a) and np.array_equal(swept[0].w, stats[1].w)


def test_cli_workers_gives_the_same_json(capsys):
    pytest.importorskip("distributed")
    assert main(["search", *JHU, "--sizes", "2-3", "--json"]) == 0
    plain = capsys.readouterr().out
    assert main(["search", *JHU, "--sizes", "2-3", "--json", "--workers", "2"]) == 0
    assert capsys.readouterr().out == plain


def test_dask_bad_arguments():
    pytest.importorskip("distributed")
    from muxsim.scale import dask_client

    with pytest.raises(MuxsimError, match="not both"):
        with dask_client("tcp://127.0.0.1:1", 2):
            pass
    with pytest.raises(MuxsimError, match="workers=0"):
        with dask_client(workers=0):
            pass
    with pytest.raises(MuxsimError, match="cannot connect"):
        with dask_client("tcp://127.0.0.1:1", timeout="1s"):
            pass
