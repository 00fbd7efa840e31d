"""Exact engine == brute-force enumeration of joint outcomes (tolerance 1e-9)."""

import numpy as np
import pytest
from hypothesis import given, settings, HealthCheck
from hypothesis import strategies as st

from muxsim import exact
from muxsim.laws import AnswerLaw, LoggedPool

from brute import brute
from strategies import laws, pools

TOL = 1e-9
SETTINGS = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@st.composite
def law_case(draw):
    n = draw(st.integers(1, 3))
    kmax = 4 if n <= 2 else 3
    srcs = [draw(laws()) for _ in range(n)]
    ks = [draw(st.integers(1, kmax)) for _ in range(n)]
    return srcs, ks


@st.composite
def pool_case(draw):
    n = draw(st.integers(1, 3))
    kmax = 4 if n <= 2 else 3
    ks = [draw(st.integers(1, kmax)) for _ in range(n)]
    srcs = [draw(pools(min_size=k)) for k in ks]
    return srcs, ks


def check_all(srcs, ks):
    assert exact.self_consistency(srcs[0], ks[0]) == pytest.approx(brute("sc", srcs[:1], ks[:1]), abs=TOL)
    for score in ("per_k", "per_valid"):
        assert exact.mux(srcs, ks, score) == pytest.approx(brute("mux", srcs, ks, score), abs=TOL)
        sel, cor = exact.mux_attribution(srcs, ks, score)
        bsel, bcor = brute("attribution", srcs, ks, score)
        np.testing.assert_allclose(sel, bsel, atol=TOL)
        np.testing.assert_allclose(cor, bcor, atol=TOL)
    assert exact.vote(srcs, ks) == pytest.approx(brute("vote", srcs, ks), abs=TOL)
    for r in (1, 2):
        assert exact.union(srcs, ks, r) == pytest.approx(brute("union", srcs, ks, r=r), abs=TOL)
        assert exact.contradiction(srcs, ks, r) == pytest.approx(brute("contradiction", srcs, ks, r=r), abs=TOL)


@SETTINGS
@given(law_case())
def test_laws_match_enumeration(case):
    check_all(*case)


@SETTINGS
@given(pool_case())
def test_pools_match_enumeration(case):
    check_all(*case)


@pytest.mark.parametrize(
    "srcs, ks",
    [
        # shared wrong labels, tail and abstention in every model, per-model k
        ([AnswerLaw(0.3, {"X": 0.2, "Y": 0.1}, 0.25, 0.15), AnswerLaw(0.25, {"X": 0.3}, 0.2, 0.25), AnswerLaw(0.4, {"Y": 0.3}, 0.2, 0.1)], [3, 2, 3]),
        ([AnswerLaw(0.5, {"X": 0.5}), AnswerLaw(0.5, {"X": 0.5})], [4, 4]),  # even k, exact ties
        ([LoggedPool(2, {"X": 1, "Y": 1}, 1, 1), LoggedPool(1, {"X": 2}, 1, 0), LoggedPool(0, {"Y": 2}, 1, 1)], [4, 3, 2]),
    ],
)
def test_fixed_hard_cases(srcs, ks):
    check_all(srcs, ks)


@SETTINGS
@given(pool_case())
def test_pool_vote_paths_agree(case):
    """The sparse count-vector merge, the FFT of margins and the label pass give the same pooled vote."""
    from muxsim.exact.engine import Engine
    from muxsim.layout import layout

    srcs, ks = case
    eng = Engine(layout([srcs]), ks)
    want = brute("vote", srcs, ks)
    for path in ("sparse", "grid", "labels"):
        assert eng.vote(range(len(ks)), ks, path=path)[0] == pytest.approx(want, abs=TOL), path


@st.composite
def private_case(draw):
    """Each model's wrong answers are its own (no label shared between models): laws or pools."""
    n = draw(st.integers(1, 3))
    kmax = 4 if n <= 2 else 3
    ks = [draw(st.integers(1, kmax)) for _ in range(n)]
    # each model's own answers, or (star) one answer "S" that some models share and give nothing else
    star = draw(st.booleans())
    own = [("S",) if star and draw(st.booleans()) else (f"{i}a", f"{i}b") for i in range(n)]
    if draw(st.booleans()):
        srcs = [draw(laws(labels=own[i])) for i in range(n)]
    else:
        srcs = [draw(pools(min_size=k, labels=own[i])) for i, k in enumerate(ks)]
    return srcs, ks


@SETTINGS
@given(private_case())
def test_private_answers_vote_matches_enumeration_and_grid(case):
    """Private wrong answers (and one answer shared by models that give no other) take the grid-free
    path; it agrees with enumeration and with the margin grid."""
    from muxsim.exact.engine import Engine
    from muxsim.layout import layout

    srcs, ks = case
    want = brute("vote", srcs, ks)
    eng = Engine(layout([srcs]), ks)
    for path in ("units", "labels"):
        assert eng.vote(range(len(ks)), ks, path=path)[0] == pytest.approx(want, abs=TOL), path
    from muxsim.exact import combine

    if (2 * sum(ks) + 1) ** eng.lay.width <= combine.VOTE_MAX_CELLS:  # the grid path refuses bigger grids
        assert eng.vote(range(len(ks)), ks, path="grid")[0] == pytest.approx(want, abs=TOL)
