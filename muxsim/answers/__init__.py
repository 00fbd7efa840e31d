"""Answer extraction and grading: pure functions over strings, no I/O.

Each ``extract_*`` returns a normalised answer string, or ``None`` for "no
answer" (nothing recognisable in the text). Each ``*_equal`` compares a
normalised answer with a reference answer. ``extract`` and ``grade`` dispatch
on a task name from :data:`TASKS`.

>>> extract("gsm8k", "She pays $1,250.00 in total.\\n#### 1,250")
'1250'
>>> extract("math", r"so the answer is $\\boxed{\\dfrac{1}{2}}$.")
'\\\\frac{1}{2}'
>>> extract("mc", 'Therefore the answer is (C).')
'C'
>>> grade("math", r"\\frac{1}{2}", "0.5")
True
"""

from __future__ import annotations

from typing import Callable

from muxsim.answers.choice import choice_equal, extract_choice
from muxsim.answers.fields import answer_field
from muxsim.answers.gsm8k import extract_gsm8k, gsm8k_equal, normalise_number
from muxsim.answers.math import extract_boxed, extract_math, math_equal, normalise_latex
from muxsim.answers.verify import DEFAULT_TIMEOUT_S, GradingError, GradingTimeout
from muxsim.errors import MuxsimError

__all__ = [
    "DEFAULT_TIMEOUT_S",
    "GradingError",
    "GradingTimeout",
    "TASKS",
    "answer_field",
    "choice_equal",
    "extract",
    "extract_boxed",
    "extract_choice",
    "extract_gsm8k",
    "extract_math",
    "grade",
    "gsm8k_equal",
    "math_equal",
    "normalise_latex",
    "normalise_number",
]

#: task name -> (extractor, equality)
TASKS: dict[str, tuple[Callable[..., str | None], Callable[[str, str], bool]]] = {
    "gsm8k": (extract_gsm8k, gsm8k_equal),
    "math": (extract_math, math_equal),
    "mc": (extract_choice, choice_equal),
}


def _task(task: str) -> tuple[Callable[..., str | None], Callable[[str, str], bool]]:
    if task not in TASKS:
        raise MuxsimError(f"task={task!r} is not one of {sorted(TASKS)}")
    return TASKS[task]


def extract(task: str, text: str, **kw: object) -> str | None:
    """Extract the normalised answer of ``task`` from model ``text`` (None: no answer)."""
    if not isinstance(text, str):
        raise MuxsimError(f"text={text!r} must be a string")
    return _task(task)[0](text, **kw)


def grade(
    task: str, answer: str | None, reference: str | None, *, timeout_s: float = DEFAULT_TIMEOUT_S
) -> bool | None:
    """True/False when both are present; None when there is no reference.

    A missing answer (None) with a reference grades False: "no answer" is wrong,
    never dropped from the denominator. A MATH comparison that math-verify
    cannot decide within ``timeout_s`` seconds raises :class:`GradingTimeout`
    (in any thread); a failed one raises :class:`GradingError`: an undecided
    comparison is never silently graded.
    """
    eq = _task(task)[1]
    if reference is None:
        return None
    if answer is None:
        return False
    if task == "math":
        return bool(math_equal(answer, reference, timeout_s=timeout_s))
    return bool(eq(answer, reference))
