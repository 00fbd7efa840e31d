"""The character-level tokenizer: pure-Python mapping, HF files, agreement with `tokenizers`."""

import json

import pytest

from real_runs.testbed import tokenizer as tok
from real_runs.testbed.tasks import ALPHABET, TestbedError, held_out


def test_every_digit_is_one_token():
    ids = tok.encode("Q: 37+48=? A: 85")
    assert len(ids) == len("Q: 37+48=? A: 85")
    assert tok.decode(ids) == "Q: 37+48=? A: 85"
    digits = [tok.vocab()[d] for d in "0123456789"]
    assert len(set(digits)) == 10


def test_specials_first_and_skipped_on_decode():
    v = tok.vocab()
    assert [v[s] for s in tok.SPECIALS] == [tok.PAD, tok.BOS, tok.EOS, tok.UNK] == [0, 1, 2, 3]
    assert tok.decode(tok.encode(" 85") + [tok.EOS]) == " 85"
    assert tok.decode([tok.EOS], skip_special=False) == "</s>"
    assert tok.encode("x") == [tok.UNK]


def test_files(tmp_path):
    d = tok.save(tmp_path / "t")
    tj = json.loads((d / "tokenizer.json").read_text())
    assert tj["model"]["type"] == "WordLevel" and tj["decoder"] == {"type": "Fuse"}
    assert len(tj["model"]["vocab"]) == len(ALPHABET) + 4
    cfg = json.loads((d / "tokenizer_config.json").read_text())
    assert cfg["eos_token"] == "</s>" and cfg["tokenizer_class"] == "PreTrainedTokenizerFast"


def test_bad_input():
    with pytest.raises(TestbedError):
        tok.vocab("aa")
    with pytest.raises(TestbedError):
        tok.decode([999])


def test_tokenizers_library_agrees(tmp_path):
    tokenizers = pytest.importorskip("tokenizers")
    d = tok.save(tmp_path / "t")
    t = tokenizers.Tokenizer.from_file(str(d / "tokenizer.json"))
    for p in held_out(30, seed=3):
        text = p.prompt + " " + p.answer
        assert t.encode(text).ids == tok.encode(text)
        assert t.decode(tok.encode(text)) == text
    assert t.decode(tok.encode(" 85") + [tok.EOS]) == " 85"


def test_transformers_loads_it(tmp_path):
    transformers = pytest.importorskip("transformers")
    d = tok.save(tmp_path / "t")
    t = transformers.AutoTokenizer.from_pretrained(str(d))
    assert t("Q: 12+34=? A:")["input_ids"] == tok.encode("Q: 12+34=? A:")
    assert t.eos_token_id == tok.EOS and t.pad_token_id == tok.PAD
    assert t.decode(tok.encode(" 46") + [tok.EOS], skip_special_tokens=True) == " 46"
