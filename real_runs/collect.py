"""Collect k samples per question per model, grade them, log them; resume safely.

Policy, in short:

- one request asks for n = k completions of one prompt (vLLM shares the
  prefill); at most ``client.concurrency`` requests are in flight;
- each request's samples are appended to the log, flushed and fsynced, as soon
  as it returns; a killed run loses only its in-flight requests;
- running the same command again resumes: a (question, model, sample) key that
  is logged is never asked again, so none is duplicated. If a kill landed
  between the k records of one request, only the missing indices are asked for;
- a 4xx answer stops the run at once, naming the request (retrying cannot fix a
  wrong model name or a prompt that is too long); nothing of it is logged;
- connection errors, timeouts and 5xx are retried with backoff; when the retries
  run out, ``client.on_error: stop`` (default) stops the run (rerun to resume),
  and ``on_error: log`` logs that request's samples with ``error`` set and
  ``answer: null`` (they count as "no answer"; never dropped) and goes on.
  Logged errors are not asked again unless ``--retry-errors`` is given, which
  removes them from the log first (atomically) and asks again;
- a MATH comparison that math-verify cannot decide within 5 s (or that fails)
  is logged with its answer, ``correct: null`` and ``error`` saying so
  (``grading timed out after 5 s ...``), never graded by a guess; it counts
  as an error of the run, and ``--retry-errors`` asks for such samples again;
- the manifest beside the log records the configuration; resuming with a
  different one is refused with the differing keys named.

Seeds: the request for (question q, model m, missing indices I) gets seed
``crc32(f"{seed}|{q}|{m}|{I}") & 0x7fffffff``: reproducible, and distinct across
questions and models.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
import zlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from tqdm import tqdm

from muxsim.answers import GradingError, extract, grade
from muxsim.errors import MuxsimError
from muxsim.logs.format import Sample, append_sample

from real_runs import store
from real_runs.client import Completion, RequestError, ServerClient
from real_runs.config import ModelSpec, RunConfig, load_config
from real_runs.questions import Question

SOURCE = "real_runs"


@dataclass(frozen=True)
class Job:
    """One request: a question, a model, and the sample indices it fills."""

    question: Question
    model: ModelSpec
    indices: tuple[int, ...]

    @property
    def label(self) -> str:
        return f"question {self.question.id!r} samples {list(self.indices)}"


def request_seed(seed: int, qid: str, model: str, indices: Sequence[int]) -> int:
    return zlib.crc32(f"{seed}|{qid}|{model}|{list(indices)}".encode()) & 0x7FFFFFFF


def plan(cfg: RunConfig, logged: set[tuple[str, str, int]]) -> list[Job]:
    """The requests still needed: for each (question, model), the indices not yet logged."""
    jobs: list[Job] = []
    for q in cfg.questions:  # question-major: the models advance together
        for m in cfg.models:
            missing = tuple(i for i in range(cfg.sampling.k) if (q.id, m.name, i) not in logged)
            if missing:
                jobs.append(Job(q, m, missing))
    return jobs


def render(cfg: RunConfig, q: Question) -> str:
    return cfg.template.format(**q.fields())


def grade_or_error(task: str, answer: str | None, reference: str | None) -> tuple[bool | None, str | None]:
    """``(correct, error)``: a comparison that timed out or failed is ``(None, why)``, never a guess."""
    try:
        return grade(task, answer, reference), None
    except GradingError as e:
        return None, str(e)


def samples_of(cfg: RunConfig, job: Job, c: Completion, seed: int) -> list[Sample]:
    out = []
    letters = "".join(job.question.choices) if cfg.task == "mc" else None
    for j, i in enumerate(job.indices):
        text = c.texts[j]
        kw = {"letters": letters} if letters else {}
        ans = extract(cfg.task, text, **kw)
        correct, error = grade_or_error(cfg.task, ans, job.question.reference)
        out.append(
            Sample(
                question_id=job.question.id, model=job.model.name, sample=i, answer=ans,
                correct=correct, reference=job.question.reference,
                text=text, temperature=cfg.sampling.temperature, prompt_id=cfg.prompt_id,
                tokens_in=c.tokens_in, tokens_out=c.tokens_out[j], latency_s=round(c.latency_s, 4),
                source=SOURCE, error=error,
                meta={"n": len(job.indices), "seed": seed, "finish_reason": c.finish_reasons[j], "attempts": c.attempts},
            )
        )
    return out


def error_samples(cfg: RunConfig, job: Job, err: str, seed: int) -> list[Sample]:
    ref = job.question.reference
    return [
        Sample(
            question_id=job.question.id, model=job.model.name, sample=i, answer=None,
            correct=None if ref is None else False, reference=ref, temperature=cfg.sampling.temperature,
            prompt_id=cfg.prompt_id, source=SOURCE, error=err, meta={"n": len(job.indices), "seed": seed},
        )
        for i in job.indices
    ]


@dataclass
class RunResult:
    written: int = 0
    errors: int = 0
    wall_s: float = 0.0
    per_model_written: dict[str, int] = field(default_factory=dict)


class _Writer:
    """The one writer of the log: appends, flushes, fsyncs, advances the bar."""

    def __init__(self, path: Path, bar: tqdm, result: RunResult) -> None:
        self.fh = open(path, "a", encoding="utf-8")
        self.bar = bar
        self.result = result
        self.correct = 0
        self.graded = 0

    def write(self, samples: list[Sample]) -> None:
        for s in samples:
            append_sample(self.fh, s)
            self.result.written += 1
            self.result.per_model_written[s.model] = self.result.per_model_written.get(s.model, 0) + 1
            if s.error is not None:
                self.result.errors += 1
            if s.correct is not None:
                self.graded += 1
                self.correct += bool(s.correct)
        self.bar.update(len(samples))
        if self.graded:
            self.bar.set_postfix(acc=f"{self.correct / self.graded:.3f}", refresh=False)

    def close(self) -> None:
        self.fh.close()


async def run_server(cfg: RunConfig, jobs: list[Job], writer: _Writer, *, client: ServerClient) -> None:
    sem = asyncio.Semaphore(cfg.client.concurrency)
    stopping = asyncio.Event()  # set by the first error that stops the run: send nothing more

    async def one(job: Job) -> tuple[Job, int, Completion | RequestError | None]:
        seed = request_seed(cfg.sampling.seed, job.question.id, job.model.name, job.indices)
        async with sem:
            if stopping.is_set():
                return job, seed, None
            try:
                c = await client.complete(
                    job.model, render(cfg, job.question), api=cfg.api, n=len(job.indices),
                    sampling=cfg.sampling, seed=seed, label=job.label,
                )
            except RequestError as e:
                if e.fatal or cfg.client.on_error == "stop":
                    stopping.set()
                return job, seed, e
        return job, seed, c

    tasks = [asyncio.ensure_future(one(j)) for j in jobs]
    try:
        for fut in asyncio.as_completed(tasks):
            job, seed, res = await fut
            if res is None:  # not sent: the run is stopping
                continue
            if isinstance(res, RequestError):
                if res.fatal or cfg.client.on_error == "stop":
                    raise res
                writer.write(error_samples(cfg, job, str(res), seed))
            else:
                writer.write(samples_of(cfg, job, res, seed))
    finally:
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def summarise(cfg: RunConfig, result: RunResult) -> dict[str, Any]:
    """Per model over every logged sample of the configured questions."""
    qids = {q.id for q in cfg.questions}
    rows: dict[str, dict[str, Any]] = {}
    samples = store.read_log(cfg.output)
    for m in cfg.models:
        mine = [s for s in samples if s.model == m.name and s.question_id in qids]
        graded = [s for s in mine if s.correct is not None]
        n = len(mine)
        toks = [s.tokens_out for s in mine if s.tokens_out is not None]
        w = result.per_model_written.get(m.name, 0)
        rows[m.name] = {
            "samples": n,
            "expected": len(cfg.questions) * cfg.sampling.k,
            "accuracy": (sum(bool(s.correct) for s in graded) / len(graded)) if graded else float("nan"),
            "no_answer_rate": (sum(s.answer is None for s in mine) / n) if n else float("nan"),
            "errors": sum(s.error is not None for s in mine),
            "tokens_out": sum(toks),
            "tokens_out_mean": (sum(toks) / len(toks)) if toks else float("nan"),
            "written_this_run": w,
            "samples_per_s_this_run": (w / result.wall_s) if result.wall_s > 0 and w else float("nan"),
        }
    return {"output": str(cfg.output), "wall_s": round(result.wall_s, 3), "written": result.written, "models": rows}


def format_summary(summary: dict[str, Any]) -> str:
    lines = [f"{'model':28s} {'samples':>11s} {'accuracy':>8s} {'no-ans':>7s} {'errors':>6s} {'tokens':>9s} {'samples/s':>9s}"]
    for name, r in summary["models"].items():
        lines.append(
            f"{name:28s} {r['samples']:5d}/{r['expected']:<5d} {r['accuracy']:8.3f} {r['no_answer_rate']:7.3f} "
            f"{r['errors']:6d} {r['tokens_out']:9d} {r['samples_per_s_this_run']:9.2f}"
        )
    lines.append(f"wrote {summary['written']} samples in {summary['wall_s']:.1f} s to {summary['output']}")
    return "\n".join(lines)


def collect(
    cfg: RunConfig,
    *,
    argv: list[str] | None = None,
    client: ServerClient | None = None,
    progress: bool = True,
    retry_errors: bool = False,
) -> dict[str, Any]:
    """Run (or resume) the collection of ``cfg``; return the per-model summary.

    Raises :class:`~real_runs.errors.ManifestMismatch` (another configuration
    in the output) and :class:`~real_runs.client.RequestError` (a 4xx, or a
    failure after retries with ``on_error: stop``); what was logged stays.
    """
    store.check_or_write_manifest(cfg, argv)
    store.repair_tail(cfg.output)
    if retry_errors:
        n = store.drop_errors(cfg.output)
        if n:
            print(f"[real_runs] --retry-errors: removed {n} failed-request records; asking again", file=sys.stderr)
    logged = {s.key for s in store.read_log(cfg.output)}
    jobs = plan(cfg, logged)
    todo = sum(len(j.indices) for j in jobs)
    result = RunResult()
    bar = tqdm(total=todo, unit="sample", desc="collect", disable=not progress, file=sys.stderr, dynamic_ncols=True)
    writer = _Writer(cfg.output, bar, result)
    t0 = time.perf_counter()
    try:
        if cfg.backend == "offline":
            from real_runs.offline import run_offline

            run_offline(cfg, jobs, writer)
        else:
            async def go() -> None:
                c = client or ServerClient(cfg.client)
                try:
                    await run_server(cfg, jobs, writer, client=c)
                finally:
                    if client is None:
                        await c.aclose()

            asyncio.run(go())
    finally:
        result.wall_s = time.perf_counter() - t0
        writer.close()
        bar.close()
    return summarise(cfg, result)


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(
        prog="muxsim collect",
        description="Collect k samples per question per model from vLLM (OpenAI-compatible server, "
        "or vllm.LLM offline), grade them and append them to a muxsim sample log. "
        "Running the same command again resumes.",
    )
    ap.add_argument("config", metavar="CONFIG", help="run configuration (.yaml, .yml, .toml or .json)")
    ap.add_argument("--output", help="override the config's output path (.jsonl)")
    ap.add_argument("--limit", type=int, help="override the config's limit (first N questions)")
    ap.add_argument("--retry-errors", action="store_true", help="ask again for samples logged with an error")
    ap.add_argument("--no-progress", action="store_true", help="no progress bar")
    ap.add_argument("--json", action="store_true", help="print the summary as JSON")
    ap.add_argument("--check", action="store_true", help="validate the config and print the plan; send nothing")
    return ap


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    overrides: dict[str, Any] = {}
    if args.output is not None:
        overrides["output"] = str(Path(args.output).resolve())
    if args.limit is not None:
        overrides["limit"] = args.limit
    try:
        cfg = load_config(args.config, overrides=overrides)
        if args.check:
            logged = {s.key for s in store.read_log(cfg.output)} if cfg.output.exists() else set()
            jobs = plan(cfg, logged)
            print(f"config ok: {len(cfg.questions)} questions x {len(cfg.models)} models x k={cfg.sampling.k}; "
                  f"{len(logged)} samples logged; {len(jobs)} requests ({sum(len(j.indices) for j in jobs)} samples) to go")
            return 0
        summary = collect(cfg, argv=sys.argv[1:] if argv is None else argv, progress=not args.no_progress,
                          retry_errors=args.retry_errors)
    except MuxsimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: what was logged stays; run the same command again to resume", file=sys.stderr)
        return 130
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(format_summary(summary))
    incomplete = [n for n, r in summary["models"].items() if r["samples"] < r["expected"]]
    failed = sum(r["errors"] for r in summary["models"].values())
    if incomplete:
        print(f"incomplete: {incomplete} have fewer samples than expected", file=sys.stderr)
    if failed:
        print(f"{failed} samples were logged with an error (a failed request or an undecided grading); "
              "rerun with --retry-errors to ask again",
              file=sys.stderr)
    return 1 if incomplete or failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
