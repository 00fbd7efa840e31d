"""Unit tests of muxsim.answers: one table per task, every row a real-world form."""

import pytest

from muxsim.answers import (
    extract,
    extract_boxed,
    extract_choice,
    extract_gsm8k,
    extract_math,
    grade,
    gsm8k_equal,
    math_equal,
    normalise_number,
)
from muxsim.errors import MuxsimError

GSM = [
    ("Natalia sold 48/2 = 24 clips in May.\n#### 72", "72"),
    ("#### 1,250", "1250"),
    ("The answer is $1,250.00.", "1250"),
    ("So she makes 9 * 2 = $18 every day.", "18"),
    ('```json\n{"reasoning": "16 - 3 - 4 = 9 eggs", "answer": "$18"}\n```', "18"),
    ('{"reasoning": "...", "answer": "18 dollars"}', "18"),
    ('{"answer": "3*68 + 2*80 = 204 + 160 = 364"}', "364"),
    ('{"answer": "25%"}', "25"),
    ("The final answer is 0.50 liters.", "0.5"),
    ("Final answer: -10000", "-10000"),
    ("He ran 540 meters in total. The answer is: 540 meters.", "540"),
    (r"Thus the total is $\boxed{2{,}400}$.", "2400"),
    ("Each gets 3/4 of a pizza.", "0.75"),
    ("no numbers here", None),
    ("", None),
]


@pytest.mark.parametrize("text,want", GSM)
def test_gsm8k_extract(text, want):
    assert extract_gsm8k(text) == want


MATH = [
    (r"so $x = \boxed{\dfrac{1}{2}}$.", r"\frac{1}{2}"),
    (r"\boxed{1} then later \boxed{\left( 3, \frac{\pi}{2} \right)}", r"(3,\frac{\pi}{2})"),
    (r"The angle is $\boxed{30^\circ}$", "30"),
    (r"\boxed{\text{(C)}}", r"\text{(C)}"),
    (r"The final answer is $\frac{3}{4}$. I hope it is correct.", r"\frac{3}{4}"),
    (r"unbalanced \boxed{\frac{1}{2}", None),
    ("no answer at all", None),
]


@pytest.mark.parametrize("text,want", MATH)
def test_math_extract(text, want):
    assert extract_math(text) == want


@pytest.mark.parametrize(
    "a,b,eq",
    [
        (r"\frac{1}{2}", "0.5", True),
        (r"(3,\frac{\pi}{2})", r"\left( 3, \frac{\pi}{2} \right)", True),
        (r"\sqrt{2}/2", r"\frac{\sqrt{2}}{2}", True),
        ("2x+1", "1+2x", True),
        (r"\frac{1}{3}", "0.3", False),
        ("5", "6", False),
    ],
)
def test_math_equal(a, b, eq):
    assert math_equal(a, b) is eq


CHOICE = [
    ('Therefore ...\nAction: Answer("C")\n', "C"),
    ("The correct answer is (B).", "B"),
    ("Answer: D", "D"),
    ("the answer is option E: 4.4m", "E"),
    ("**Final answer: A**", "A"),
    (r"$\boxed{B}$", "B"),
    ("C", "C"),
    ("(A)", "A"),
    ("I first thought A. The answer is D.", "D"),
    ("The answer is F.", None),
    ("I cannot tell.", None),
    ("", None),
]


@pytest.mark.parametrize("text,want", CHOICE)
def test_choice_extract(text, want):
    assert extract_choice(text) == want


@pytest.mark.parametrize(
    "text,want",
    [
        ('Action: Answer("C")', "C"),
        ('Action: Answer("C: 4m")', "C"),
        ('Action: Answer("None of the above")', None),
        ('Action: Answer("400")', None),
        ('Action: Answer("A") or Answer("C")', "A"),
        ("The answer is (B).", None),
    ],
)
def test_choice_action_only(text, want):
    assert extract_choice(text, action_only=True) == want


def test_extract_boxed_nested():
    assert extract_boxed(r"\boxed{\frac{a}{b^{2}}}") == r"\frac{a}{b^{2}}"
    assert extract_boxed("none") is None


def test_normalise_number():
    assert normalise_number("1,234.500") == "1234.5"
    assert normalise_number("\u22123") == "-3"
    assert normalise_number("x") is None


def test_grade_rules():
    assert grade("gsm8k", "18", "18.0") is True
    assert grade("gsm8k", None, "18") is False  # no answer is wrong, not dropped
    assert grade("gsm8k", "18", None) is None  # no reference: undefined
    assert grade("mc", "c", "C") is True
    assert gsm8k_equal("0.5", "1/2")


@pytest.mark.parametrize(
    "call",
    [
        lambda: extract("nope", "x"),
        lambda: grade("nope", "1", "1"),
        lambda: extract("gsm8k", None),
        lambda: extract_choice("A", letters="abc"),
        lambda: extract_choice("A", letters="AAB"),
        lambda: extract_choice("A", letters=""),
    ],
)
def test_bad_arguments_raise(call):
    with pytest.raises(MuxsimError):
        call()


def test_extract_dispatch():
    assert extract("gsm8k", "#### 7") == "7"
    assert extract("math", r"\boxed{7}") == "7"
    assert extract("mc", "Answer: B") == "B"
