"""``muxsim scaling LOGS...``: curves in k and in the number of models (thin: flags -> :mod:`muxsim.scaling`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from muxsim.errors import MuxsimError

__all__ = ["main"]


def _per_model(text: str, models: Sequence[str]) -> list[tuple[int, ...]]:
    """``"3,1,2;5,1,2"``: points with one k per model (in --models order), separated by ';'."""
    out = []
    for part in text.split(";"):
        try:
            ks = tuple(int(x) for x in part.split(","))
        except ValueError:
            raise MuxsimError(f"--per-model-k {text!r}: {part!r} is not a comma-separated list of integers") from None
        if len(ks) != len(models):
            raise MuxsimError(f"--per-model-k {text!r}: {part!r} gives {len(ks)} values for the {len(models)} models {list(models)}")
        out.append(ks)
    return out


def _scaling(argv) -> int:
    from muxsim import scaling as Sc
    from muxsim.calibrate_cli import _common, _split, _table, parse_ks
    from muxsim.search import parse_sizes

    ap = argparse.ArgumentParser(prog="muxsim scaling",
                                 description="Exact accuracy against k (samples per model) for a subset, with where each "
                                             "curve turns, and the best subset of each size (curve in n).")
    ap.add_argument("logs", nargs="*", help="logs (not with --fit)")
    _common(ap)
    ap.add_argument("--k", default=None, help="k values, e.g. 1-10 (default 1..K)")
    ap.add_argument("--per-model-k", help="points with one k per model instead, e.g. '3,1,2;5,1,2' (--models order)")
    ap.add_argument("--methods", default="mux,vote", help="comma-separated, from mux,mux_valid,vote,union,contradiction")
    ap.add_argument("--r", type=int, default=1, help="robust level of union/contradiction")
    ap.add_argument("--sizes", help="also the best subset of each size (e.g. 1-4) by --n-method at --n-k")
    ap.add_argument("--n-k", type=int, default=3, help="k for the curve in n (default 3)")
    ap.add_argument("--n-method", default="mux", choices=("mux", "mux_valid", "vote"))
    ap.add_argument("--fit", help="a FIT.json from `muxsim fit`: curves of the fitted population instead of the logs")
    ap.add_argument("--level", type=float, default=0.9,
                    help="with --fit: predictive interval level of the k curve (0: none; default 0.9)")
    ap.add_argument("--draws", type=int, default=40, help="with --fit: draws from the fit per interval (default 40)")
    a = ap.parse_args(argv)
    methods = _split(a.methods) or []
    if bool(a.fit) == bool(a.logs):
        raise MuxsimError("give LOGS or --fit FIT.json (one of them)")
    if a.fit:
        from muxsim.fitted import population_of_fit

        from muxsim.calibrate import load_fit

        fit = load_fit(a.fit)
        names = _split(a.models) or list(fit.models)
        source = population_of_fit(fit, names)
        K = None
    else:
        source, _ = _table(a)
        names = list(source.models)
        K = source.K
    if a.per_model_k:
        if a.k:
            raise MuxsimError("give --k or --per-model-k, not both")
        points = _per_model(a.per_model_k, names)
    else:
        if a.k is None and K is None:
            raise MuxsimError("--k is needed with --fit (there is no logged K)")
        points = parse_ks(a.k) if a.k else list(range(1, K + 1))
    if a.fit and a.level:
        if not 0 < a.level < 1:
            raise MuxsimError(f"--level {a.level} must be in (0, 1), or 0 for no interval")
        if a.draws < 2:
            raise MuxsimError(f"--draws {a.draws} must be >= 2")
        if any(isinstance(p, (tuple, list)) and len(set(p)) > 1 for p in points):
            raise MuxsimError("--level: predictive intervals are for one k per point (use --k, or --level 0)")
    curve = Sc.k_curve(source, points, models=names, methods=methods, r=a.r)
    if a.fit and a.level:
        pred = fit.predict([p[0] for p in curve.points], models=names, methods=methods, r=a.r, level=a.level,
                           draws=a.draws, with_paper=False)
        curve.lower, curve.upper, curve.level = pred.lower, pred.upper, a.level
    ncurve = None
    if a.sizes:
        if a.fit:
            from muxsim.fitted import population_of_fit

            ncurve = Sc.n_curve(population_of_fit(fit, names), a.n_k, parse_sizes(a.sizes), method=a.n_method)
        else:
            ncurve = Sc.n_curve(source, a.n_k, parse_sizes(a.sizes), method=a.n_method)
    if a.json:
        d = curve.to_dict()
        if ncurve is not None:
            d["n_curve"] = {"k": a.n_k, "method": a.n_method, "best": ncurve}
        print(json.dumps(d, indent=1))
    else:
        print(curve.table())
        if ncurve is not None:
            print(f"best subset per size by exact {a.n_method} at k={a.n_k}:")
            for row in ncurve:
                print(f"  {row['size']}: {row['value']:.4f}  {', '.join(row['models'])}  (of {row['subsets']} subsets)")
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``muxsim scaling LOGS... [--models] [--k 1-10 | --per-model-k '3,1;5,1'] [--methods] [--sizes 1-4] [--fit FIT.json] [--json]``."""
    from muxsim.calibrate_cli import _run

    return _run(_scaling, list(sys.argv[1:] if argv is None else argv))
