"""``muxsim plan LOGS... --budget B``: models and samples per model under a cost budget (thin: flags -> :mod:`muxsim.plan`)."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Sequence

from muxsim.errors import MuxsimError

__all__ = ["main"]


def _costs(text: str) -> dict[str, float]:
    out = {}
    for part in text.split(","):
        name, eq, val = part.strip().rpartition("=")
        if not eq or not name:
            raise MuxsimError(f"--cost {text!r}: {part!r} is not MODEL=COST")
        try:
            out[name] = float(val)
        except ValueError:
            raise MuxsimError(f"--cost {text!r}: {val!r} is not a number") from None
    return out


def _plan(argv) -> int:
    from muxsim import fitted
    from muxsim.calibrate_cli import _common, _table, parse_ks, read_logs
    from muxsim.plan import costs_from_samples, plan, plot_plan
    from muxsim.search import parse_sizes

    ap = argparse.ArgumentParser(prog="muxsim plan",
                                 description="Best subset and samples per model under a cost budget, and the Pareto front "
                                             "of exact accuracy against cost.")
    ap.add_argument("logs", nargs="+")
    _common(ap)
    ap.add_argument("--budget", type=float, required=True, help="cost budget per question")
    ap.add_argument("--cost", help="cost per sample per model, MODEL=COST,... (default: from the sample log)")
    ap.add_argument("--cost-field", default="tokens_out", choices=("tokens_out", "tokens", "latency_s"),
                    help="the sample log's cost per sample (default tokens_out)")
    ap.add_argument("--sizes", default="1-3", help="subset sizes (default 1-3)")
    ap.add_argument("--k", default="1-5", help="samples per model to consider (default 1-5)")
    ap.add_argument("--per-model-k", action="store_true", help="let each model of a subset have its own k")
    ap.add_argument("--method", default="mux", choices=("mux", "mux_valid", "vote"))
    ap.add_argument("--fit", help="FIT.json: accuracy of the fitted population instead of the logged pools")
    ap.add_argument("--level", type=float, default=0.9, help="--fit: level of the best plan's predictive interval (default 0.9)")
    ap.add_argument("--draws", type=int, default=40, help="--fit: draws from the fit for that interval (default 40)")
    ap.add_argument("--plot", help="write accuracy against cost (plans, Pareto front, chosen plan) to this PNG")
    a = ap.parse_args(argv)
    samples = read_logs(a.logs, a.format, a.model_name)
    tab, _ = _table(a, samples)
    costs = _costs(a.cost) if a.cost else costs_from_samples(
        [s for s in samples if s.model in tab.models], a.cost_field)
    if not (0 < a.level < 1):
        raise MuxsimError(f"--level {a.level} must be in (0, 1)")
    if a.draws < 2:
        raise MuxsimError(f"--draws {a.draws} must be >= 2")
    models = None
    if a.fit:
        source = fitted.load(a.fit)
        models = list(tab.models)
        k_limit = None
    else:
        source = tab.empirical()
        k_limit = tab.K
    res = plan(source, costs, a.budget, sizes=parse_sizes(a.sizes), ks=parse_ks(a.k), per_model_k=a.per_model_k,
               method=a.method, k_limit=k_limit, models=models, level=float(a.level), draws=a.draws)
    if a.plot:
        src = f"fit {a.fit}" if a.fit else f"{tab.n_questions} logged questions, K={tab.K}"
        plot_plan(res, a.plot, title=f"muxsim plan: {src}")
    print(json.dumps(res.to_dict(), indent=1) if a.json else res.table())
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """``muxsim plan LOGS... --budget B [--cost m=c,...] [--sizes 1-3] [--k 1-5] [--per-model-k] [--plot OUT.png] [--json]``."""
    from muxsim.calibrate_cli import _run

    return _run(_plan, list(sys.argv[1:] if argv is None else argv))
