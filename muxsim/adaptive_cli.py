"""``muxsim adaptive``: adaptive sampling policies against fixed k (thin: parse flags, call
:mod:`muxsim.adaptive_population`, print).

    muxsim adaptive LOGS... --models a,b --budgets 1-6 [--policies decided,run2_each] [--json] [--plot OUT]
    muxsim adaptive SPEC.json|FIT.json [--models a,b] --budgets 1-6 [--simulate N --seed S]

One model: self-consistency policies (default ``lead,run2,run3``); several models: SLM-MUX policies
(default ``decided,run2_each,run3_each``).  Policy names: ``lead``, ``runR`` (one model); ``decided``,
``decided_valid``, ``runR_each``, ``runR_each_valid`` (any number of models).  Models are in tie-break
order as given.  ``--plot OUT`` writes OUT.png and OUT.pdf: accuracy against expected draws per
question, each policy's budgets beside the fixed-k curve.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from typing import Sequence

import numpy as np

from muxsim.errors import MuxsimError

__all__ = ["adaptive_main", "parse_policy"]


def parse_policy(name: str):
    """A policy object from its name (see module notes)."""
    from muxsim.adaptive import Lead, Run
    from muxsim.adaptive_mux import Decided, RunEach

    if name == "lead":
        return Lead()
    if name in ("decided", "decided_valid"):
        return Decided("per_k" if name == "decided" else "per_valid")
    m = re.fullmatch(r"run(\d+)(_each)?(_valid)?", name)
    if m and not (m.group(3) and not m.group(2)):
        r = int(m.group(1))
        if m.group(2):
            return RunEach(r, "per_valid" if m.group(3) else "per_k")
        return Run(r)
    raise MuxsimError(f"--policies: unknown policy {name!r}; use lead, runR, decided, decided_valid, runR_each, "
                      f"runR_each_valid (R an integer >= 1)")


def _population(a):
    """(population, models, what it is)."""
    from muxsim.calibrate_cli import _split, _table

    models = _split(a.models)
    if len(a.inputs) == 1 and a.inputs[0].endswith(".json"):
        from muxsim.design_cli import _is_fit

        if _is_fit(a.inputs[0]):
            from muxsim.fit import load

            f = load(a.inputs[0])
            return f.population(models), None, f"fit {a.inputs[0]}"
        from muxsim.spec import load as load_spec

        return load_spec(a.inputs[0]).population, models, f"spec {a.inputs[0]}"
    ns = argparse.Namespace(logs=a.inputs, format=a.format, model_name=None, models=a.models, samples=a.samples)
    tab, _ = _table(ns)
    return tab.empirical(models), None, "logged pools of " + ", ".join(a.inputs)


def _main(argv: Sequence[str]) -> int:
    from muxsim import adaptive_population as ap
    from muxsim.calibrate_cli import FORMATS, parse_int_ranges

    p = argparse.ArgumentParser(prog="muxsim adaptive", description=__doc__.split("\n\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("inputs", nargs="+", help="log files, or one population spec / fit (JSON)")
    p.add_argument("--models", help="comma-separated models in tie-break order (default: all)")
    p.add_argument("--budgets", required=True, help="budgets k per model, e.g. 1-6 or 2,4,8")
    p.add_argument("--policies", help="comma-separated policies (default: lead,run2,run3 for one model, "
                                      "decided,run2_each,run3_each for several)")
    p.add_argument("--samples", help="START:STOP, use only these logged sample positions")
    p.add_argument("--format", default="auto", choices=FORMATS, help="log reader (default: by file name)")
    p.add_argument("--simulate", type=int, metavar="N", help="Monte Carlo with N draws instead of the exact pass")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--json", action="store_true", help="machine-readable output on stdout")
    p.add_argument("--plot", metavar="OUT", help="write OUT.png and OUT.pdf (accuracy against expected draws)")
    a = p.parse_args(argv)
    budgets = parse_int_ranges(a.budgets, "--budgets ")
    pop, models, source = _population(a)
    n = len(models) if models else len(pop.models)
    names = a.policies.split(",") if a.policies else (["lead", "run2", "run3"] if n == 1 else
                                                     ["decided", "run2_each", "run3_each"])
    policies = [parse_policy(x.strip()) for x in names if x.strip()]
    if a.simulate is not None:
        res = ap.simulate(pop, policies, budgets, models=models, n_draws=a.simulate, rng=np.random.default_rng(a.seed))
    else:
        from tqdm import tqdm

        bar = lambda it: tqdm(it, desc="questions", unit="q", disable=None, file=sys.stderr, leave=False)  # noqa: E731
        res = ap.evaluate(pop, policies, budgets, models=models, progress=bar)
    if a.plot:
        from muxsim.plots import fig_adaptive, save

        paths = save(fig_adaptive(res, source), a.plot)
        print(f"muxsim: wrote {', '.join(map(str, paths))}", file=sys.stderr)
    print(json.dumps(res.to_dict(), indent=1) if a.json else res.table())
    return 0


def adaptive_main(argv: Sequence[str] | None = None) -> int:
    try:
        return _main(list(sys.argv[1:] if argv is None else argv))
    except MuxsimError as e:
        print(f"muxsim: error: {e}", file=sys.stderr)
        return 2
