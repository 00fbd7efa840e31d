"""Exact evaluation of logs: brute-force enumeration of k-of-K subsamples, bad input, bundled data."""

import itertools
from pathlib import Path

import numpy as np
import pytest

from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import answer_table, evaluate_logs, mux_attribution, per_question_values, validation_order
from muxsim.logs.format import Sample
from muxsim.logs.importers import read_jhu_dir

ROOT = Path(__file__).resolve().parents[1]
JHU = ROOT / "real_runs" / "logs" / "jhu-llm-temperature"


def _samples(spec):
    """spec[model][question] = list of answers; reference of every question is 'C'."""
    out = []
    for m, qs in spec.items():
        for q, answers in qs.items():
            for j, a in enumerate(answers):
                out.append(Sample(q, m, j, a, (a == "C") if a is not None else False, reference="C"))
    return out


SPEC = {
    "a": {"q1": ["C", "X", "C", None], "q2": ["Y", "Y", "C", "Z"], "q3": ["C", "C", "C", "X"]},
    "b": {"q1": ["X", "X", "X", "C"], "q2": ["Y", "C", None, None], "q3": ["W", "V", "X", "X"]},
    "c": {"q1": ["X", "Z", "C", "C"], "q2": [None, None, None, "Y"], "q3": ["V", "V", "C", "W"]},
}


def _brute(table, k, method):
    """Mean over questions of the average rule credit over every k-subset of each model's K logs."""
    vals = []
    n = len(table.models)
    for q in range(table.n_questions):
        combos = [list(itertools.combinations(range(table.K), k)) for _ in range(n)]
        credit = []
        for pick in itertools.product(*combos):
            draws = [table.codes[q, i, list(pick[i])][None, :] for i in range(n)]
            if method == "mux":
                c = rules.mux(draws, "per_k")
            elif method == "mux_valid":
                c = rules.mux(draws, "per_valid")
            elif method == "vote":
                c = rules.vote(draws)
            elif method == "union":
                c = rules.union(draws, 1)
            elif method == "contradiction":
                c = rules.contradiction(draws, 1)
            else:
                c = rules.self_consistency(draws[0])
            credit.append(float(c[0]))
        vals.append(np.mean(credit))
    return float(np.mean(vals))


@pytest.mark.parametrize("k", [1, 2, 3])
@pytest.mark.parametrize("method", ["mux", "mux_valid", "vote", "union", "contradiction"])
def test_matches_enumeration(method, k):
    tab = answer_table(_samples(SPEC), models=["a", "b", "c"])
    curves = evaluate_logs(tab, k=[k], methods=[method])
    assert curves.values[method][0] == pytest.approx(_brute(tab, k, method), abs=1e-12)
    pq = per_question_values(tab, ["a", "b", "c"], [k], [method])[method]
    assert pq.mean() == pytest.approx(curves.values[method][0], abs=1e-12)


def test_sc_matches_enumeration():
    tab = answer_table(_samples(SPEC))
    for k in (1, 2, 3, 4):
        v = evaluate_logs(tab, k=[k], methods=["sc[a]"]).values["sc[a]"][0]
        assert v == pytest.approx(_brute(tab.select(["a"]), k, "sc"), abs=1e-12)


def test_se_is_over_questions():
    tab = answer_table(_samples(SPEC))
    c = evaluate_logs(tab, k=[1], methods=["single[a]"])
    per_q = np.array([2 / 4, 1 / 4, 3 / 4])
    assert c.values["single[a]"][0] == pytest.approx(per_q.mean())
    assert c.se["single[a]"][0] == pytest.approx(per_q.std(ddof=1) / np.sqrt(3))


def test_validation_order_and_attribution():
    tab = answer_table(_samples(SPEC))
    order, acc = validation_order(tab, [0, 2])
    assert order == ("a", "c", "b") and acc[0] == pytest.approx(5 / 8)
    att = mux_attribution(tab, 2, models=list(order))
    total = evaluate_logs(tab.select(list(order)), k=[2], methods=["mux"]).values["mux"][0]
    assert sum(v[1] for v in att.values()) == pytest.approx(total)
    assert sum(v[0] for v in att.values()) <= 1 + 1e-12
    c = evaluate_logs(tab, k=[1], validation=[0, 2])  # evaluated on question q2 only, order a, c, b
    assert c.models == ("a", "c", "b")
    assert c.values["single[a]"][0] == pytest.approx(0.25)


def test_bad_input():
    s = _samples(SPEC)
    with pytest.raises(MuxsimError, match="model 'd' has no samples on question 'q2'.*--common-questions"):
        evaluate_logs(answer_table(s + _samples({"d": {"q1": ["C"] * 4}})))
    with pytest.raises(MuxsimError, match=r"model\(s\) \['a'\] named twice"):
        answer_table(s, models=["a", "b", "a"])
    tab = answer_table(s)
    with pytest.raises(MuxsimError, match=r"k=5 is larger than the K=4 logged samples"):
        evaluate_logs(tab, k=[5])
    with pytest.raises(MuxsimError, match="named twice"):
        evaluate_logs(tab, models=["a", "a"])
    with pytest.raises(MuxsimError, match="unknown model"):
        evaluate_logs(tab, models=["zz"])
    short = answer_table([x for x in s if not (x.model == "b" and x.question_id == "q1" and x.sample == 3)])
    with pytest.raises(MuxsimError, match="k=4 is larger than the 3 logged samples of model 'b' on question 'q1'"):
        evaluate_logs(short, k=[4])
    with pytest.raises(MuxsimError, match=r"ragged logs: pools hold 3..4 samples \(model 'b' has 3 on question 'q1'\)"):
        short.K
    with pytest.raises(MuxsimError, match="correct=null"):
        answer_table([Sample("q", "m", 0, "A", None)])
    with pytest.raises(MuxsimError, match="appears twice"):
        answer_table(s + s[:1])
    with pytest.raises(MuxsimError, match="no samples"):
        answer_table([])


def test_bundled_t07_single_and_sc():
    tab = answer_table(read_jhu_dir(JHU, 0.7, models=["llama-2-7b-chat", "gpt-4"]))
    c = evaluate_logs(tab, k=[1, 10], methods=["single[llama-2-7b-chat]", "sc[gpt-4]"])
    assert c.values["single[llama-2-7b-chat]"][0] == pytest.approx(0.28)
    assert 0.0 < c.se["single[llama-2-7b-chat]"][0] < 0.1
    # k = K: SC is the plurality of all ten logged answers (uniform tie-break)
    want = float(np.mean(rules.self_consistency(tab.codes[:, tab.models.index("gpt-4"), :])))
    assert c.values["sc[gpt-4]"][1] == pytest.approx(want, abs=1e-12)


def test_vote_of_logs_equals_mean_over_every_subsample():
    """The exact pooled vote of logs is the mean of the vote over every choice of k of the K answers."""

    from muxsim.logs import evaluate as ev

    tab = answer_table(_samples(SPEC))
    lay = tab.empirical().layout()[0]
    got = ev.vote_values(lay, [2, 3])
    for a, k in enumerate([2, 3]):
        for q in range(tab.n_questions):
            per_model = [np.array(list(itertools.combinations(tab.codes[q, i], k))) for i in range(len(tab.models))]
            grids = np.meshgrid(*[np.arange(len(p)) for p in per_model], indexing="ij")
            draws = [p[g.ravel()] for p, g in zip(per_model, grids)]
            assert got[a, q] == pytest.approx(float(rules.vote(draws).mean()), abs=1e-12)
