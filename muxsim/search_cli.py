"""``muxsim search LOGS...``: the best subsets of a pool of logged models (thin: flags -> :mod:`muxsim.search`)."""

from __future__ import annotations

import argparse
import functools
import json
import math
import sys
from typing import Sequence

from muxsim.errors import MuxsimError

__all__ = ["main", "build_stats"]

OBJECTIVES = ("reference", "exact", "predicted")


def build_stats(table, objective: str, *, k: int | None, robust: int):
    """Per-model stats of the objective over an AnswerTable (see :mod:`muxsim.search`)."""
    from muxsim import search as S

    if objective == "reference":
        if k is not None:
            raise MuxsimError(f"--k {k}: the reference objective uses all K={table.K} logged samples; "
                              "use --objective exact to draw k of them")
        return S.reference_stats(table, robust)
    if objective == "exact":
        return S.exact_stats(table, 3 if k is None else k, robust)
    raise MuxsimError(f"--objective {objective!r} must be one of {OBJECTIVES}")


def _parser() -> argparse.ArgumentParser:
    from muxsim.calibrate_cli import _common

    ap = argparse.ArgumentParser(
        prog="muxsim search",
        description="Best subsets of models per size by O(S) = union - lambda * contradiction (SLM-MUX model selection).")
    ap.add_argument("logs", nargs="*")
    _common(ap)
    ap.add_argument("--sizes", default="2-5", help="subset sizes, e.g. 2-5 or 2,3 (default 2-5)")
    ap.add_argument("--lam", type=float, default=1.0, help="lambda, the contradiction weight (default 1.0; the reference code's default is 0.5)")
    ap.add_argument("--robust", type=int, default=2, help="a model counts as correct with at least this many correct samples (default 2)")
    ap.add_argument("--objective", default="reference", choices=OBJECTIVES,
                    help="reference: the public SLM-MUX code's objective on all logged samples; "
                         "exact: k of K logged samples drawn without replacement (SEMANTICS.md), exact expectation; "
                         "predicted: a fitted population's exact accuracy of --method at --k (--fit, or a "
                         "latent-difficulty fit of LOGS)")
    ap.add_argument("--fit", help="FIT.json from `muxsim fit` for --objective predicted (then give no LOGS)")
    ap.add_argument("--kind", choices=("latent", "classes", "shrinkage", "auto"),
                    help="--objective predicted on LOGS: the fit made of them (default latent)")
    ap.add_argument("--intervals", default="best", choices=("best", "top", "none"),
                    help="--objective predicted: predictive intervals for the best subset of each size (default), "
                         "for every subset shown, or none")
    ap.add_argument("--level", type=float, default=0.9, help="level of the predictive intervals (default 0.9)")
    ap.add_argument("--draws", type=int, default=40, help="draws from the fit per interval (default 40)")
    ap.add_argument("--method", default="mux", choices=("mux", "mux_valid", "vote"),
                    help="method whose predicted accuracy ranks subsets (--objective predicted; default mux)")
    ap.add_argument("--k", type=int, help="samples per model for --objective exact or predicted (default 3)")
    ap.add_argument("--norm", choices=("questions", "union"),
                    help="contradiction normalised over all questions (paper; default for exact) or over "
                         "union-correct questions (reference code; the only choice for --objective reference)")
    ap.add_argument("--top", type=int, default=5, help="subsets shown per size (default 5)")
    ap.add_argument("--screen", default="20",
                    help="--objective predicted where a fit shares no work across subsets (shrinkage; the vote of "
                         "latent classes with shared wrong answers): rank every subset by the fit's pool form (by its "
                         "predicted MUX for the vote), rescore the best N of each size exactly (default 20); 'all': "
                         "no screen, every subset scored by the fit (each its own population there: see --workers/--scheduler)")
    ap.add_argument("--strategy", default="auto", choices=("auto", "exhaustive", "branch-and-bound"),
                    help="auto: exhaustive up to 2,000,000 subsets of a size, else branch and bound")
    ap.add_argument("--node-limit", type=int, default=200_000, help="branch-and-bound node budget (default 200000)")
    ap.add_argument("--scheduler", help="run the exhaustive blocks (--objective predicted: the fit's exact values, "
                                        "in blocks of subsets) on an existing Dask cluster at this address "
                                        "(e.g. tcp://host:8786); needs the 'dask' extra")
    ap.add_argument("--workers", type=int, help="run them on a new Dask LocalCluster of N worker processes "
                                                "(branch and bound and the predicted screen run in this process)")
    return ap


def _search(argv) -> int:
    from muxsim import search as S
    from muxsim.calibrate_cli import _table

    a = _parser().parse_args(argv)
    sizes = S.parse_sizes(a.sizes)
    if a.objective == "predicted":
        return _predicted(a, sizes)
    for flag, val in (("--fit", a.fit), ("--kind", a.kind)):
        if val is not None:
            raise MuxsimError(f"{flag} is for --objective predicted, not {a.objective}")
    if not a.logs:
        raise MuxsimError("no log files given")
    if a.objective == "reference" and a.norm == "questions":
        raise MuxsimError("--norm questions: the reference objective divides the contradiction by the union "
                          "(use --objective exact for the per-question normalisation)")
    norm = a.norm or ("union" if a.objective == "reference" else "questions")
    tab, _ = _table(a)
    n = len(tab.models)
    too_big = [s for s in sizes if s > n]
    if too_big:
        raise MuxsimError(f"--sizes {a.sizes}: size {too_big[0]} is larger than the pool of {n} models {list(tab.models)}")
    stats = build_stats(tab, a.objective, k=a.k, robust=a.robust)
    total = sum(math.comb(n, s) for s in sizes)
    bar = None
    if total > 200_000:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="subset", file=sys.stderr, disable=None)
    kw = dict(lam=a.lam, norm=norm, top=a.top, strategy=a.strategy, node_limit=a.node_limit,
              progress=bar.update if bar else None, objective=a.objective)
    try:
        if a.scheduler is not None or a.workers is not None:
            from muxsim.scale import dask_client, dask_mapper

            with dask_client(a.scheduler, a.workers) as client:
                res = S.search(stats, sizes, mapper=dask_mapper(client), **kw)
        else:
            res = S.search(stats, sizes, **kw)
    finally:
        if bar:
            bar.close()
    if a.json:
        print(json.dumps(res.to_dict(), indent=1))
    else:
        print(f"{tab.n_questions} questions, K = {tab.K} logged samples, {n} models; {stats.label}")
        print(res.table())
    return 0


def _screen(text: str) -> int:
    try:
        n = int(text)
    except ValueError:
        n = 0
    if n < 1:
        raise MuxsimError(f"--screen {text}: give an integer >= 1 or 'all'")
    return n


def _predicted(a, sizes) -> int:
    from muxsim import fitted
    from muxsim.calibrate_cli import _split, _table
    from muxsim.predicted import predicted_search

    if a.norm is not None:
        raise MuxsimError("--norm is for the reference and exact objectives")
    if a.fit is not None:
        if a.logs:
            raise MuxsimError(f"give LOGS or --fit {a.fit}, not both (the fit already holds what it learnt from logs)")
        if a.kind is not None:
            raise MuxsimError(f"--kind {a.kind} is for fitting LOGS; --fit {a.fit} is already fitted")
        fit = fitted.load(a.fit)
        models = _split(a.models) or list(fit.models)
        label = f"fit {a.fit}"
    else:
        if not a.logs:
            raise MuxsimError("--objective predicted needs LOGS (fitted here) or --fit FIT.json")
        tab, _ = _table(a)
        kind = a.kind or "latent"
        fit = fitted.fit_logs(tab, kind)
        models = list(tab.models)
        label = f"{kind} fit ({type(fit).__name__}) of {tab.n_questions} questions x K={tab.K}"
    fitted.population_of_fit(fit, models)  # checks the names (unknown, twice) with the fit's message
    n = len(models)
    too_big = [s for s in sizes if s > n]
    if too_big:
        raise MuxsimError(f"--sizes {a.sizes}: size {too_big[0]} is larger than the pool of {n} models {models}")
    if not (0 < a.level < 1):
        raise MuxsimError(f"--level {a.level} must be in (0, 1)")
    if a.draws < 2:
        raise MuxsimError(f"--draws {a.draws} must be >= 2")
    total = sum(math.comb(n, s) for s in sizes)
    bar = None
    if total > 2_000 or getattr(fit, "joint_dependent", False) or getattr(fit, "question_ids", None) is not None:
        from tqdm import tqdm

        bar = tqdm(total=total, unit="subset", file=sys.stderr, disable=None)
    screen = None if a.screen == "all" else _screen(a.screen)
    run = functools.partial(predicted_search, fit, sizes, 3 if a.k is None else a.k, method=a.method, top=a.top,
                            r=a.robust, progress=bar.update if bar else None, models=models, intervals=a.intervals,
                            level=float(a.level), draws=a.draws, screen=screen)
    try:
        if a.scheduler is not None or a.workers is not None:
            from muxsim.scale import dask_client, dask_mapper

            with dask_client(a.scheduler, a.workers) as client:
                res = run(mapper=dask_mapper(client))
        else:
            res = run()
    finally:
        if bar:
            bar.close()
    res.objective = "predicted"
    res.settings = {"method": a.method, "k": 3 if a.k is None else a.k, "population": label,
                    **{k: v for k, v in res.settings.items() if k in ("screen", "not computed")}}
    if a.json:
        print(json.dumps(res.to_dict(), indent=1))
    else:
        print(res.table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``muxsim search LOGS... [--sizes 2-5] [--lam 1.0] [--robust 2] [--objective reference|exact] [--k 3] [--top 5] [--json]``."""
    from muxsim.calibrate_cli import _run

    return _run(_search, list(sys.argv[1:] if argv is None else argv))
