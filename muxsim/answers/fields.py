r"""The ``answer`` field of a JSON object in model text (structured-output prompts).

Prompts such as ZeroEval's ask for ``{"reasoning": "...", "answer": "42"}``.
Models follow the shape but not always JSON's rules: raw newlines inside
strings, LaTeX backslashes left unescaped (``"\frac{1}{2}"``, whose ``\f`` is
a JSON form feed), a code fence around it, text after it. So the field is read
by a tolerant scanner rather than ``json.loads``:

* the key is ``answer`` or ``final_answer`` (any case, double or single
  quotes); the LAST such field in the text wins;
* a double-quoted value is read to its closing unescaped quote; ``\"``,
  ``\\``, ``\/`` and ``\uXXXX`` are JSON escapes; ``\n``, ``\t``, ``\r``,
  ``\b``, ``\f`` are JSON escapes only when no letter follows (``\frac``,
  ``\times``, ``\neq``, ``\beta`` stay LaTeX commands), and any other
  backslash is kept as written;
* a single-quoted value is read to its closing quote; an unquoted value is a
  number, ``true``/``false``/``null`` excluded;
* an empty value or a template placeholder (``___``, ``...``) is no answer.

>>> answer_field('```json\n{"reasoning": "2+2", "answer": "4"}\n```')
'4'
>>> answer_field(r'{"answer": "\\frac{1}{2}"}')   # JSON-escaped backslash
'\\frac{1}{2}'
>>> answer_field(r'{"answer": "\frac{1}{2}"}')    # unescaped: still LaTeX
'\\frac{1}{2}'
>>> answer_field('{"answer": 42}')
'42'
>>> answer_field("no JSON here") is None
True
"""

from __future__ import annotations

import re

_KEY_RE = re.compile(r"""(["'])(?:final_)?answer\1\s*:\s*""", re.I)
_NUMBER_RE = re.compile(r"-?[\d.,]*\d")
_PLACEHOLDER_RE = re.compile(r"[\s_.\-…]*")
_CONTROL = {"n": "\n", "t": "\t", "r": "\r", "b": " ", "f": " "}


def _double_quoted(text: str, i: int) -> str | None:
    """Unescape the JSON-ish string whose opening quote is at ``text[i - 1]``; None if unterminated."""
    out: list[str] = []
    n = len(text)
    while i < n:
        c = text[i]
        if c == '"':
            return "".join(out)
        if c != "\\" or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        nxt = text[i + 1]
        if nxt in '"\\/':
            out.append(nxt)
            i += 2
        elif nxt == "u" and re.fullmatch(r"[0-9a-fA-F]{4}", text[i + 2 : i + 6]):
            out.append(chr(int(text[i + 2 : i + 6], 16)))
            i += 6
        elif nxt in _CONTROL and not (i + 2 < n and text[i + 2].isalpha()):
            out.append(_CONTROL[nxt])
            i += 2
        else:  # a LaTeX command written without JSON escaping: keep the backslash
            out.append("\\")
            i += 1
    return None


def answer_field(text: str) -> str | None:
    """The value of the last ``answer`` field of a JSON object in ``text`` (see module doc)."""
    for m in reversed(list(_KEY_RE.finditer(text))):
        j = m.end()
        if j >= len(text):
            continue
        if text[j] == '"':
            value = _double_quoted(text, j + 1)
        elif text[j] == "'":
            k = text.find("'", j + 1)
            value = text[j + 1 : k] if k >= 0 else None
        else:
            num = _NUMBER_RE.match(text, j)
            value = num.group(0) if num else None
        if value is None:
            continue
        value = value.strip()
        if _PLACEHOLDER_RE.fullmatch(value):
            continue
        return value
    return None
