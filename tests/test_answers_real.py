"""Answer extraction on real model text bundled in tests/data (see the LICENSE files)."""

import importlib.util
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def _bench(name):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_zeroeval_gsm8k_close_to_published():
    """Per-model accuracy within 1 point of ZeroEval's table, except the models whose
    gap is fully explained by ZeroEval's stricter answer-field rule (see
    bench/grading_zeroeval.py --causes): for those, muxsim's gain over the strict
    rule must account for the gap."""
    ze = _bench("grading_zeroeval")
    pub = ze.published(ze.DATA / "gsm.summary.md")
    for f in sorted(ze.DATA.glob("*.jsonl.gz")):
        name = ze.table_name(f.name[: -len(".jsonl.gz")])
        r = ze.grade_file(f)
        acc, _ = pub[name]
        assert r["n"] == 1319
        gap = r["acc"] - acc
        if abs(gap) > 1.0:
            # every extra question muxsim gets right is one the strict rule misses
            assert gap > 0, (name, gap)
            # the strict rule lands within 1.5 points (Phi-3.5: ZeroEval also failed to
            # parse 1.21% of its malformed JSON, which the strict regex still reads)
            assert abs(r["strict"] - acc) <= 1.5, (name, r["strict"], acc)
    # the models within target
    within = [f for f in ze.DATA.glob("*.jsonl.gz")]
    assert len(within) == 10


def test_jhu_letters_agree_with_logged_answers():
    jhu = _bench("agreement_jhu")
    per_model, causes = jhu.compare(jhu.DATA)
    n = sum(v[0] for v in per_model.values())
    a = sum(v[1] for v in per_model.values())
    assert n > 8000
    assert a / n >= 0.98, (a, n)
    assert sum(len(v) for v in causes.values()) == n - a
