"""A character-level tokenizer in Hugging Face format, written without any library.

Every character of :data:`~real_runs.testbed.tasks.ALPHABET` is one token
(each digit is its own token); four special tokens come first::

    0 <pad>   1 <s>   2 </s>   3 <unk>   4.. the characters, in ALPHABET order

The files are what ``transformers.AutoTokenizer`` and vLLM load:
``tokenizer.json`` (a ``tokenizers`` WordLevel model behind a pre-tokenizer
that isolates every character, and a ``Fuse`` decoder that joins them back
without spaces) and ``tokenizer_config.json``.  No beginning-of-sequence token
is added on encoding; the end-of-sequence token ``</s>`` ends every answer.

:func:`encode` and :func:`decode` are the same mapping in plain Python (the
unit tests check that ``tokenizers`` agrees with them when it is installed).
"""

from __future__ import annotations

import json
from pathlib import Path

from real_runs.testbed.tasks import ALPHABET, TestbedError

SPECIALS = ("<pad>", "<s>", "</s>", "<unk>")
PAD, BOS, EOS, UNK = range(4)


def vocab(alphabet: str = ALPHABET) -> dict[str, int]:
    if len(set(alphabet)) != len(alphabet):
        raise TestbedError(f"alphabet={alphabet!r} repeats a character")
    v = {s: i for i, s in enumerate(SPECIALS)}
    for ch in alphabet:
        v[ch] = len(v)
    return v


def tokenizer_json(alphabet: str = ALPHABET) -> dict:
    """The ``tokenizer.json`` document."""
    v = vocab(alphabet)
    added = [{"id": i, "content": s, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, s in enumerate(SPECIALS)]
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": {"type": "Split", "pattern": {"Regex": "[\\s\\S]"}, "behavior": "Isolated", "invert": False},
        "post_processor": None,
        "decoder": {"type": "Fuse"},
        "model": {"type": "WordLevel", "vocab": v, "unk_token": "<unk>"},
    }


def tokenizer_config(max_length: int = 64) -> dict:
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>",
        "model_max_length": max_length,
        "add_bos_token": False, "add_eos_token": False,
        "clean_up_tokenization_spaces": False,
        "padding_side": "right",
    }


def save(out: str | Path, *, alphabet: str = ALPHABET, max_length: int = 64) -> Path:
    """Write ``tokenizer.json``, ``tokenizer_config.json`` and ``special_tokens_map.json`` into ``out``."""
    d = Path(out)
    d.mkdir(parents=True, exist_ok=True)
    (d / "tokenizer.json").write_text(json.dumps(tokenizer_json(alphabet), indent=1), encoding="utf-8")
    (d / "tokenizer_config.json").write_text(json.dumps(tokenizer_config(max_length), indent=1), encoding="utf-8")
    (d / "special_tokens_map.json").write_text(json.dumps(
        {"bos_token": "<s>", "eos_token": "</s>", "unk_token": "<unk>", "pad_token": "<pad>"}, indent=1), encoding="utf-8")
    return d


def encode(text: str, alphabet: str = ALPHABET) -> list[int]:
    """Token ids of ``text`` (unknown characters become ``<unk>``)."""
    v = vocab(alphabet)
    return [v.get(ch, UNK) for ch in text]


def decode(ids: list[int], alphabet: str = ALPHABET, *, skip_special: bool = True) -> str:
    inv = {i: s for s, i in vocab(alphabet).items()}
    bad = [i for i in ids if i not in inv]
    if bad:
        raise TestbedError(f"token id(s) {bad} are outside the vocabulary of {len(inv)}")
    return "".join(inv[i] for i in ids if not (skip_special and i < len(SPECIALS)))
