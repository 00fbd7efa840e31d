"""GSM8K-style final numbers.

The extractor looks, in order of how explicit the model was, for the last

1. ``#### X`` (GSM8K's own reference format),
2. ``"answer": "..."`` (a JSON answer field, as asked by ZeroEval-style prompts),
3. ``\\boxed{X}``,
4. "the (final) answer is X" / "answer: X",

and otherwise takes the last number in the text. Inside the chosen span the
last number wins ("$18 per day" -> 18, "16 - 3 - 4 = 9" -> 9). Numbers are
normalised: thousands separators, currency and units dropped, ``18.00`` ->
``18``, ``0.50`` -> ``0.5``, ``3/4`` -> ``0.75``, percentages keep the number
(``25%`` -> ``25``).

Numbers are compared numerically with a relative tolerance: ``a`` equals ``r``
when ``|a - r| <= REL_TOL * max(|a|, |r|, 1)`` with ``REL_TOL = 1e-12``. A
program's float print such as ``5.000000000000002`` (binary rounding, about
1e-16 relative; a chain of float operations stays far below 1e-12) therefore
equals ``5``, while any difference a person would write (``0.33`` against
``1/3``, ``18.5`` against ``18``, a cent on a billion) stays a difference.
For the same reason a decimal printed with 15 or more significant digits is
normalised to 12 significant digits (``0.30000000000000004`` -> ``0.3``), so
that equal float prints are one label when answers are counted; integers are
never rounded.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from fractions import Fraction

from muxsim.answers.fields import answer_field
from muxsim.answers.math import REL_TOL, extract_boxed

#: a decimal with at least this many significant digits is a float print ...
_FLOAT_PRINT_DIGITS = 15
#: ... and is rounded to this many
_KEEP_DIGITS = 12

# a number: optional sign, digits with optional thousands commas, optional decimals,
# or a bare decimal like .5; then an optional /denominator (a fraction)
_NUM = r"-?(?:\d{1,3}(?:,\d{3})+|\d+)(?:\.\d+)?|-?\.\d+"
_NUM_RE = re.compile(rf"(?<![\w.])({_NUM})(?:\s*/\s*(\d+(?:\.\d+)?))?(?![\d])")
_HASH_RE = re.compile(r"####\s*([^\n]*)")
_PHRASE_RE = re.compile(
    r"(?:final\s+answer|the\s+answer|answer)\s*(?:is|=|:)\s*:?\s*([^\n]*)", re.I
)


def normalise_number(s: str) -> str | None:
    """Canonical string for a numeric token ("1,250.00" -> "1250", "3/4" -> "0.75").

    Returns None when ``s`` holds no number.
    """
    m = _NUM_RE.search(s.replace("\u2212", "-"))
    if m is None:
        return None
    return _canon(m.group(1), m.group(2))


def _canon(num: str, den: str | None) -> str | None:
    try:
        v = Decimal(num.replace(",", ""))
        if den is not None:
            d = Decimal(den)
            if d == 0:
                return None
            q = Fraction(v) / Fraction(d)
            v = Decimal(q.numerator) / Decimal(q.denominator)
    except InvalidOperation:
        return None
    if v == v.to_integral_value():
        return str(int(v))
    digits = v.as_tuple().digits
    if len(digits) >= _FLOAT_PRINT_DIGITS:
        v = v.quantize(Decimal(1).scaleb(v.adjusted() - _KEEP_DIGITS + 1))
        if v == v.to_integral_value():
            return str(int(v))
    return format(v.normalize(), "f")


def _last_number(span: str) -> str | None:
    span = span.replace("\u2212", "-")
    # "2 + 3 = 5" style: the result after the last '=' is the answer
    found = list(_NUM_RE.finditer(span))
    if not found:
        return None
    m = found[-1]
    return _canon(m.group(1), m.group(2))


def extract_gsm8k(text: str) -> str | None:
    """The final number of a GSM8K solution, normalised; None when there is none."""
    if not text or not text.strip():
        return None
    hashes = _HASH_RE.findall(text)
    if hashes:
        v = _first_number(hashes[-1])
        if v is not None:
            return v
    field = answer_field(text)
    if field is not None:
        v = _field_number(field)
        if v is not None:
            return v
    boxed = extract_boxed(text)
    if boxed is not None:
        v = _last_number(boxed.replace("\\!", "").replace("{,}", ","))
        if v is not None:
            return v
    phrases = _PHRASE_RE.findall(text)
    for span in reversed(phrases):
        v = _first_number(span)
        if v is not None:
            return v
    return _last_number(text)


def _first_number(span: str) -> str | None:
    m = _NUM_RE.search(span.replace("\u2212", "-").replace("$", ""))
    if m is None:
        return None
    return _canon(m.group(1), m.group(2))


def _field_number(raw: str) -> str | None:
    # an answer field is short: "$18", "18 eggs", "2 + 3 = 5", "-10000", "1,250.50"
    raw = raw.replace("$", "")
    if "=" in raw:
        raw = raw.rsplit("=", 1)[1]
    return _first_number(raw)


def gsm8k_equal(answer: str, reference: str) -> bool:
    """Numeric equality of two answers after normalisation, to a relative ``REL_TOL`` (1e-12).

    >>> gsm8k_equal("5.000000000000002", "5"), gsm8k_equal("18.5", "18")
    (True, False)
    """
    a = normalise_number(answer)
    r = normalise_number(reference)
    if a is None or r is None:
        return False
    da, dr = Decimal(a), Decimal(r)
    return abs(da - dr) <= REL_TOL * max(abs(da), abs(dr), Decimal(1))
