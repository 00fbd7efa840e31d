"""MATH-style answers: the last ``\\boxed{...}``, LaTeX normalisation, equivalence.

Extraction takes the ``answer`` field of a JSON object when the text has one
(structured-output prompts), else the last ``\\boxed{...}`` (or ``\\fbox{...}``)
with balanced braces, else the span after "final answer is" / "the answer is"
(dollar-delimited or to the end of the line). Normalisation is deliberately
light and purely textual (so the normalised string is still the model's
answer): ``\\left``/``\\right``, ``\\!``/``\\,`` spacing, ``\\dfrac``/``\\tfrac``,
``^\\circ``, ``\\%``, surrounding ``$`` and a trailing period are removed;
whitespace is squeezed but kept where it separates two letters or digits
(removing it would change the meaning: ``2^3 5`` is 40, ``2^35`` is not);
units after a bare number are dropped (``1152 cups of flour`` -> ``1152``).
Equivalence: equal strings after normalisation, else two plain numbers
compared to a relative 1e-12, else math-verify (sympy underneath) with a
timeout that holds in any thread (:mod:`muxsim.answers.verify`):
``\\frac{1}{2}`` equals ``0.5``, ``(1, 2)`` equals ``\\left(1,2\\right)``.
"""

from __future__ import annotations

import re
from decimal import Decimal

from muxsim.answers.fields import answer_field
from muxsim.answers.verify import DEFAULT_TIMEOUT_S, verify_latex

#: relative tolerance for two plain numbers (the same as GSM8K's, see muxsim.answers.gsm8k)
REL_TOL = Decimal("1e-12")

_BOX_RE = re.compile(r"\\(?:boxed|fbox)\s*")
_PHRASE_RE = re.compile(r"(?:final answer|the answer)\s*(?:is|:)\s*:?\s*", re.I)


def _braced(text: str, start: int) -> str | None:
    """Content of the brace group opening at ``text[start]`` ('{'), or None if unbalanced."""
    depth = 0
    for i in range(start, len(text)):
        c = text[i]
        if c == "{":
            depth += 1
        elif c == "}":
            depth -= 1
            if depth == 0:
                return text[start + 1 : i]
    return None


def extract_boxed(text: str) -> str | None:
    """Content of the last ``\\boxed{...}`` in ``text`` (None when absent or unbalanced).

    ``\\boxed 5`` (no braces) yields ``5``.
    """
    for m in reversed(list(_BOX_RE.finditer(text))):
        j = m.end()
        if j < len(text) and text[j] == "{":
            inner = _braced(text, j)
            if inner is not None:
                return inner.strip()
        elif j < len(text):
            tok = re.match(r"[^\s$]+", text[j:])
            if tok and m.group(0).endswith(" ") or tok and not text[j].isalpha():
                return tok.group(0).strip()
    return None


_REPLACE = [
    ("\\left", ""),
    ("\\right", ""),
    ("\\!", ""),
    ("\\,", ""),
    ("\\;", ""),
    ("\\:", ""),
    ("\\dfrac", "\\frac"),
    ("\\tfrac", "\\frac"),
    ("^\\circ", ""),
    ("^{\\circ}", ""),
    ("\\%", ""),
    ("\\$", ""),
    ("\\displaystyle", ""),
]

# a space that separates nothing: not between two letters/digits
_IDLE_SPACE_RE = re.compile(r" (?![A-Za-z0-9])|(?<![A-Za-z0-9]) ")
_NUMBER = r"-?\d[\d,]*(?:\.\d+)?"
# words after a number: "1152 cups of flour", "30 degrees", "5\text{cm}", "4\text{cm}^2"
_UNITS_RE = re.compile(
    rf"({_NUMBER})(?: ((?:[A-Za-z]{{2,}}\.? ?)+)|\\(?:text|textbf|mbox|mathrm)\{{ ?([A-Za-z][A-Za-z .]+)\}})(?:\^(?:\d|\{{\d\}}))?"
)
# words that are mathematics, not units: never dropped
_MATH_WORDS = {"pi", "sqrt", "sin", "cos", "tan", "cot", "sec", "csc", "log", "ln", "exp", "inf", "infty",
               "infinity", "mod", "pmod", "and", "or", "i", "e"}


def normalise_latex(s: str) -> str:
    r"""Light textual normalisation of a LaTeX answer (see module docstring).

    Whitespace is squeezed, not removed: a space stays where it separates two
    letters or digits (``2^3 5`` is not ``2^35``, ``\\pi r`` is not ``\\pir``).
    Words or ``\\text{...}`` after a bare number are units and are dropped
    (``1152 cups of flour`` -> ``1152``), unless a word is mathematics (``pi``).

    >>> normalise_latex(r"\left( 3, \dfrac{\pi}{2} \right)")
    '(3,\\frac{\\pi}{2})'
    >>> normalise_latex("2^3 5"), normalise_latex("1152 cups of flour.")
    ('2^3 5', '1152')
    """
    s = s.strip()
    for a, b in _REPLACE:
        s = s.replace(a, b)
    s = s.strip().strip("$").strip()
    s = re.sub(r"\\text\{\s*\}", "", s)
    s = re.sub(r"(?<!\\)\\ ", " ", s)  # "\ " is a space
    s = re.sub(r"\s+", " ", s).strip()
    s = _IDLE_SPACE_RE.sub("", s)
    s = re.sub(r"(\\[A-Za-z]+) (?![A-Za-z])", r"\1", s)  # "\neq 2": TeX ignores a space after a command
    s = s.rstrip(".").rstrip()
    m = _UNITS_RE.fullmatch(s)
    if m:
        words = (m.group(2) or m.group(3) or "").replace(".", " ").lower().split()
        if words and not any(w in _MATH_WORDS for w in words):
            s = m.group(1)
    return s


def extract_math(text: str) -> str | None:
    """Normalised final answer of a MATH solution; None when there is none.

    The ``answer`` field of a JSON object (:func:`~muxsim.answers.fields.answer_field`)
    comes first: its ``\\boxed{}`` or its ``$...$`` if it has one, else its text.
    Then the last ``\\boxed{}``, then "the (final) answer is ...".
    """
    if not text or not text.strip():
        return None
    field = answer_field(text)
    if field is not None:
        inner = extract_boxed(field)
        if inner is None:
            m = re.search(r"\$+(.+?)\$+", field, re.S)
            inner = m.group(1) if m else field
        out = normalise_latex(inner)
        if out:
            return out
    boxed = extract_boxed(text)
    if boxed is None:
        found = list(_PHRASE_RE.finditer(text))
        if not found:
            return None
        rest = text[found[-1].end() :]
        m = re.match(r"\$+(.+?)\$+", rest, re.S)
        boxed = m.group(1) if m else rest.split("\n", 1)[0]
    out = normalise_latex(boxed)
    return out or None


_PLAIN_NUMBER_RE = re.compile(r"-?(?:\d+(?:\.\d*)?|\.\d+)")
_THOUSANDS_SPACED_RE = re.compile(r"-?\d{1,3}(?: \d{3})+(?:\.\d+)?")


def _plain_number(s: str) -> Decimal | None:
    return Decimal(s) if _PLAIN_NUMBER_RE.fullmatch(s) else None


def _sqrt_calls(s: str) -> str:
    """``sqrt(193)`` (plain-text answers) -> ``\\sqrt{193}``, with balanced parentheses."""
    out, i = [], 0
    for m in re.finditer(r"(?<![\\A-Za-z])sqrt\(", s):
        if m.start() < i:
            continue
        depth, j = 1, m.end()
        while j < len(s) and depth:
            depth += {"(": 1, ")": -1}.get(s[j], 0)
            j += 1
        if depth:
            break
        out.append(s[i : m.start()] + "\\sqrt{" + s[m.end() : j - 1] + "}")
        i = j
    out.append(s[i:])
    return "".join(out)


def for_math_verify(s: str) -> str:
    """A normalised answer as math-verify should read it.

    A space left between two numbers is a product (``2^3 5`` -> ``2^3\\cdot5``;
    math-verify would read ``11 13`` as the mixed number 11 + 13), except digit
    groups of a thousands separator (``1 000 000``). Plain-text ``sqrt(x)`` and
    ``pi`` become ``\\sqrt{x}`` and ``\\pi``.
    """
    if _THOUSANDS_SPACED_RE.fullmatch(s):
        return s.replace(" ", "")
    s = re.sub(r"(?<=\d) (?=\d)", r"\\cdot ", s)
    s = _sqrt_calls(s)
    s = re.sub(r"(?<![\\A-Za-z])pi(?![A-Za-z])", r"\\pi ", s)
    return s


def math_equal(answer: str, reference: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """Mathematical equivalence of two LaTeX answers.

    Equal normalised strings are equal; two plain numbers are compared
    numerically with the GSM8K tolerance (:data:`muxsim.answers.gsm8k.REL_TOL`,
    so ``5.000000000000002`` equals ``5``); anything else is decided by
    math-verify in a helper process within ``timeout_s`` seconds
    (:func:`muxsim.answers.verify.verify_latex`), which raises
    :class:`~muxsim.answers.verify.GradingTimeout` past it: an undecided
    comparison is neither right nor wrong.
    """
    a, r = normalise_latex(answer), normalise_latex(reference)
    if not a or not r:
        return False
    if a == r:
        return True
    na, nr = _plain_number(a), _plain_number(r)
    if na is not None and nr is not None:
        return abs(na - nr) <= REL_TOL * max(abs(na), abs(nr), Decimal(1))
    return verify_latex(for_math_verify(a), for_math_verify(r), timeout_s=timeout_s)
