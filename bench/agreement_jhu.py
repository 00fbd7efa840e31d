"""Agreement of muxsim's multiple-choice extraction with the letters logged by
the jhu-llm-temperature study (Renze & Guven 2024; BSD-2) at T = 0.7.

For every raw response in tests/data/jhu-llm-temperature/responses, extract the
letter with ``extract_choice(text, action_only=True)`` (their prompt asks for an
``Action: Answer("X")``) and compare it with ``Answer i`` (i = Response ID + 1)
of the matching details CSV row; empty cells are "no answer".

Usage: python bench/agreement_jhu.py [--data DIR] [--examples N]
Last line: ``agreement: <p>% of <n> samples``.
"""

from __future__ import annotations

import argparse
import csv
import gzip
from collections import Counter, defaultdict
from pathlib import Path

from muxsim.answers import extract_choice

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "jhu-llm-temperature"


def cause(mine: str, logged: str, text: str) -> str:
    if logged and logged not in "ABCDE":
        return "logged value is no letter A-E: the first character of a non-letter action such as Answer(\"None of the above\") or Answer(\"300\")"
    if mine and not logged:
        return "several letters in one action, e.g. Answer(\"A\", \"C\"): the study logged no answer, muxsim takes the first"
    if logged and not mine:
        return "logged a letter where the action names none"
    return "both letters, different: the study took another action occurrence"


def compare(data: Path) -> tuple[dict[str, tuple[int, int]], dict[str, list[tuple[str, str, str, str]]]]:
    per_model: dict[str, tuple[int, int]] = {}
    causes: dict[str, list[tuple[str, str, str, str]]] = defaultdict(list)
    files = sorted((data / "responses").glob("*__temp-0.7.csv.gz"))
    if not files:
        raise SystemExit(f"no responses in {data / 'responses'}")
    for f in files:
        model = f.name.split("__", 1)[0]
        with gzip.open(data / "details" / f"{model}__temp-0.7.csv.gz", "rt", encoding="utf-8") as fh:
            details = {row["Problem ID"]: row for row in csv.DictReader(fh)}
        n = agree = 0
        with gzip.open(f, "rt", encoding="utf-8") as fh:
            for row in csv.DictReader(fh):
                logged = details[row["Problem ID"]][f"Answer {int(row['Response ID']) + 1}"].strip()
                mine = extract_choice(row["Text"], action_only=True) or ""
                n += 1
                if mine == logged:
                    agree += 1
                else:
                    where = f"{model} problem {row['Problem ID']} response {row['Response ID']}"
                    causes[cause(mine, logged, row["Text"])].append((where, mine, logged, row["Text"][-160:]))
        per_model[model] = (n, agree)
    return per_model, causes


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--examples", type=int, default=2, help="examples shown per cause")
    args = ap.parse_args(argv)
    per_model, causes = compare(args.data)
    for model, (n, a) in per_model.items():
        print(f"{model:32s} {n:5d} samples  {100 * a / n:6.2f}% agree")
    print("disagreements by cause:")
    for c, rows in sorted(causes.items(), key=lambda kv: -len(kv[1])):
        print(f"  {len(rows):4d}  {c}")
        for where, mine, logged, tail in rows[: args.examples]:
            print(f"        {where}: muxsim={mine or None!r} logged={logged or None!r} ...{tail[-90:]!r}")
    n = sum(v[0] for v in per_model.values())
    a = sum(v[1] for v in per_model.values())
    print(f"agreement: {100 * a / n:.2f}% of {n} samples")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
