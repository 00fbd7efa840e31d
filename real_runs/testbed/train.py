"""Train the pool's tiny models (torch + transformers ``LlamaForCausalLM``), cached.

Each model sees freshly drawn problems at every step (its :class:`Member` mix
and confusions; never a held-out problem), with the loss on the answer tokens
only (``" 85</s>"``; the prompt's labels are ignored).  AdamW, linear warm-up
then cosine decay to a tenth.  Seeds: ``torch.manual_seed(member.seed)`` for
the weights and ``numpy.random.default_rng([member.seed, 1])`` for the data.

Deterministic settings: one torch thread (a reduction split over threads sums
in another order), ``torch.use_deterministic_algorithms(True)``, float32
weights and arithmetic.  Training is then repeatable on one machine; another
CPU may still round differently (its vector kernels), which is why the default
pool is shipped (below) and retraining is an option.

The result is saved in Hugging Face format (``config.json``,
``model.safetensors``, the tokenizer files) with ``training.json`` beside it
(the member, the key, the loss curve, the wall time, threads, the machine,
package versions).  The directory is ``<cache>/<name>-<key>``; its key hashes
everything that defines the weights, so a re-run finds it and skips training.

Shipped models: ``real_runs/testbed/shipped/<name>-<key>/`` holds the default
pool as trained once (its ``training.json`` says where and with what), each
file listed with its SHA-256 in ``SHA256SUMS``.  :func:`ensure_pool` serves a
shipped model when its key matches (the same member, tokenizer and held-out
set) and every checksum holds; a mismatch is an error, never a silent retrain.
``retrain=True`` (``--retrain``) ignores them and trains into the cache (a
model already trained there by an earlier ``--retrain`` is reused).
``python -m real_runs.testbed ship`` writes them.
"""

from __future__ import annotations

import hashlib
import json
import logging
import math
import os
import platform
import shutil
import time
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from real_runs.testbed import tokenizer as tok
from real_runs.testbed.pool import Member
from real_runs.testbed.provenance import versions
from real_runs.testbed.tasks import OPS, Problem, TaskFamily, TestbedError

log = logging.getLogger(__name__)
TRAIN_FORMAT = 1  # bump when the training procedure changes: old caches are then ignored
MAX_LEN = 64
#: the shipped default pool (see the module docstring)
SHIPPED = Path(__file__).resolve().parent / "shipped"
SUMS = "SHA256SUMS"


def training_key(member: Member, family: TaskFamily, held: Sequence[Problem]) -> str:
    return member.key({"train_format": TRAIN_FORMAT, "digits": family.digits,
                       "tokenizer": tok.tokenizer_json(), "held_out": [p.id for p in held]})


def model_dir(cache: Path, member: Member, family: TaskFamily, held: Sequence[Problem]) -> Path:
    return Path(cache) / f"{member.name}-{training_key(member, family, held)}"


def is_trained(d: Path) -> bool:
    return all((d / f).exists() for f in ("config.json", "model.safetensors", "tokenizer.json", "training.json"))


def batch_problems(member: Member, family: TaskFamily, rng: np.random.Generator, n: int,
                   exclude: frozenset[Problem]) -> list[tuple[Problem, int]]:
    """``n`` training problems drawn by the member's mix, each with its (possibly confused) label."""
    ops = [o for o in OPS if member.mix.get(o, 0) > 0]
    w = np.array([member.mix[o] for o in ops], dtype=float)
    picks = rng.choice(len(ops), size=n, p=w / w.sum())
    out = []
    for j in picks:
        p = family.sample(ops[int(j)], rng, exclude=exclude)
        out.append((p, member.label(p.a, p.op, p.b)))
    return out


def encode_batch(items: list[tuple[Problem, int]]):
    """(input_ids, attention_mask, labels) tensors; labels only on ``" <answer></s>"``."""
    import torch

    seqs, labs = [], []
    for p, y in items:
        x = tok.encode(p.prompt)
        a = tok.encode(f" {y}") + [tok.EOS]
        seqs.append(x + a)
        labs.append([-100] * len(x) + a)
    L = max(len(s) for s in seqs)
    ids = torch.full((len(seqs), L), tok.PAD, dtype=torch.long)
    lab = torch.full((len(seqs), L), -100, dtype=torch.long)
    mask = torch.zeros((len(seqs), L), dtype=torch.long)
    for i, (s, l_) in enumerate(zip(seqs, labs)):
        ids[i, : len(s)] = torch.tensor(s)
        lab[i, : len(s)] = torch.tensor(l_)
        mask[i, : len(s)] = 1
    return ids, mask, lab


def build_model(member: Member):
    from transformers import LlamaConfig, LlamaForCausalLM

    cfg = LlamaConfig(
        vocab_size=len(tok.vocab()), hidden_size=member.hidden, intermediate_size=member.ffn,
        num_hidden_layers=member.layers, num_attention_heads=member.heads, num_key_value_heads=member.heads,
        head_dim=32, max_position_embeddings=MAX_LEN, bos_token_id=tok.BOS, eos_token_id=tok.EOS,
        pad_token_id=tok.PAD, tie_word_embeddings=True, rms_norm_eps=1e-5,
    )
    return LlamaForCausalLM(cfg)


def train_member(member: Member, out: Path, *, family: TaskFamily, held: Sequence[Problem],
                 threads: int | None = None, log_every: int = 50) -> dict[str, Any]:
    """Train one member and save it to ``out`` (written to a temporary folder, then renamed)."""
    import torch

    torch.set_num_threads(threads or 1)
    torch.use_deterministic_algorithms(True)
    torch.set_default_dtype(torch.float32)
    t0 = time.perf_counter()
    torch.manual_seed(member.seed)
    rng = np.random.default_rng([member.seed, 1])
    model = build_model(member)
    n_params = sum(p.numel() for p in model.parameters())
    opt = torch.optim.AdamW(model.parameters(), lr=member.lr, betas=(0.9, 0.98), weight_decay=0.01)
    warm = max(1, min(50, member.steps // 10))

    def lr_at(step: int) -> float:
        if step < warm:
            return (step + 1) / warm
        t = (step - warm) / max(1, member.steps - warm)
        return 0.1 + 0.9 * 0.5 * (1 + math.cos(math.pi * t))

    sched = torch.optim.lr_scheduler.LambdaLR(opt, lr_at)
    exclude = frozenset(held)
    curve: list[list[float]] = []
    model.train()
    run = 0.0
    for step in range(member.steps):
        ids, mask, lab = encode_batch(batch_problems(member, family, rng, member.batch, exclude))
        loss = model(input_ids=ids, attention_mask=mask, labels=lab).loss
        opt.zero_grad(set_to_none=True)
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        sched.step()
        run = loss.item() if step == 0 else 0.9 * run + 0.1 * loss.item()
        if (step + 1) % log_every == 0 or step + 1 == member.steps:
            curve.append([step + 1, round(run, 4)])
            log.info("%s step %d/%d loss %.4f", member.name, step + 1, member.steps, run)
    wall = time.perf_counter() - t0
    tmp = out.with_name(out.name + ".tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    model.eval()
    model.save_pretrained(tmp, safe_serialization=True)
    tok.save(tmp, max_length=MAX_LEN)
    info = {
        "format": "muxsim.testbed.training/1", "member": member.to_dict(), "key": out.name.rsplit("-", 1)[-1],
        "train_format": TRAIN_FORMAT, "digits": family.digits, "parameters": int(n_params),
        "loss_curve": curve, "final_loss": round(run, 4), "train_s": round(wall, 2),
        "threads": torch.get_num_threads(), "deterministic": torch.are_deterministic_algorithms_enabled(),
        "dtype": "float32", "machine": machine(), "versions": versions(), "held_out_excluded": len(held),
    }
    info["greedy_accuracy"] = greedy_accuracy(model, held)
    (tmp / "training.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    shutil.rmtree(out, ignore_errors=True)
    os.replace(tmp, out)
    return info


def machine() -> dict[str, Any]:
    """The CPU that trained (its vector kernels can round differently from another CPU's)."""
    model = None
    try:
        for line in Path("/proc/cpuinfo").read_text(encoding="utf-8").splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"machine": platform.machine(), "cpu": model or platform.processor() or None, "cpus": os.cpu_count()}


def file_sums(d: Path) -> dict[str, str]:
    """SHA-256 of every file in ``d`` (not ``SHA256SUMS`` itself), by name."""
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(Path(d).iterdir())
            if f.is_file() and f.name != SUMS}


def write_sums(d: Path) -> None:
    (Path(d) / SUMS).write_text("".join(f"{h}  {n}\n" for n, h in file_sums(d).items()), encoding="utf-8")


def verify_sums(d: Path) -> dict[str, str]:
    """Check every file listed in ``d/SHA256SUMS``; raise naming the first that differs or is missing."""
    listed: dict[str, str] = {}
    for line in (Path(d) / SUMS).read_text(encoding="utf-8").splitlines():
        if line.strip():
            h, n = line.split(None, 1)
            listed[n.strip()] = h
    if not listed:
        raise TestbedError(f"{d / SUMS} lists no files")
    for n, h in listed.items():
        f = Path(d) / n
        if not f.is_file():
            raise TestbedError(f"shipped model {d.name}: {n} is missing (listed in {SUMS}); run with --retrain")
        got = hashlib.sha256(f.read_bytes()).hexdigest()
        if got != h:
            raise TestbedError(f"shipped model {d.name}: {n} has sha256 {got[:16]}..., {SUMS} says {h[:16]}...; "
                               "the file was changed or damaged (git checkout it, or run with --retrain)")
    return listed


def shipped_dir(member: Member, family: TaskFamily, held: Sequence[Problem], root: Path = SHIPPED) -> Path | None:
    """The shipped model of ``member`` for this held-out set, or None when none is shipped."""
    d = Path(root) / f"{member.name}-{training_key(member, family, held)}"
    return d if (d / SUMS).exists() else None


def greedy_accuracy(model, problems: Sequence[Problem], max_new: int = 5) -> dict[str, float]:
    """Share of ``problems`` answered right by greedy decoding, per operation (a quick check, not the testbed's data)."""
    import torch

    out: dict[str, float] = {}
    with torch.no_grad():
        for op in OPS:
            ps = [p for p in problems if p.op == op]
            if not ps:
                continue
            ids = torch.tensor([tok.encode(p.prompt) for p in ps])  # one length per operation family
            if len({len(p.prompt) for p in ps}) != 1:
                continue
            gen = ids
            for _ in range(max_new):
                nxt = model(input_ids=gen).logits[:, -1].argmax(-1, keepdim=True)
                gen = torch.cat([gen, nxt], dim=1)
            right = 0
            for p, row in zip(ps, gen[:, ids.shape[1]:].tolist()):
                text = tok.decode(row[: row.index(tok.EOS)] if tok.EOS in row else row)
                right += text.strip() == p.answer
            out[op] = round(right / len(ps), 4)
    return out


def _train_one(args: tuple) -> dict[str, Any]:
    member, d, family, held, threads = args
    logging.basicConfig(level=logging.INFO, format="[testbed %(asctime)s] %(message)s", datefmt="%H:%M:%S")
    return train_member(member, d, family=family, held=held, threads=threads)


def ensure_pool(members: Sequence[Member], cache: Path, *, family: TaskFamily, held: Sequence[Problem],
                jobs: int = 1, retrain: bool = False, shipped: Path = SHIPPED) -> dict[str, dict[str, Any]]:
    """Find or train each member; return {name: {"path", "cached", "source", "training"[, "sha256"]}}.

    A member shipped in ``shipped`` (checksums verified) is served from there
    (``source: "shipped"``) unless ``retrain``; else one in ``cache`` is reused
    (``"cache"``); else it is trained into ``cache`` (``"trained"``).

    ``jobs`` > 1 trains that many members at once in separate processes with one
    torch thread each (on a small CPU, several one-thread trainings beat one
    multi-thread training; each is still seeded and so reproducible).
    """
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs={jobs!r} must be an integer >= 1")
    cache = Path(cache)
    cache.mkdir(parents=True, exist_ok=True)
    out: dict[str, dict[str, Any]] = {}
    todo = []
    for m in members:
        d = model_dir(cache, m, family, held)
        sd = None if retrain else shipped_dir(m, family, held, shipped)
        if sd is not None:
            sums = verify_sums(sd)
            info = json.loads((sd / "training.json").read_text(encoding="utf-8"))
            log.info("%s: shipped in %s (checksums verified; trained on %s)", m.name, sd,
                     (info.get("machine") or {}).get("cpu", "an unrecorded CPU"))
            out[m.name] = {"path": str(sd), "cached": True, "source": "shipped", "training": info, "sha256": sums}
        elif is_trained(d):
            info = json.loads((d / "training.json").read_text(encoding="utf-8"))
            log.info("%s: cached in %s (trained in %.0f s)", m.name, d, info["train_s"])
            out[m.name] = {"path": str(d.resolve()), "cached": True, "source": "cache", "training": info}
        else:
            log.info("%s: training %d steps (hidden %d x %d layers, batch %d)", m.name, m.steps, m.hidden, m.layers,
                     m.batch)
            todo.append((m, d, family, tuple(held), 1 if jobs > 1 else None))
    if jobs > 1 and len(todo) > 1:
        import multiprocessing as mp

        with mp.get_context("spawn").Pool(min(jobs, len(todo))) as pool:
            infos = pool.map(_train_one, todo, chunksize=1)
    else:
        infos = [train_member(m, d, family=family, held=h, threads=t) for m, d, family, h, t in todo]
    for (m, d, *_), info in zip(todo, infos):
        log.info("%s: trained in %.0f s, final loss %.4f, greedy accuracy %s", m.name, info["train_s"],
                 info["final_loss"], info["greedy_accuracy"])
        out[m.name] = {"path": str(d.resolve()), "cached": False, "source": "trained", "training": info}
    return {m.name: out[m.name] for m in members}
