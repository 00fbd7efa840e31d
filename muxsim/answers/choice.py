"""Multiple-choice letters A-E in their common forms.

Recognised, the most explicit form first (the last occurrence of a form wins):

1. ``Answer("C")`` / ``Action: Answer("C")`` (the jhu-llm-temperature agent format),
2. ``\\boxed{C}``,
3. "the (correct/final) answer is (C)", "Answer: C", "answer is option C",
   "the answer is C: 4m",
4. a reply that is only a letter: ``C``, ``(C)``, ``C)``, ``C.``.

Letters beyond ``letters`` (default "ABCDE") are not answers.
"""

from __future__ import annotations

import re

from muxsim.errors import MuxsimError


def _check_letters(letters: str) -> None:
    if not letters or not letters.isalpha() or not letters.isupper() or len(set(letters)) != len(letters):
        raise MuxsimError(f"letters={letters!r} must be distinct upper-case letters, e.g. 'ABCDE'")


def extract_choice(text: str, letters: str = "ABCDE") -> str | None:
    """The chosen letter, or None when the text names none."""
    _check_letters(letters)
    if not text or not text.strip():
        return None
    L = f"[{letters}]"
    forms = [
        rf"Answer\(\s*[\"'\u201c\u201d]?\s*({L})\s*[\"'\u201c\u201d]?\s*\)",
        rf"\\boxed\{{\s*(?:\\text\{{)?\s*\(?({L})\)?",
        rf"(?:correct|final|best)?\s*(?:answer|choice|option)\s*(?:is|would be|:)\s*:?\s*"
        rf"(?:option|choice|answer)?\s*[\*\"'(\[]*\s*({L})(?![A-Za-z])",
    ]
    for pat in forms:
        found = re.findall(pat, text, flags=re.I if pat is forms[2] else 0)
        found = [f for f in found if f in letters]
        if found:
            return found[-1]
    m = re.fullmatch(rf"\s*[\*\"'(\[]*\s*({L})\s*[)\].:]?\s*[\*\"']*\s*", text)
    if m:
        return m.group(1)
    return None


def choice_equal(answer: str, reference: str) -> bool:
    """Same letter (case and surrounding spaces ignored)."""
    return answer.strip().upper() == reference.strip().upper()
