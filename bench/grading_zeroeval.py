"""Grade ZeroEval's GSM8K outputs of ten open models with muxsim.answers and
compare per-model accuracy with ZeroEval's published table.

Data: tests/data/zeroeval-gsm (Apache-2.0, ZeroEval; greedy outputs on the 1,319
GSM8K test questions, and ZeroEval's own gsm.summary.md).

Usage: python bench/grading_zeroeval.py [--data DIR] [--show-diffs N]
Last line: ``max |acc - ZeroEval|: <x> points``.

Columns: ``acc`` (muxsim), ``ZeroEval`` (published), ``strict`` (the same
outputs graded by the stricter first-token rule of the JSON answer field, which
is what ZeroEval's table reflects). ``--causes`` lists, per model, the questions
muxsim grades right and the strict rule wrong, grouped by cause, with ids.

Accuracy here counts a question as correct when the number extracted from the
raw output by ``muxsim.answers.extract_gsm8k`` equals the gold number; a
missing answer counts as wrong (the denominator is always 1,319).
"""

from __future__ import annotations

import argparse
import gzip
import json
import re
import sys
from pathlib import Path

from muxsim.answers import extract_gsm8k, grade, normalise_number

DATA = Path(__file__).resolve().parent.parent / "tests" / "data" / "zeroeval-gsm"


def published(summary: Path) -> dict[str, tuple[float, float]]:
    """model -> (accuracy %, no-answer %) from ZeroEval's markdown table."""
    out: dict[str, tuple[float, float]] = {}
    for line in summary.read_text(encoding="utf-8").splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= 4 and cells[1] == "greedy":
            out[cells[0]] = (float(cells[2]), float(cells[3]))
    if not out:
        raise SystemExit(f"{summary}: no 'greedy' rows found")
    return out


def output_text(rec: dict) -> str:
    out = rec["output"]
    if isinstance(out, list):
        if len(out) != 1:
            raise SystemExit(f"{rec['id']}: expected one output, got {len(out)}")
        out = out[0]
    return out


_FIELD_RE = re.compile(r'"answer"\s*:\s*"((?:[^"\\]|\\.)*)"')


def strict_field(text: str) -> str | None:
    """The stricter rule ZeroEval's table reflects, as we understand it (a fact, not
    their code): the JSON ``answer`` field, ``$`` removed, first whitespace token,
    commas removed; anything but a plain number there is wrong."""
    fields = _FIELD_RE.findall(text)
    if not fields:
        return None
    tok = fields[-1].replace("$", "").strip().split(" ")[0].replace(",", "").rstrip(".")
    return tok if re.fullmatch(r"-?\d+(?:\.\d+)?", tok) else None


def why(text: str) -> str:
    """Why muxsim finds a right answer that the strict field rule misses."""
    fields = _FIELD_RE.findall(text)
    if not fields:
        return "no quoted JSON answer field (e.g. 'Answer: \"83\"' or an unquoted number)"
    f = fields[-1]
    if "=" in f:
        return "answer field is an equation; the result follows the last '='"
    if "%" in f:
        return "answer field carries a unit sign (25%, \u20ac77)"
    return "answer field is a sentence or has text before the number"


def grade_file(path: Path) -> dict:
    rows = [json.loads(line) for line in gzip.open(path, "rt", encoding="utf-8")]
    n = len(rows)
    correct = no_answer = 0
    wrong: list[tuple[str, str | None, str]] = []
    strict_correct = 0
    causes: dict[str, list[str]] = {}
    for rec in rows:
        gold = normalise_number(rec["answer"].lstrip("#").strip())
        if gold is None:
            raise SystemExit(f"{path}:{rec['id']}: gold answer {rec['answer']!r} is not a number")
        ans = extract_gsm8k(output_text(rec))
        if ans is None:
            no_answer += 1
        ok = grade("gsm8k", ans, gold)
        correct += bool(ok)
        if not ok:
            wrong.append((rec["id"], ans, gold))
        st = strict_field(output_text(rec))
        st_ok = st is not None and grade("gsm8k", st, gold)
        strict_correct += bool(st_ok)
        if ok and not st_ok:
            causes.setdefault(why(output_text(rec)), []).append(rec["id"])
    return {
        "n": n,
        "acc": 100.0 * correct / n,
        "no_answer": 100.0 * no_answer / n,
        "strict": 100.0 * strict_correct / n,
        "wrong": wrong,
        "causes": causes,
    }


def table_name(stem: str) -> str:
    return stem.split("@", 1)[0]


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", type=Path, default=DATA)
    ap.add_argument("--causes", action="store_true", help="list why muxsim and the strict rule differ, by example")
    args = ap.parse_args(argv)
    pub = published(args.data / "gsm.summary.md")
    files = sorted(args.data.glob("*.jsonl.gz"))
    if not files:
        print(f"no *.jsonl.gz in {args.data}", file=sys.stderr)
        return 2
    print(f"{'model':32s} {'n':>5s} {'acc':>7s} {'ZeroEval':>9s} {'diff':>6s} {'no-ans':>7s} {'ZE no-ans':>9s} {'strict':>7s}")
    worst = 0.0
    for f in files:
        stem = f.name[: -len(".jsonl.gz")]
        name = table_name(stem)
        if name not in pub:
            print(f"{stem}: not in ZeroEval's table", file=sys.stderr)
            return 2
        r = grade_file(f)
        ze_acc, ze_na = pub[name]
        d = r["acc"] - ze_acc
        worst = max(worst, abs(d))
        print(f"{stem:32s} {r['n']:5d} {r['acc']:7.2f} {ze_acc:9.2f} {d:+6.2f} {r['no_answer']:7.2f} {ze_na:9.2f} {r['strict']:7.2f}")
        if args.causes:
            for cause, ids in sorted(r["causes"].items()):
                print(f"    +{len(ids):3d} {cause}; e.g. {', '.join(ids[:3])}")
    print(f"max |acc - ZeroEval|: {worst:.2f} points")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
