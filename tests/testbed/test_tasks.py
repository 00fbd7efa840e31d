"""The arithmetic task family: answers, difficulty, held-out set, question file."""

import json

import numpy as np
import pytest

from real_runs.testbed.tasks import (OPS, Problem, TaskFamily, TestbedError, difficulty, held_out, max_difficulty,
                                     parse_problem, write_questions)


@pytest.mark.parametrize("a,op,b,ans,d", [
    (37, "+", 48, "85", 1), (99, "+", 99, "198", 2), (10, "+", 20, "30", 0),
    (52, "-", 46, "6", 1), (40, "-", 40, "0", 0), (90, "-", 19, "71", 1),
    (39, "*", 9, "351", 2), (11, "*", 2, "22", 0), (25, "*", 4, "100", 2), (21, "*", 4, "84", 0), (13, "*", 4, "52", 1),
])
def test_answer_and_difficulty(a, op, b, ans, d):
    p = Problem(a, op, b)
    assert p.answer == ans
    assert difficulty(p) == p.difficulty == d
    assert p.prompt == f"Q: {a}{op}{b}=? A:"
    assert parse_problem(p.question) == p


def test_difficulty_matches_column_arithmetic_exhaustively():
    # carries of a + b equal (digit sum of a + digit sum of b - digit sum of a + b) / 9
    ds = lambda n: sum(map(int, str(n)))  # noqa: E731
    for a in range(10, 100):
        for b in range(10, 100, 7):
            assert Problem(a, "+", b).difficulty == (ds(a) + ds(b) - ds(a + b)) // 9
            if a >= b:  # borrows of a - b = carries of (a - b) + b
                assert Problem(a, "-", b).difficulty == Problem(a - b, "+", b).difficulty


@pytest.mark.parametrize("op", OPS)
def test_sample_controls_difficulty(op):
    fam, rng = TaskFamily(), np.random.default_rng(1)
    for d in range(max_difficulty(op, 2) + 1):
        ps = [fam.sample(op, rng, difficulty=d) for _ in range(20)]
        assert all(p.difficulty == d and p.op == op for p in ps)
        assert all(10 <= p.a <= 99 for p in ps)
        assert all((2 <= p.b <= 9) if op == "*" else (10 <= p.b <= p.a if op == "-" else 10 <= p.b <= 99) for p in ps)


def test_held_out_is_fixed_distinct_balanced():
    h1, h2 = held_out(60, seed=0), held_out(60, seed=0)
    assert h1 == h2
    assert len(set(h1)) == 60
    assert [p.op for p in h1[:6]] == ["+", "-", "*", "+", "-", "*"]
    assert held_out(60, seed=1) != h1
    assert held_out(30, seed=0) == h1[:30]


def test_training_draws_avoid_held_out():
    fam, rng = TaskFamily(1), np.random.default_rng(0)  # 1-digit: few problems, so collisions would show
    held = frozenset(held_out(40, seed=0, family=fam, ops=("+",)))
    draws = {fam.sample("+", rng, exclude=held) for _ in range(300)}
    assert not draws & held


def test_write_questions_is_harness_jsonl(tmp_path):
    from real_runs.questions import load_jsonl

    probs = held_out(9, seed=0)
    p = write_questions(tmp_path / "q.jsonl", probs)
    qs = load_jsonl(p)
    assert [q.id for q in qs] == [x.id for x in probs]
    assert [q.reference for q in qs] == [x.answer for x in probs]
    first = json.loads(p.read_text().splitlines()[0])
    assert set(first) == {"id", "question", "answer", "op", "difficulty"}


@pytest.mark.parametrize("call", [
    lambda: Problem(1, "/", 2),
    lambda: Problem(-1, "+", 2),
    lambda: Problem(3, "-", 5),
    lambda: TaskFamily(0),
    lambda: TaskFamily(True),
    lambda: held_out(0, seed=0),
    lambda: held_out(5, seed=0, ops=("^",)),
    lambda: held_out(5, seed=0, ops=()),
    lambda: TaskFamily().sample("+", np.random.default_rng(0), difficulty=3),
    lambda: TaskFamily().sample("-", np.random.default_rng(0), difficulty=2),
    lambda: parse_problem("3 plus 4"),
    lambda: max_difficulty("%", 2),
])
def test_bad_input_raises(call):
    with pytest.raises(TestbedError):
        call()
