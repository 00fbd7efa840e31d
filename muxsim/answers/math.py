"""MATH-style answers: the last ``\\boxed{...}``, LaTeX normalisation, equivalence.

Extraction takes the last ``\\boxed{...}`` (or ``\\fbox{...}``) with balanced
braces; when there is none, the span after "final answer is" / "the answer is"
(dollar-delimited or to the end of the line). Normalisation is deliberately
light and purely textual (so the normalised string is still the model's
answer): ``\\left``/``\\right``, ``\\!``/``\\,`` spacing, ``\\dfrac``/``\\tfrac``,
``^\\circ``, ``\\%``, surrounding ``$``, a trailing period and spaces are removed.
Equivalence is decided by math-verify (sympy underneath): ``\\frac{1}{2}`` equals
``0.5``, ``(1, 2)`` equals ``\\left(1,2\\right)``; exact string equality after
normalisation is checked first.
"""

from __future__ import annotations

import re
import threading

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


def normalise_latex(s: str) -> str:
    """Light textual normalisation of a LaTeX answer (see module docstring)."""
    s = s.strip()
    for a, b in _REPLACE:
        s = s.replace(a, b)
    s = s.strip().strip("$").strip()
    s = re.sub(r"\\text\{\s*\}", "", s)
    s = re.sub(r"\s+", "", s)
    s = s.rstrip(".")
    return s


def extract_math(text: str) -> str | None:
    """Normalised final answer of a MATH solution; None when there is none."""
    if not text or not text.strip():
        return None
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


def _mv():
    from math_verify import parse, verify

    return parse, verify


def math_equal(answer: str, reference: str) -> bool:
    """Mathematical equivalence of two LaTeX answers (math-verify, sympy)."""
    a, r = normalise_latex(answer), normalise_latex(reference)
    if not a or not r:
        return False
    if a == r:
        return True
    parse, verify = _mv()
    # math-verify's timeouts use SIGALRM, which only the main thread may set
    main = threading.current_thread() is threading.main_thread()
    t = 5 if main else None
    gold = parse(f"${r}$", parsing_timeout=t)
    pred = parse(f"${a}$", parsing_timeout=t)
    if not gold or not pred:
        return False
    return bool(verify(gold, pred, timeout_seconds=t))
