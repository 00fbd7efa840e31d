"""Multiple-choice letters A-E in their common forms.

Recognised, the most explicit form first (the last occurrence of a form wins):

1. the ``answer`` field of a JSON object, ``{"reasoning": "...", "answer": "C"}``
   (also ``"(C)"``, ``"C: 4m"``, ``"Option C"``; see :mod:`muxsim.answers.fields`),
2. ``Answer("C")`` / ``Action: Answer("C")`` (the jhu-llm-temperature agent format),
3. ``\\boxed{C}``,
4. "the (correct/final) answer is (C)", "Answer: C", "answer is option C",
   "the answer is C: 4m",
5. a reply (or its last non-empty line) that is only a letter: ``C``, ``(C)``,
   ``C)``, ``C.``, ``**C**``.

Letters beyond ``letters`` (default "ABCDE") are not answers.

``action_only=True`` is the agent-protocol reading: only an ``Answer("X")``
action counts, and the first one wins (an agent acts once; text after its
first action is not its decision). ``Answer("C: 4m")`` and ``Answer("(C)")``
count as C; ``Answer("None of the above")`` and ``Answer("400")`` name no letter.
This is how the jhu-llm-temperature logs were scored (their prompt asks for
that action), so it is the mode to compare with those logs.
"""

from __future__ import annotations

import re

from muxsim.answers.fields import answer_field
from muxsim.errors import MuxsimError


def _check_letters(letters: str) -> None:
    if not letters or not letters.isalpha() or not letters.isupper() or len(set(letters)) != len(letters):
        raise MuxsimError(f"letters={letters!r} must be distinct upper-case letters, e.g. 'ABCDE'")


def extract_choice(text: str, letters: str = "ABCDE", *, action_only: bool = False) -> str | None:
    """The chosen letter, or None when the text names none."""
    _check_letters(letters)
    if not text or not text.strip():
        return None
    L = f"[{letters}]"
    if action_only:
        m = re.search(r"Answer\(\s*[\"'\u201c\u201d]?\s*\(?\s*(\w)(?:\)|(?=\W))", text)
        if m and m.group(1) in letters:
            return m.group(1)
        return None
    field = answer_field(text)
    if field is not None:
        m = re.fullmatch(
            rf"[\*\"'(\[\s]*(?:(?i:option|choice|answer)\s*:?\s*)?\(?({L})(?:[\s.:)\]*].*)?", field, re.S
        )
        if m:
            return m.group(1)
    forms = [
        rf"Answer\(\s*[\"'\u201c\u201d]?\s*\(?({L})(?:\)|(?=[\W_]))",
        rf"\\boxed\{{\s*(?:\\text\{{)?\s*\(?({L})\)?",
        rf"(?:correct|final|best)?\s*(?:answer|choice|option)\s*(?:is|would be|:)\s*:?\s*"
        rf"(?:option|choice|answer)?\s*[\*\"'(\[]*\s*({L})(?![A-Za-z])",
    ]
    for pat in forms:
        found = re.findall(pat, text, flags=re.I if pat is forms[2] else 0)
        found = [f for f in found if f in letters]
        if found:
            return found[-1]
    # a reply, or its last non-empty line, that is only a letter: "C", "(C)", "**C**", "C."
    last = [ln for ln in text.splitlines() if ln.strip()][-1]
    m = re.fullmatch(rf"\s*[\*\"'(\[]*\s*({L})\s*[)\].:]?\s*[\*\"']*\s*", last)
    if m:
        return m.group(1)
    return None


def choice_equal(answer: str, reference: str) -> bool:
    """Same letter (case and surrounding spaces ignored)."""
    return answer.strip().upper() == reference.strip().upper()
