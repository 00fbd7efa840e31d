"""Training and the cache (needs torch + transformers: skipped cleanly without them)."""

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from real_runs.testbed import tokenizer as tok  # noqa: E402
from real_runs.testbed.pool import Member, members_from_json  # noqa: E402
from real_runs.testbed.tasks import TaskFamily, TestbedError, held_out  # noqa: E402
from real_runs.testbed.train import encode_batch, ensure_pool, is_trained, model_dir  # noqa: E402


def test_loss_only_on_answer_tokens():
    from real_runs.testbed.tasks import Problem

    ids, mask, lab = encode_batch([(Problem(37, "+", 48), 85), (Problem(5, "*", 3), 15)])
    n_prompt = len("Q: 37+48=? A:")
    assert (lab[0, :n_prompt] == -100).all()
    assert lab[0, n_prompt:].tolist() == tok.encode(" 85") + [tok.EOS]
    assert mask[1].sum() == len("Q: 5*3=? A: 15") + 1
    assert (lab[1][mask[1] == 0] == -100).all()


def test_confused_labels():
    m = Member("m", mix={"-": 1.0}, confuse={"-": "sum"})
    assert m.label(50, "-", 8) == 58 and m.label(50, "+", 8) == 58 and m.label(5, "*", 3) == 15


def test_train_save_and_reuse(tmp_path, caplog):
    fam, held = TaskFamily(), held_out(9, seed=0)
    m = Member("tiny", hidden=32, layers=1, steps=3, batch=8, seed=5)
    out = ensure_pool([m], tmp_path, family=fam, held=held)
    d = model_dir(tmp_path, m, fam, held)
    assert is_trained(d) and out["tiny"]["cached"] is False and out["tiny"]["path"] == str(d.resolve())
    info = json.loads((d / "training.json").read_text())
    assert info["member"]["seed"] == 5 and info["versions"]["torch"] and set(info["greedy_accuracy"]) <= {"+", "-", "*"}
    cfg = json.loads((d / "config.json").read_text())
    assert cfg["head_dim"] == 32 and cfg["eos_token_id"] == tok.EOS
    again = ensure_pool([m], tmp_path, family=fam, held=held)
    assert again["tiny"]["cached"] is True
    # the same seed gives the same weights
    other = tmp_path / "again"
    ensure_pool([m], other, family=fam, held=held)
    from safetensors.torch import load_file

    a = load_file(str(d / "model.safetensors"))
    b = load_file(str(model_dir(other, m, fam, held) / "model.safetensors"))
    assert all(torch.equal(a[k], b[k]) for k in a)


def test_key_changes_with_what_defines_weights():
    fam = TaskFamily()
    m = Member("a", steps=10)
    k = m.key({"x": 1})
    assert Member("a", steps=11).key({"x": 1}) != k and m.key({"x": 2}) != k and Member("a", steps=10).key({"x": 1}) == k
    assert model_dir(__import__("pathlib").Path("/c"), m, fam, held_out(3, seed=0)) != \
        model_dir(__import__("pathlib").Path("/c"), m, fam, held_out(3, seed=1))


def test_member_validation_and_pool_file(tmp_path):
    for bad in (dict(name=""), dict(name="a", hidden=100), dict(name="a", mix={"/": 1}),
                dict(name="a", confuse={"-": "difference"}), dict(name="a", steps=0), dict(name="a", lr=0)):
        with pytest.raises(TestbedError):
            Member(**bad)
    p = tmp_path / "pool.json"
    p.write_text(json.dumps([Member("a", hidden=64).to_dict(), {"name": "b"}]))
    ms = members_from_json(str(p))
    assert [m.name for m in ms] == ["a", "b"] and ms[0] == Member("a", hidden=64)
    p.write_text(json.dumps([{"name": "a", "colour": 1}]))
    with pytest.raises(TestbedError):
        members_from_json(str(p))
