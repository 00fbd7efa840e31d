"""CLI for logs and calibration: ``muxsim evaluate``, ``muxsim fit``, ``muxsim predict``.

Thin: each function parses flags, calls the library and prints.  Each returns
the exit status (0 ok, 2 bad input with one line on stderr) so the main CLI can
``sys.exit(evaluate_main(argv))``.

Log files are read by suffix: ``*.csv[.gz]`` jhu-llm-temperature details,
``*.json`` SLM-MUX reference results, ``samples_*.jsonl[.gz]`` lm-evaluation-harness
``--log_samples`` (model = the folder name unless ``--model-name``), anything
else the muxsim sample format.  ``--format`` forces one reader.

Ragged logs (questions a model skipped, pools of different sizes): ``--samples``
is applied first, then :func:`muxsim.logs.usable.usable_table` keeps the
questions the flags ``--common-questions`` / ``--min-samples`` allow, and one
line on stderr says what was dropped and why; otherwise a one-line error names
the question and the flag to pass.  A curve uses one question set at every k.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Sequence

import numpy as np


from muxsim.errors import MuxsimError

__all__ = ["evaluate_main", "fit_main", "predict_fit_main", "read_logs", "parse_ks"]

FORMATS = ("auto", "muxsim", "jhu", "slmmux", "lm-eval")


def parse_int_ranges(text: str, what: str) -> list[int]:
    """``"1-7"``, ``"1,3,5"`` or a mix (``"1-3,5"``) -> sorted list of ints >= 1 (``what`` names the option)."""
    out: set[int] = set()
    for part in str(text).split(","):
        part = part.strip()
        try:
            if "-" in part:
                lo, hi = (int(x) for x in part.split("-", 1))
                if lo > hi:
                    raise ValueError
                out.update(range(lo, hi + 1))
            elif part:
                out.add(int(part))
        except ValueError:
            raise MuxsimError(f"{what}{text!r}: {part!r} is not an integer or a range a-b") from None
    if not out or min(out) < 1:
        raise MuxsimError(f"{what}{text!r} must give integers >= 1")
    return sorted(out)


def parse_ks(text: str) -> list[int]:
    """``--k`` values: see :func:`parse_int_ranges`."""
    return parse_int_ranges(text, "--k ")


def _split(text: str | None) -> list[str] | None:
    return None if text is None else [x.strip() for x in text.split(",") if x.strip()]


def read_logs(paths: Sequence[str], fmt: str = "auto", model_name: str | None = None):
    """Samples of all files (see module notes for the formats)."""
    from muxsim.logs.format import read_samples
    from muxsim.logs.importers import read_jhu_details, read_lm_eval_samples, read_slmmux_json

    if not paths:
        raise MuxsimError("no log files given")
    if fmt not in FORMATS:
        raise MuxsimError(f"--format {fmt!r} must be one of {FORMATS}")
    out, plain = [], []
    for p in paths:
        name = Path(p).name
        kind = fmt
        if kind == "auto":
            if name.endswith((".csv", ".csv.gz")):
                kind = "jhu"
            elif name.endswith(".json"):
                kind = "slmmux"
            elif name.startswith("samples_") and name.endswith((".jsonl", ".jsonl.gz")):
                kind = "lm-eval"
            else:
                kind = "muxsim"
        if kind == "jhu":
            out.extend(read_jhu_details(p, model=model_name))
        elif kind == "slmmux":
            out.extend(read_slmmux_json(p, model=model_name))
        elif kind == "lm-eval":
            out.extend(read_lm_eval_samples(p, model_name or Path(p).resolve().parent.name))
        else:
            plain.append(p)
    if plain:
        out.extend(read_samples(*plain))
    return out


def _table(args, samples=None, need: int | None = None, same_size: bool = False):
    """``(table, dropped)``: aligned samples, ``--samples`` applied first, then the usable questions."""
    from muxsim.logs.evaluate import answer_table
    from muxsim.logs.usable import usable_table

    samples = read_logs(args.logs, args.format, args.model_name) if samples is None else samples
    tab = answer_table(samples, models=_split(args.models))
    if args.samples:
        a, _, b = args.samples.partition(":")
        try:
            sl = slice(int(a) if a else None, int(b) if b else None)
        except ValueError:
            raise MuxsimError(f"--samples {args.samples!r} must be START:STOP (sample positions)") from None
        tab = tab.select(samples=sl)
    tab, dropped = usable_table(tab, min_samples=getattr(args, "min_samples", None),
                                common_questions=getattr(args, "common_questions", False), need=need,
                                same_size=same_size)
    if dropped:
        print(f"muxsim: {dropped.summary()}", file=sys.stderr)
    return tab, dropped


def _ragged_flags(ap: argparse.ArgumentParser, what: str = "") -> None:
    ap.add_argument("--min-samples", type=int, metavar="M",
                    help=f"drop{what} questions on which some model has fewer than M samples (after --samples); "
                         "a summary line on stderr says what was dropped")
    ap.add_argument("--common-questions", action="store_true",
                    help=f"drop{what} questions that some model has no sample of (default: an error naming them)")


def _common(ap: argparse.ArgumentParser) -> None:
    ap.add_argument("--format", default="auto", choices=FORMATS, help="log reader (default: by file name)")
    ap.add_argument("--model-name", help="model name for files that do not carry one")
    ap.add_argument("--models", help="comma-separated models, in tie-break order (default: all, sorted)")
    ap.add_argument("--samples", help="START:STOP, use only these logged sample positions (e.g. 0:3 for a pilot; "
                                      "applied to each pool before anything is checked or dropped)")
    _ragged_flags(ap)
    ap.add_argument("--json", action="store_true", help="machine-readable output on stdout")


def _run(fn, argv) -> int:
    try:
        return fn(argv)
    except MuxsimError as e:
        print(f"muxsim: error: {e}", file=sys.stderr)
        return 2


def _plot(path: str, pred=None, obs=None, title: str = "") -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    base = pred if pred is not None else obs
    names = [n for n in base.values if not n.startswith("single[") and not n.startswith("paper_")]
    fig, ax = plt.subplots(figsize=(8, 5))
    for j, n in enumerate(names):
        color = f"C{j % 10}"
        if pred is not None and n in pred.values:
            ax.plot(pred.k, pred.values[n], "-", color=color, label=f"{n} predicted")
            if getattr(pred, "level", None) is not None and n in pred.lower:
                ax.fill_between(pred.k, pred.lower[n], pred.upper[n], color=color, alpha=0.15, lw=0)
        if obs is not None and n in obs.values:
            ax.errorbar(obs.k, obs.values[n], yerr=2 * obs.se[n], fmt="o", color=color, capsize=3,
                        label=f"{n} observed (±2 SE)")
    ax.set_xlabel("k (samples per model)")
    ax.set_ylabel("accuracy")
    ax.set_title(title)
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=120)
    plt.close(fig)


# ---------------------------------------------------------------------------
# muxsim evaluate LOGS...
# ---------------------------------------------------------------------------


def _evaluate(argv) -> int:
    from muxsim.logs.evaluate import evaluate_logs, mux_attribution, validation_order

    ap = argparse.ArgumentParser(prog="muxsim evaluate",
                                 description="Exact accuracy of every method for k <= K from logged samples (SE over questions).")
    ap.add_argument("logs", nargs="+")
    _common(ap)
    ap.add_argument("--k", help="k values, e.g. 1-8 or 1,2,4 (default 1..K, K the smallest pool of the questions used)")
    ap.add_argument("--methods", help="comma-separated methods (default all)")
    ap.add_argument("--r", type=int, default=1, help="robust level of union/contradiction")
    ap.add_argument("--validation", type=int, default=0,
                    help="use the first N questions (sorted ids) as the validation split for the tie-break order")
    ap.add_argument("--plot", help="write accuracy-vs-k curves to this PNG")
    a = ap.parse_args(argv)
    ks = parse_ks(a.k) if a.k else None
    tab, dropped = _table(a, need=max(ks) if ks else None)
    val = None
    if a.validation:
        if not 0 < a.validation < tab.n_questions:
            raise MuxsimError(f"--validation {a.validation} must be between 1 and {tab.n_questions - 1} questions")
        val = list(range(a.validation))
    curves = evaluate_logs(tab, ks, methods=_split(a.methods), r=a.r, validation=val)
    att_k = int(curves.k.max())
    order = list(curves.models)
    rest = tab if val is None else tab.select(order, questions=list(range(a.validation, tab.n_questions)))
    att = {s: mux_attribution(rest, att_k, models=order, score=s) for s in ("per_k", "per_valid")} if len(order) > 1 else {}
    vorder = validation_order(tab, val)[1].tolist() if val is not None else None
    if a.json:
        d = curves.to_dict()
        d["K"] = None if rest.ragged else rest.K
        d["pool_sizes"] = [int(rest.sizes.min()), int(rest.sizes.max())]
        d["n_questions"] = rest.n_questions
        d["dropped"] = dropped.to_dict()
        d["validation_accuracy"] = dict(zip(order, vorder)) if vorder is not None else None
        d["mux_attribution"] = {s: {m: {"selected": v[0], "selected_and_correct": v[1]} for m, v in at.items()}
                                for s, at in att.items()}
        d["mux_attribution_k"] = att_k
        print(json.dumps(d, indent=1))
    else:
        if rest.ragged:
            print(f"{rest.n_questions} questions at every k; pools hold {rest.size_range()} logged samples "
                  "per question and model" + ("" if a.k else " (the default k stops at the smallest pool; "
                                              "--min-samples M --k 1-M drops the questions with fewer than M)"))
        else:
            print(f"{rest.n_questions} questions, K = {rest.K} logged samples per question and model")
        if vorder is not None:
            print("tie-break order (validation accuracy): " + ", ".join(f"{m} {v:.3f}" for m, v in zip(order, vorder)))
        print(curves.table())
        for s, at in att.items():
            print(f"MUX ({s}) attribution at k={att_k}: " + ", ".join(
                f"{m} selected {v[0]:.3f} (correct {v[1]:.3f})" for m, v in at.items()))
    if a.plot:
        _plot(a.plot, obs=curves, title="exact evaluation of logs")
    return 0


def evaluate_main(argv: Sequence[str] | None = None) -> int:
    """``muxsim evaluate LOGS... [--k] [--models] [--methods] [--validation N] [--json] [--plot OUT.png]``."""
    return _run(_evaluate, argv)


# ---------------------------------------------------------------------------
# muxsim fit LOGS... -o FIT.json
# ---------------------------------------------------------------------------


def _fit(argv) -> int:
    from muxsim.fit import fit, goodness_of_fit, save

    ap = argparse.ArgumentParser(prog="muxsim fit", description="Fit a population to logged answer counts.")
    ap.add_argument("logs", nargs="+")
    _common(ap)
    ap.add_argument("-o", "--output", required=True, help="write the fit here (JSON)")
    ap.add_argument("--kind", choices=("auto", "latent", "classes", "shrinkage"), default="auto",
                    help="auto (default): the three below weighted by stacking on the pilot's own checks "
                         "(leave one sample out at k = 1, a predictive check at k = 2..m; m + 1 fits of each; a "
                         "mixture of the families with weight > 0, the weights and scores saved); latent: parametric LatentDifficulty by max marginal "
                         "likelihood; classes: latent classes of questions, predictions for the logged questions "
                         "given their samples; shrinkage: empirical-Bayes population of the logged questions")
    a = ap.parse_args(argv)
    tab, dropped = _table(a, same_size=True)
    if a.kind == "auto":
        from tqdm import tqdm

        from muxsim.fit.auto import CANDIDATES

        with tqdm(total=(tab.K + 1) * len(CANDIDATES), unit="fit", desc="auto: fits and cross-validation", file=sys.stderr,
                  disable=None) as bar:
            f = fit(tab, "auto", progress=bar.update)
    else:
        f = fit(tab, a.kind)
    latent = next((c for c in (f, *getattr(f, "components", ())) if c.family == "latent"), None)
    gof = goodness_of_fit(latent, tab) if latent is not None else None  # the latent fit, alone or in a mixture
    save(f, a.output)
    if a.json:
        d = {"fit": _brief(f.to_dict()),
             "diagnostics": list(f.diagnostics), "goodness_of_fit": gof, "output": a.output,
             "dropped": dropped.to_dict()}
        print(json.dumps(d, indent=1))
    else:
        print(f.summary())
        if gof is not None:
            print("goodness of fit: per-question correct counts (observed vs predicted share of questions with j correct)")
            for m, v in gof["models"].items():
                o = " ".join(f"{x:.2f}" for x in v["observed"])
                p = " ".join(f"{x:.2f}" for x in v["predicted"])
                print(f"  {m:<30} obs [{o}]  pred [{p}]  TV {v['total_variation']:.3f}")
            print("agreement: correlation of per-question correct counts (observed / predicted)")
            for pair, v in gof["pairs"].items():
                print(f"  {pair:<50} {v['observed_corr']:+.2f} / {v['predicted_corr']:+.2f}")
        print(f"wrote {a.output}")
    return 0


def _brief(d: dict) -> dict:
    """A fit file's dict without its per-question arrays (also inside a mixture's components)."""
    out = {k: v for k, v in d.items() if k not in ("codes", "prior_c", "prior_a", "resp", "correct", "valid", "post_c")}
    if "components" in out:
        out["components"] = [_brief(c) for c in out["components"]]
    return out


def fit_main(argv: Sequence[str] | None = None) -> int:
    """``muxsim fit LOGS... -o FIT.json [--kind auto|latent|classes|shrinkage] [--samples 0:3] [--models] [--json]``."""
    return _run(_fit, argv)


# ---------------------------------------------------------------------------
# muxsim predict FIT.json --k ... --models ...
# ---------------------------------------------------------------------------


def _predict(argv) -> int:
    from muxsim.compare import prediction_error
    from muxsim.fit import load
    from muxsim.logs.evaluate import evaluate_logs

    ap = argparse.ArgumentParser(prog="muxsim predict", description="Predicted accuracy curves from a fit.")
    ap.add_argument("fit")
    ap.add_argument("--k", required=True, help="k values, e.g. 1-8 or 1,2,4")
    ap.add_argument("--models", help="comma-separated models in tie-break order (default: all of the fit)")
    ap.add_argument("--methods", help="comma-separated methods (default all)")
    ap.add_argument("--r", type=int, default=1)
    ap.add_argument("--observed", nargs="+", help="logs to evaluate exactly and compare (e.g. the held-out samples)")
    ap.add_argument("--observed-samples", help="START:STOP sample positions of --observed to use (e.g. 3:10)")
    _ragged_flags(ap, " --observed")
    ap.add_argument("--format", default="auto", choices=FORMATS)
    ap.add_argument("--model-name")
    ap.add_argument("--level", type=float, default=0.9,
                    help="level of the predictive intervals (default 0.9; 0 for point predictions only)")
    ap.add_argument("--draws", type=int, default=40, help="draws from the fit for the intervals (default 40)")
    ap.add_argument("--seed", type=int, default=0, help="seed of the interval draws")
    ap.add_argument("--json", action="store_true")
    ap.add_argument("--plot", help="write predicted (lines, interval bands) vs observed (points, ±2 SE) curves to this PNG")
    a = ap.parse_args(argv)
    fit = load(a.fit)
    ks = parse_ks(a.k)
    models = _split(a.models)
    if not 0 <= a.level < 1:
        raise MuxsimError(f"--level {a.level} must be in [0, 1) (0: no intervals)")
    names = models or list(fit.models)
    obs, qs = None, None
    if a.observed:
        ns = argparse.Namespace(logs=a.observed, format=a.format, model_name=a.model_name,
                                models=",".join(names), samples=a.observed_samples,
                                min_samples=a.min_samples, common_questions=a.common_questions)
        obs_tab = _table(ns, need=max(ks))[0]
        if getattr(fit, "question_ids", None) is not None:  # a fit of the logged questions: compare on the same ones
            obs_tab, qs = _same_questions(fit.question_ids, obs_tab)
    pred = fit.predict(ks, models=models, methods=_split(a.methods), r=a.r, level=a.level or None, draws=a.draws,
                       seed=a.seed, questions=qs)
    if a.observed:
        obs = evaluate_logs(obs_tab, ks, methods=[m for m in pred.values if not m.startswith("paper_")], r=a.r)
    err = prediction_error(pred, obs) if obs is not None else None
    if a.json:
        d = {"predicted": pred.to_dict(), "observed": obs.to_dict() if obs is not None else None,
             "error": err.to_dict() if err is not None else None}
        print(json.dumps(d, indent=1))
    else:
        print(pred.table())
        if obs is not None:
            print(obs.table())
            print(err.line())
            if pred.level is not None:
                real = [m for m in obs.values if m in pred.values and not m.startswith(("single[", "paper_"))]
                inside = [pred.lower[m][j] - 2 * obs.se[m][j] <= obs.values[m][j] <= pred.upper[m][j] + 2 * obs.se[m][j]
                          for m in real for j in range(len(ks))]
                print(f"observed inside the {100 * pred.level:.0f}% interval (widened by 2 observed SE): "
                      f"{100 * float(np.mean(inside)):.0f}% of {len(inside)} values")
    if a.plot:
        _plot(a.plot, pred=pred, obs=obs, title=f"predicted from {Path(a.fit).name}")
    return 0


def _same_questions(fit_qids, obs):
    """The observed table cut to the fit's questions, and the fit's question indices to predict (None: all).

    A classes or shrinkage fit predicts its own logged questions; when the
    observed logs use other questions (dropped as ragged, or extra ones) both
    sides are cut to the questions they share, with one line on stderr.
    """
    in_obs = set(obs.question_ids)
    qs = [j for j, q in enumerate(fit_qids) if q in in_obs]
    if not qs:
        raise MuxsimError(f"the observed logs share no question with the fit's {len(fit_qids)} logged questions "
                          f"(e.g. fit {fit_qids[0]!r}, observed {obs.question_ids[0]!r}); this fit predicts its own questions")
    in_fit = set(fit_qids)
    extra = [q for q in obs.question_ids if q not in in_fit]
    lost = [q for q in fit_qids if q not in in_obs]
    if not extra and not lost:
        return obs, None
    print(f"muxsim: predicted and observed compared on the {len(qs)} questions both hold: {len(lost)} of the fit's "
          f"{len(fit_qids)} not observed{' (e.g. ' + ', '.join(map(repr, lost[:3])) + ')' if lost else ''}, "
          f"{len(extra)} observed not in the fit{' (e.g. ' + ', '.join(map(repr, extra[:3])) + ')' if extra else ''}",
          file=sys.stderr)
    if extra:
        obs = obs.select(questions=[j for j, q in enumerate(obs.question_ids) if q in in_fit])
    return obs, (qs if lost else None)


def predict_fit_main(argv: Sequence[str] | None = None) -> int:
    """``muxsim predict FIT.json --k 1-8 [--models a,b] [--methods] [--observed LOGS...] [--json] [--plot OUT.png]``."""
    return _run(_predict, argv)


if __name__ == "__main__":  # pragma: no cover - python -m muxsim.calibrate_cli {evaluate,fit,predict} ...
    cmds = {"evaluate": evaluate_main, "fit": fit_main, "predict": predict_fit_main}
    if len(sys.argv) < 2 or sys.argv[1] not in cmds:
        print(f"usage: python -m muxsim.calibrate_cli {{{','.join(cmds)}}} ...", file=sys.stderr)
        sys.exit(2)
    sys.exit(cmds[sys.argv[1]](sys.argv[2:]))
