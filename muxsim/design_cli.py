"""``muxsim design``: plan a run from a pilot log or a fit (thin: parse flags, call muxsim.design, print).

    muxsim design FIT.json --compare mux:a,b:5 sc:a:5 [--delta 0.02] [--alpha 0.05] [--power 0.8] [--n 100,500]
    muxsim design FIT.json --curve vote:a,b,c [--k-max 10] [--threshold 0.005]
    muxsim design FIT.json --pilot-value mux:a,b:5 [--extra 0,3,6] [--pilot-m 3]
    muxsim design LOGS... --samples 0:3 --kind latent ...     (fit the pilot first)

``--json`` prints the results as JSON; ``--plot PREFIX`` writes one PNG per
question asked (``PREFIX-compare.png``, ``PREFIX-curve.png``, ``PREFIX-pilot.png``).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

from muxsim.errors import MuxsimError

__all__ = ["design_main"]


def _load(a):
    from muxsim.calibrate_cli import _table
    from muxsim.fit import fit, load

    if len(a.inputs) == 1 and a.inputs[0].endswith(".json") and _is_fit(a.inputs[0]):
        return load(a.inputs[0]), None
    ns = argparse.Namespace(logs=a.inputs, format=a.format, model_name=None, models=a.models, samples=a.samples)
    tab = _table(ns)
    return fit(tab, a.kind), tab.K


def _is_fit(path: str) -> bool:
    try:
        with open(path, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, ValueError):
        return False
    return isinstance(d, dict) and str(d.get("kind", "")).startswith("muxsim.fit/")


def _pilot_m(f, m_logs, m_flag):
    if m_flag is not None:
        return m_flag
    if m_logs is not None:
        return m_logs
    if hasattr(f, "m"):
        return int(f.m)
    if hasattr(f, "codes"):
        return int(f.codes.shape[2])
    raise MuxsimError("--pilot-value from a latent-class fit file needs --pilot-m (the pilot's samples per question)")



def _save(fig, path: str) -> str:
    """Lay out, write (PNG, 110 dpi) and close one design figure; returns its path."""
    import matplotlib.pyplot as plt

    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)
    return path

def _plots(prefix: str, out: dict, source: str) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    paths = []
    Path(prefix).parent.mkdir(parents=True, exist_ok=True)
    if "compare" in out:
        c = out["compare"]
        fig, ax = plt.subplots(figsize=(6, 4))
        ns = [r["n"] for r in c["by_n"]]
        ax.plot(ns, [100 * r["ci95_halfwidth"] for r in c["by_n"]], "o-", color="C0", label="95% CI half-width")
        ax.axhline(100 * abs(c["delta_fit"]), color="C3", ls="--", label=f"predicted |delta| {100 * abs(c['delta_fit']):.2f}")
        ax.set_xscale("log")
        ax.set_xlabel("questions n")
        ax.set_ylabel("points")
        ax.set_title(f"{c['a']} vs {c['b']}: n needed {c['n_needed']}\n(from {source})", fontsize=8)
        ax.legend(fontsize=7)
        paths.append(_save(fig, f"{prefix}-compare.png"))
    if "curve" in out:
        c = out["curve"]
        fig, ax = plt.subplots(figsize=(6, 4))
        ax.plot(c["k"], c["value"], "o-", color="C1", label="predicted")
        ax.fill_between(c["k"], c["lower"], c["upper"], color="C1", alpha=0.2, lw=0,
                        label=f"{100 * c['level']:.0f}% interval")
        if c["k_stop"] is not None:
            ax.axvline(c["k_stop"], color="0.4", ls=":", label=f"gain < {100 * c['threshold']:.1f} pt after k={c['k_stop']}")
        ax.set_xlabel("k (samples per model)")
        ax.set_ylabel("accuracy")
        ax.set_title(f"{c['config']} (from {source})", fontsize=8)
        ax.legend(fontsize=7)
        paths.append(_save(fig, f"{prefix}-curve.png"))
    if "pilot_value" in out:
        c = out["pilot_value"]
        fig, ax = plt.subplots(figsize=(6, 4))
        xs = [r["pilot_samples"] for r in c["by_pilot"]]
        ax.plot(xs, [100 * r["mean_width"] for r in c["by_pilot"]], "o-", color="C2")
        ax.set_xlabel("pilot samples per question and model")
        ax.set_ylabel(f"expected {100 * c['level']:.0f}% interval width (points)")
        ax.set_title(f"{c['config']}, {c['kind']} fit, {c['reps']} simulated pilots each (from {source})", fontsize=8)
        paths.append(_save(fig, f"{prefix}-pilot.png"))
    return paths


def _design(argv) -> int:
    from muxsim.calibrate_cli import FORMATS, parse_ks
    from muxsim.design import Config, k_curve, paired_questions, pilot_value

    ap = argparse.ArgumentParser(prog="muxsim design", description="Plan a run from a pilot log or a fit.")
    ap.add_argument("inputs", nargs="+", help="a FIT.json written by `muxsim fit`, or pilot logs")
    ap.add_argument("--kind", default="latent", choices=("latent", "classes", "shrinkage", "auto"),
                    help="fit to use when logs are given (default latent)")
    ap.add_argument("--samples", help="START:STOP sample positions of the logs that form the pilot")
    ap.add_argument("--models", help="comma-separated models of the logs, in tie-break order")
    ap.add_argument("--format", default="auto", choices=FORMATS)
    ap.add_argument("--compare", nargs=2, metavar="CONFIG", help="two configurations METHOD:MODELS:K to compare")
    ap.add_argument("--delta", type=float, help="difference to detect (fraction, e.g. 0.02; default: predicted)")
    ap.add_argument("--alpha", type=float, default=0.05)
    ap.add_argument("--power", type=float, default=0.8)
    ap.add_argument("--n", default="100,200,500,1000", help="question counts for the CI width table")
    ap.add_argument("--curve", metavar="METHOD:MODELS", help="accuracy against k with intervals, e.g. vote:a,b")
    ap.add_argument("--k-max", type=int, default=10)
    ap.add_argument("--threshold", type=float, default=0.005, help="gain per extra sample below which to stop")
    ap.add_argument("--pilot-value", metavar="CONFIG", help="expected interval width of CONFIG after more pilot samples")
    ap.add_argument("--extra", default="0,3", help="extra pilot samples to try (comma-separated, 0 = as is)")
    ap.add_argument("--pilot-m", type=int, help="samples per question of the fit's pilot (if the fit does not say)")
    ap.add_argument("--reps", type=int, default=3, help="simulated pilots per size")
    ap.add_argument("--draws", type=int, default=20, help="draws from the fit for intervals and discordance")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--plot", metavar="PREFIX", help="write PREFIX-compare.png, PREFIX-curve.png, PREFIX-pilot.png")
    a = ap.parse_args(argv)
    if not (a.compare or a.curve or a.pilot_value):
        raise MuxsimError("nothing to design: give --compare A B, --curve METHOD:MODELS or --pilot-value CONFIG")
    f, m_logs = _load(a)
    source = ", ".join(Path(x).name for x in a.inputs)
    out: dict = {"source": source, "fit_kind": f.kind, "diagnostics": list(f.diagnostics)}
    if a.compare:
        out["compare"] = paired_questions(f, Config.parse(a.compare[0]), Config.parse(a.compare[1]), delta=a.delta,
                                          alpha=a.alpha, power=a.power, n_questions=parse_ks(a.n), draws=a.draws,
                                          seed=a.seed)
    if a.curve:
        meth, _, mods = a.curve.partition(":")
        models = [x.strip() for x in mods.split(",") if x.strip()]
        if not models:
            raise MuxsimError(f"--curve {a.curve!r} must be METHOD:MODEL[,MODEL...]")
        out["curve"] = k_curve(f, meth, models, a.k_max, threshold=a.threshold, draws=a.draws, seed=a.seed)
    if a.pilot_value:
        try:
            extra = sorted({int(x) for x in a.extra.split(",") if x.strip()})
        except ValueError:
            raise MuxsimError(f"--extra {a.extra!r} must be comma-separated integers >= 0") from None
        if not extra or min(extra) < 0:
            raise MuxsimError(f"--extra {a.extra!r} must be comma-separated integers >= 0")
        out["pilot_value"] = pilot_value(f, _pilot_m(f, m_logs, a.pilot_m), Config.parse(a.pilot_value), extra,
                                         reps=a.reps, draws=a.draws, seed=a.seed)
    if a.plot:
        out["plots"] = _plots(a.plot, out, source)
    if a.json:
        print(json.dumps(out, indent=1, default=float))
        return 0
    print(f"design from {source} ({f.kind}; {len(f.diagnostics)} fit diagnostic(s))")
    if "compare" in out:
        c = out["compare"]
        print(f"compare {c['a']} (predicted {100 * c['accuracy_a']:.2f}%) vs {c['b']} ({100 * c['accuracy_b']:.2f}%): "
              f"p10 {c['p10']:.4f}, p01 {c['p01']:.4f}, delta {100 * c['delta']:+.2f} points")
        print(f"  questions needed (alpha {c['alpha']}, power {c['power']}; {c['approximation']}): {c['n_needed']}")
        for r in c["by_n"]:
            print(f"  n = {r['n']:>6}: 95% CI of the difference ±{100 * r['ci95_halfwidth']:.2f} points, "
                  f"power at the predicted delta {100 * r['power_at_fit_delta']:.0f}%")
    if "curve" in out:
        c = out["curve"]
        print(f"curve {c['config']} ({100 * c['level']:.0f}% intervals):")
        for k, v, lo, hi in zip(c["k"], c["value"], c["lower"], c["upper"]):
            print(f"  k = {k:>3}: {100 * v:6.2f}  [{100 * lo:6.2f}, {100 * hi:6.2f}]")
        print(f"  gains fall below {100 * c['threshold']:.2f} points after k = {c['k_stop']}" if c["k_stop"] is not None
              else f"  gains stay above {100 * c['threshold']:.2f} points up to k = {c['k'][-1]}")
    if "pilot_value" in out:
        c = out["pilot_value"]
        print(f"pilot value for {c['config']} ({c['kind']} fit, {c['reps']} simulated pilots each):")
        for r in c["by_pilot"]:
            print(f"  pilot of {r['pilot_samples']} samples: expected {100 * c['level']:.0f}% interval width "
                  f"{100 * r['mean_width']:.2f} points")
    for p in out.get("plots", []):
        print(f"wrote {p}")
    return 0


def design_main(argv: Sequence[str] | None = None) -> int:
    """``muxsim design FIT.json|LOGS... [--compare A B] [--curve M:MODELS] [--pilot-value CONFIG] [--json] [--plot P]``."""
    from muxsim.calibrate_cli import _run

    return _run(_design, argv)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(design_main(sys.argv[1:]))
