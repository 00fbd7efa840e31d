"""Hypothesis strategies for small random answer laws and logged pools."""

from __future__ import annotations

from hypothesis import strategies as st

from muxsim.laws import AnswerLaw, LoggedPool

LABELS = ("X", "Y")


@st.composite
def laws(draw, labels=LABELS, tail=True, abstain=True):
    names = draw(st.lists(st.sampled_from(labels), unique=True, max_size=len(labels)))
    raw = [draw(st.integers(0, 10)) for _ in range(1 + len(names) + 2)]
    if not tail:
        raw[-2] = 0
    if not abstain:
        raw[-1] = 0
    if sum(raw) == 0:
        raw[0] = 1
    total = sum(raw)
    p = [x / total for x in raw]
    wrong = dict(zip(names, p[1 : 1 + len(names)]))
    correct = 1.0 - sum(p[1:])
    return AnswerLaw(max(correct, 0.0), wrong, p[-2], p[-1])


@st.composite
def pools(draw, min_size=1, labels=LABELS):
    names = draw(st.lists(st.sampled_from(labels), unique=True, max_size=len(labels)))
    c = draw(st.integers(0, 3))
    wrong = {n: draw(st.integers(0, 3)) for n in names}
    t = draw(st.integers(0, 2))
    a = draw(st.integers(0, 2))
    size = c + sum(wrong.values()) + t + a
    if size < min_size:
        c += min_size - size
    return LoggedPool(c, wrong, t, a)
