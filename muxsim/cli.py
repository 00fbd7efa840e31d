"""``muxsim`` command line: each subcommand assembles arguments and calls the Python API."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

import numpy as np

from muxsim.errors import MuxsimError


def _population_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("spec", help="population spec (JSON; see README 'Spec format')")
    p.add_argument("--k", type=int, nargs="+", help="values of k (default: the spec's)")
    p.add_argument("--models", nargs="+", help="subset of models (default: all)")
    p.add_argument("--methods", nargs="+", help="methods to report (default: all)")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")


def _curves(args: argparse.Namespace, simulate: bool) -> int:
    from muxsim import population
    from muxsim import simulate as mc
    from muxsim.spec import load

    spec = load(args.spec)
    ks = args.k or spec.k
    kw = dict(models=args.models, methods=args.methods or spec.methods, r=spec.r)
    if simulate:
        curves = mc.evaluate(spec.population, ks, n_draws=args.draws, rng=np.random.default_rng(args.seed), **kw)
    else:
        curves = population.evaluate(spec.population, ks, **kw)
    print(json.dumps(curves.to_dict(), indent=1) if args.json else curves.table())
    return 0


def _delegate(module: str, func: str, argv: Sequence[str]) -> int:
    import importlib

    try:
        mod = importlib.import_module(module)
    except ImportError as e:
        raise MuxsimError(f"this subcommand needs {module} ({e})") from None
    return int(getattr(mod, func)(list(argv)) or 0)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="muxsim", description="Exact theory, simulation and calibration for SLM orchestration.")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    p = sub.add_parser("predict", help="exact accuracy of every method against k for a population spec (or a FIT.json from `muxsim fit`)")
    _population_args(p)
    p = sub.add_parser("simulate", help="the same by Monte Carlo, with standard errors")
    _population_args(p)
    p.add_argument("--draws", type=int, default=2000, help="replicates per question (empirical) or questions (parametric)")
    p.add_argument("--seed", type=int, default=0)
    p = sub.add_parser("demo", help="worked examples and a parametric population: exact vs Monte Carlo vs paper")
    p.add_argument("--draws", type=int, default=100_000)
    p.add_argument("--seed", type=int, default=0)
    sub.add_parser("collect", help="collect samples from vLLM servers (real_runs harness); see `muxsim collect --help`", add_help=False)
    sub.add_parser("evaluate", help="exact evaluation of logged samples; see `muxsim evaluate --help`", add_help=False)
    sub.add_parser("fit", help="fit the answer model to logs; see `muxsim fit --help`", add_help=False)
    sub.add_parser("report", help="the SLM-MUX paper regenerated on the bundled data (make report); see `muxsim report --help`",
                   add_help=False)
    sub.add_parser("search", help="best subsets of a pool of logged models; see `muxsim search --help`", add_help=False)
    sub.add_parser("scaling", help="accuracy against k and against the number of models; see `muxsim scaling --help`", add_help=False)
    sub.add_parser("plan", help="models and samples per model under a cost budget; see `muxsim plan --help`", add_help=False)
    sub.add_parser("design", help="plan a run from a pilot or a fit; see `muxsim design --help`", add_help=False)
    sub.add_parser("adaptive", help="adaptive sampling policies against fixed k; see `muxsim adaptive --help`", add_help=False)
    return parser


DELEGATED = {
    "collect": ("real_runs.collect", "main"),
    "evaluate": ("muxsim.calibrate_cli", "evaluate_main"),
    "fit": ("muxsim.calibrate_cli", "fit_main"),
    "report": ("muxsim.report", "main"),
    "search": ("muxsim.search_cli", "main"),
    "scaling": ("muxsim.scaling_cli", "main"),
    "plan": ("muxsim.plan_cli", "main"),
    "design": ("muxsim.design_cli", "design_main"),
    "adaptive": ("muxsim.adaptive_cli", "adaptive_main"),
}


def _is_fit(argv: Sequence[str]) -> bool:
    """``muxsim predict FIT.json``: a file written by ``muxsim fit`` (its "kind" is muxsim.fit/...)."""
    path = next((a for a in argv if not a.startswith("-")), None)
    if path is None or not path.endswith(".json"):
        return False
    try:
        with open(path, encoding="utf-8") as fh:
            obj = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(obj, dict) and str(obj.get("kind", "")).startswith("muxsim.fit/")


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    try:
        if argv and argv[0] in DELEGATED:
            module, func = DELEGATED[argv[0]]
            return _delegate(module, func, argv[1:])
        if argv and argv[0] == "predict" and _is_fit(argv[1:]):
            return _delegate("muxsim.calibrate_cli", "predict_fit_main", argv[1:])
        args = build_parser().parse_args(argv)
        if args.command in ("predict", "simulate"):
            return _curves(args, simulate=args.command == "simulate")
        if args.command == "demo":
            from muxsim.demo import run

            print(run(args.draws, args.seed))
            return 0
    except MuxsimError as e:
        print(f"muxsim: error: {e}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
