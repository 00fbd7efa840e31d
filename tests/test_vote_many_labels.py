"""The pooled vote with many named wrong answers: no wrap-around, every path agrees, Monte Carlo agrees,
and a vote too large to compute is NaN with a note while everything else is still computed."""

import itertools
import json
import warnings

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from muxsim import exact, simulate
from muxsim.errors import MuxsimWarning
from muxsim.exact import combine
from muxsim.exact import engine as engine_mod
from muxsim.exact.engine import Engine
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.layout import layout
from muxsim.population import Empirical, evaluate

from brute import brute
from strategies import laws, pools

TOL = 1e-9
MANY = tuple(f"w{i}" for i in range(20))


def test_wide_count_vectors_merge_without_wrapping():
    """(K+1)^D >= 2^63: the merge falls back from int64 keys to rows; compare with a plain double loop."""
    rng = np.random.default_rng(0)
    D, K = 18, 40  # 41^18 ~ 1e29
    per_model = []
    for k in (20, 20):
        vec = np.array([rng.multinomial(k, rng.dirichlet(np.ones(D + 1)))[:D] for _ in range(6)])
        p = rng.dirichlet(np.ones(len(vec)))
        per_model.append((vec, p))
    assert (K + 1) ** D >= 2**63
    want = 0.0
    for (a, pa), (b, pb) in itertools.product(zip(*per_model[0]), zip(*per_model[1])):
        t = a + b
        nc, nw, nt = t[0], t[1:-1], t[-1]
        top = max(nc, nw.max(), int(nt > 0))
        ties = (nw == top).sum() + (nt if top == 1 else 0) + 1
        want += pa * pb * (1.0 / ties if nc == top and top > 0 else 0.0)
    assert combine.vote_sparse(per_model, K) == pytest.approx(want, abs=1e-12)


def _busy_logs():
    """Ordinary questions plus one with 16 named wrong answers (sets the layout's width for all)."""
    rng = np.random.default_rng(3)
    busy = [LoggedPool(3, {f"a{j}": 1 for j in range(12)}, 3, 3),
            LoggedPool(2, {"a0": 3} | {f"a{j}": 1 for j in range(6, 16)}, 4, 2)]  # 21 samples each
    qs = [busy]
    for q in range(11):
        labs = [f"a{j}" for j in range(int(rng.integers(0, 4)))]
        row = []
        for _ in range(2):
            cats = rng.multinomial(21, rng.dirichlet(np.r_[2.0, np.full(len(labs), 0.7), 0.4, 0.2]))
            row.append(LoggedPool(int(cats[0]), {l: int(c) for l, c in zip(labs, cats[1:-2]) if c},
                                  int(cats[-2]), int(cats[-1])))
        qs.append(row)
    return qs


@pytest.mark.parametrize("k", [5, 6, 7])
def test_one_busy_question_leaves_the_others_alone(k):
    """The regression of the wrapped int64 keys: every question's vote in a batch equals its vote alone,
    by any path, and the busy question agrees with Monte Carlo."""
    qs = _busy_logs()
    assert max(len(set().union(*(p.wrong for p in row))) for row in qs) == 16
    batch = Engine(layout(qs), [k, k]).vote([0, 1], [k, k])
    for q, row in enumerate(qs):
        eng = Engine(layout([row]), [k, k])
        alone = eng.vote([0, 1], [k, k], path="labels")[0]
        assert batch[q] == pytest.approx(alone, abs=TOL)
        if q:
            assert eng.vote([0, 1], [k, k], path="sparse")[0] == pytest.approx(alone, abs=TOL)
    est = simulate.vote(qs[0], k, n_draws=20_000, rng=np.random.default_rng(k))
    assert abs(batch[0] - est.value) <= 4 * est.se + 1e-12


@st.composite
def many_label_case(draw):
    """2 models (3 with k <= 4) with 16-20 named wrong answers, some shared, k up to 12."""
    n = draw(st.integers(2, 3))
    L = draw(st.integers(16, 20))
    ks = [draw(st.integers(1, 12 if n == 2 else 4)) for _ in range(n)]
    srcs, used = [], set()
    for i in range(n):
        mine = draw(st.lists(st.sampled_from(MANY[:L]), min_size=1, max_size=L, unique=True))
        if i == n - 1:  # every one of the L answers is given by some model
            mine += [w for w in MANY[:L] if w not in used and w not in mine]
        used.update(mine)
        raw = np.array([draw(st.integers(1, 12))] + [draw(st.integers(1, 4)) for _ in mine]
                       + [draw(st.integers(0, 4)), draw(st.integers(0, 3))], dtype=float)
        p = raw / raw.sum()
        srcs.append(AnswerLaw(1 - p[1:].sum(), dict(zip(mine, p[1:-2])), p[-2], p[-1]))
    return srcs, ks


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(many_label_case(), st.integers(0, 2**32 - 1))
def test_many_labels_agree_with_monte_carlo(case, seed):
    srcs, ks = case
    value = exact.vote(srcs, ks)
    assert 0.0 <= value <= 1.0
    est = simulate.vote(srcs, ks, n_draws=4000, rng=np.random.default_rng(seed))
    assert abs(value - est.value) <= 4 * est.se + 1e-3  # + 1e-3: an SE of 0 when every draw agrees


@st.composite
def any_case(draw):
    n = draw(st.integers(1, 3))
    kmax = 4 if n <= 2 else 3
    ks = [draw(st.integers(1, kmax)) for _ in range(n)]
    labels = ("X", "Y", "Z", "U")
    if draw(st.booleans()):
        return [draw(laws(labels=labels)) for _ in range(n)], ks
    return [draw(pools(min_size=k, labels=labels)) for k in ks], ks


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(any_case())
def test_every_path_in_unit_interval_and_equal(case):
    """Each exact path that applies returns a probability, the same one, equal to enumeration."""
    srcs, ks = case
    eng = Engine(layout([srcs]), ks)
    free = bool(eng._grid_free(eng._givers(list(range(len(ks)))))[0])
    L = int(eng._n_labels(list(range(len(ks))))[0])
    paths = eng._vote_costs(list(range(len(ks))), ks, np.array([0]), L, free)
    assert "labels" in paths and (eng.lay.mode == "law") != ("sparse" in paths)
    want = brute("vote", srcs, ks)
    for path in paths:
        v = eng.vote(range(len(ks)), ks, path=path)[0]
        assert 0.0 <= v <= 1.0, path
        assert v == pytest.approx(want, abs=TOL), path


def test_too_large_is_nan_with_a_note_and_the_rest_is_computed(monkeypatch):
    """Past the work limit the vote is NaN at that k only, with a note naming k; other methods are computed."""
    monkeypatch.setattr(engine_mod, "VOTE_MAX_WORK", 2e6)
    law = AnswerLaw(0.3, {f"w{i}": 0.07 for i in range(10)})
    pop = Empirical([[law, law]], ("a", "b"))
    curves = evaluate(pop, [1, 6], methods=["mux", "vote", "union"])
    assert np.isfinite(curves.values["vote"][0]) and np.isnan(curves.values["vote"][1])
    assert np.isfinite(curves.values["mux"]).all() and np.isfinite(curves.values["union"]).all()
    assert len(curves.notes) == 1 and curves.notes[0].startswith("vote at k=6: 1 question(s) with L = 10")
    assert "n/a" in curves.table() and "note: vote at k=6" in curves.table()
    d = json.loads(json.dumps(curves.to_dict()))  # valid JSON: NaN becomes null
    assert d["values"]["vote"][1] is None and d["notes"] == list(curves.notes)
    with warnings.catch_warnings():
        warnings.simplefilter("error", MuxsimWarning)
        with pytest.raises(MuxsimWarning, match="vote at k=6"):
            Engine(pop.layout()[0], 6).vote_curve([0, 1], [[6, 6]])
    with pytest.raises(engine_mod.VoteTooLarge, match="vote at k=6"):
        exact.vote([law, law], 6)


@pytest.mark.parametrize("mixed", [False, True])
def test_subset_of_a_wide_pool_uses_only_its_own_answers(mixed):
    """A pool of 12 models giving 24 named answers in all (L = 24: every path over the pool's columns is far
    past the work limit): a pair's vote uses only the answers the pair gives, and equals enumeration on
    the pair alone -- also for mixtures of rows (E = 2), where the columns are renumbered per question."""
    rng = np.random.default_rng(7)
    names = [f"w{j}" for j in range(24)]

    def law(i):
        mine = names[2 * i : 2 * i + 2] + (["w0"] if i else [])  # model 0's w0 is shared by every model
        p = rng.dirichlet(np.r_[3.0, np.ones(len(mine)), 0.5, 0.3])
        return AnswerLaw(p[0], dict(zip(mine, p[1:-2])), p[-2], p[-1])

    rows = [[law(i) for i in range(12)] for _ in range(2 if mixed else 1)]

    weights = [0.25, 0.75] if mixed else [1.0]
    eng = Engine(layout(rows), 3, mix=(2, np.array(weights)) if mixed else None)
    assert eng.lay.width == 24
    for pair in [(0, 1), (2, 11), (7, 3)]:
        # each model draws its row once per question (its k draws share it), independently of the other
        def want(method, score="per_k"):
            return sum(wa * wb * brute(method, [rows[a][pair[0]], rows[b][pair[1]]], [3, 2], score)
                       for (a, wa), (b, wb) in itertools.product(enumerate(weights), repeat=2))

        assert eng.vote(list(pair), [3, 2])[0] == pytest.approx(want("vote"), abs=TOL), pair
        for score in ("per_k", "per_valid"):  # the per-model top-count tables run over each row's own answers
            assert eng.mux(list(pair), [3, 2], score)[0][0] == pytest.approx(want("mux", score), abs=TOL), pair


@pytest.mark.parametrize("L", [0, 2, 4])
def test_single_draw_term_is_the_same_for_few_and_many_rows(L):
    """The single-draw term combines patterns by a loop for many rows and in one pass for few: each row's value
    does not depend on which (the same rows, alone or in a batch above FEW_ROWS)."""
    rng = np.random.default_rng(L)
    n = combine.FEW_ROWS + 8
    u, _ = combine.vote_nodes(9)
    singles = [rng.random((n, 2 ** (L + 1), len(u))) for _ in range(3)]
    batch = combine.single_draw_term(singles, L, 9)
    alone = np.concatenate([combine.single_draw_term([g[q : q + 1] for g in singles], L, 9) for q in range(n)])
    np.testing.assert_allclose(batch, alone, rtol=1e-12, atol=1e-14)
