"""The testbed's report: markdown tables, PNG figures (matplotlib, Agg) and results JSON.

Every file states its provenance: the markdown has a provenance section, each
PNG carries the run id and git revision in its metadata (``Description``) and
in a footer line, and ``results.json`` holds the configuration, seeds and
package versions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import numpy as np

METHOD_LABEL = {"sc": "SC", "mux": "MUX (per k)", "mux_valid": "MUX (per valid)", "vote": "pooled vote",
                "union": "union", "contradiction": "contradiction"}
COLORS = {"sc": "C0", "mux": "C1", "mux_valid": "C2", "vote": "C3", "union": "C4", "contradiction": "C5"}


def pct(x: float) -> str:
    return "n/a" if x is None or not np.isfinite(x) else f"{100 * x:.1f}"


def md_table(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    """A GitHub markdown table (cells converted with ``str``; '|' escaped)."""
    if any(len(r) != len(header) for r in rows):
        raise ValueError(f"every row needs {len(header)} cells: {[len(r) for r in rows]}")
    esc = lambda c: str(c).replace("|", "\\|")  # noqa: E731
    out = ["| " + " | ".join(esc(h) for h in header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(esc(c) for c in r) + " |" for r in rows]
    return "\n".join(out)


def subset_name(sub: Sequence[str]) -> str:
    return "+".join(sub)


#: (label, key of the predictions in the analysis, key of its score): the headline first
FITS = (("latent-class", "predicted", "exact"), ("LatentDifficulty", "predicted_latent", "latent"),
        ("empirical-Bayes shrinkage", "predicted_shrinkage", "shrinkage"))


def results_json(res: dict, extra: dict) -> dict:
    """The analysis as plain JSON (numbers as lists; subsets as 'a+b' strings)."""
    def curves(d):
        return {f"{subset_name(s)}|{m}": [float(x) for x in (v[0] if isinstance(v, tuple) else v)] for (s, m), v in d.items()}

    return {
        "format": "muxsim.testbed.results/1", **extra,
        "ks": res["ks"], "models_tiebreak_order": res["models"], "pilot_m": res["pilot_m"],
        "held_out_samples_per_question": res["held_K"], "questions": res["questions"],
        "pilot_accuracy": res["pilot_accuracy"], "held_accuracy": res["held_accuracy"],
        "observed": curves(res["observed"]),
        "observed_se_over_questions": {f"{subset_name(s)}|{m}": [float(x) for x in v[1]] for (s, m), v in res["observed"].items()},
        "predicted": curves(res["predicted"]), "paper": curves(res["paper"]),
        "predicted_latent": curves(res["predicted_latent"]), "predicted_shrinkage": curves(res["predicted_shrinkage"]),
        "fit": res["fit"].to_dict(), "latent_fit": res["latent_fit"].to_dict(),
        "shrinkage_fit": res["shrinkage_fit"].to_dict() | {"codes": "omitted"},
        "score": res["score"], "selection": res["selection"], "notes": res.get("notes", []),
        "analysis_timings": res.get("timings", {}),
    }


def _footer(fig, prov_line: str) -> None:
    import textwrap

    fig.text(0.005, 0.005, "\n".join(textwrap.wrap(prov_line, 150)), fontsize=5, color="0.4", ha="left", va="bottom")


def _save(fig, path: Path, prov_line: str) -> Path:
    """Footer with the provenance, save with it in the PNG metadata, close; returns the path."""
    import matplotlib.pyplot as plt

    _footer(fig, prov_line)
    fig.savefig(path, dpi=110, metadata={"Description": prov_line, "Software": "muxsim testbed"})
    plt.close(fig)
    return path


def figures(res: dict, out: Path, prov_line: str) -> list[Path]:
    """Write the figures; return their paths."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out.mkdir(parents=True, exist_ok=True)
    ks = np.asarray(res["ks"])
    obs, pred, pap = res["observed"], res["predicted"], res["paper"]
    paths = []

    # 1. predicted vs observed, every (subset, method, k), one panel per fit
    panels = [(label, res[key], res["score"][score]) for label, key, score in FITS]
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 6), squeeze=False)
    for ax, (label, pr, s) in zip(axes[0], panels):
        for meth in ("sc", "mux", "mux_valid", "vote", "union", "contradiction"):
            keys = [k for k in obs if k[1] == meth and k in pr]
            if not keys:
                continue
            x = np.concatenate([obs[k][0] for k in keys])
            y = np.concatenate([pr[k] for k in keys])
            ax.scatter(100 * x, 100 * y, s=9, alpha=0.6, color=COLORS[meth], label=METHOD_LABEL[meth])
        ax.plot([0, 100], [0, 100], color="0.3", lw=0.8)
        ax.set_xlabel("observed on held-out samples (%)")
        ax.set_ylabel(f"predicted from the {res['pilot_m']}-sample pilot (%)")
        ax.set_title(f"{label}: MAE {s['mae']:.2f} points over {s['n']} values", fontsize=9)
        ax.legend(fontsize=8)
        ax.set_xlim(0, 100)
        ax.set_ylim(0, 100)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    paths.append(_save(fig, out / "pred_vs_obs.png", prov_line))

    # 2. the whole pool against k: predicted (line), observed (points, 2 SE), paper (dashed)
    full = tuple(res["models"])
    fig, ax = plt.subplots(figsize=(9, 5.5))
    for meth in ("mux", "mux_valid", "vote", "union", "contradiction"):
        if (full, meth) not in obs:
            continue
        v, se = obs[(full, meth)]
        ax.errorbar(ks, 100 * v, yerr=200 * se, fmt="o", ms=4, color=COLORS[meth], capsize=2)
        ax.plot(ks, 100 * pred[(full, meth)], "-", color=COLORS[meth], label=f"{METHOD_LABEL[meth]}")
        if (full, meth) in pap and meth != "mux_valid":
            ax.plot(ks, 100 * pap[(full, meth)], "--", color=COLORS[meth], alpha=0.6, lw=1)
    for mdl in res["models"]:
        ax.plot(ks, 100 * pred[((mdl,), "sc")], ":", color="0.5", lw=1)
    ax.set_xlabel("k (samples per model)")
    ax.set_ylabel("accuracy / rate (%)")
    ax.set_title(f"pool {subset_name(full)}\npredicted from the pilot (line), observed (points, ±2 SE over questions),\n"
                 "paper approximation (dashed); predicted SC of each model (dotted)", fontsize=8)
    ax.legend(fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    paths.append(_save(fig, out / "pool_curves.png", prov_line))

    # 3. self-consistency of each model
    fig, ax = plt.subplots(figsize=(9, 4.8))
    for i, mdl in enumerate(res["models"]):
        key = ((mdl,), "sc")
        v, se = obs[key]
        ax.errorbar(ks, 100 * v, yerr=200 * se, fmt="o", ms=4, color=f"C{i}", capsize=2)
        ax.plot(ks, 100 * pred[key], "-", color=f"C{i}", label=mdl)
        ax.plot(ks, 100 * pap[key], "--", color=f"C{i}", alpha=0.6, lw=1)
    ax.set_xlabel("k")
    ax.set_ylabel("SC accuracy (%)")
    ax.set_title("self-consistency: predicted (line), observed (points), paper A(k, p) (dashed)", fontsize=9)
    ax.legend(fontsize=8, loc="upper left", bbox_to_anchor=(1.01, 1.0))
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    paths.append(_save(fig, out / "sc_curves.png", prov_line))

    # 4. model selection objective of every subset, predicted vs observed
    sel = res["selection"]
    names = list(sel["predicted"][0]["all"]) if sel["predicted"] else []
    allp = {n: o for row in sel["predicted"] for n, o in row["all"].items()}
    allo = {n: o for row in sel["observed"] for n, o in row["all"].items()}
    names = list(allp)
    fig, ax = plt.subplots(figsize=(max(6, 0.5 * len(names) + 2), 4.5))
    x = np.arange(len(names))
    ax.bar(x - 0.2, [100 * allp[n] for n in names], 0.4, label="predicted (pilot)")
    ax.bar(x + 0.2, [100 * allo[n] for n in names], 0.4, label="observed (held-out)")
    ax.set_xticks(x, names, rotation=60, ha="right", fontsize=7)
    ax.set_ylabel("union - λ·contradiction (%)")
    ax.set_title(f"model selection at k = {sel['k']}, λ = {sel['lambda']}", fontsize=9)
    ax.legend(fontsize=8)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    paths.append(_save(fig, out / "selection.png", prov_line))
    return paths


def per_op_table(samples, models: Sequence[str]) -> list[list[str]]:
    """Per-sample accuracy by operation and model from the log (question ids ``arith/<op>/a_b``)."""
    rows = []
    ops = sorted({s.question_id.split("/")[1] for s in samples})
    for mdl in models:
        row = [mdl]
        for op in ops:
            mine = [s for s in samples if s.model == mdl and s.question_id.split("/")[1] == op]
            row.append(pct(sum(bool(s.correct) for s in mine) / len(mine)) if mine else "n/a")
        mine = [s for s in samples if s.model == mdl]
        row.append(pct(sum(s.answer is None for s in mine) / len(mine)) if mine else "n/a")
        rows.append(row)
    return [["model"] + ops + ["no answer"]] + rows


def markdown(res: dict, *, run: dict, figs: Sequence[Path], per_op: list[list[str]], out: Path) -> str:
    ks = res["ks"]
    obs, pred, pap = res["observed"], res["predicted"], res["paper"]
    sc = res["score"]
    L = [f"# muxsim testbed report — run `{run['run_id']}`", ""]
    L.append(f"Pool of {len(res['models'])} tiny Llama models trained here on arithmetic; "
             f"{res['questions']} held-out questions; K = {res['pilot_m'] + res['held_K']} samples per question and model "
             f"at T = {run['config']['temperature']}; calibrated on the first m = {res['pilot_m']} (pilot), "
             f"compared with the exact evaluation of the other {res['held_K']} (held out) for k = 1..{ks[-1]} "
             f"and every subset of models.")
    L.append("")
    L.append("## Headline")
    L.append("")
    L.append(md_table(["predictor", "values compared", "MAE (points)", "max error (points)"], [
        [f"exact engine on the {label} pilot fit, every method", sc[score]["n"], f"{sc[score]['mae']:.2f}",
         f"{sc[score]['max']:.2f}"] for label, _, score in FITS] + [
        [f"{FITS[0][0]}, methods the paper approximates (SC, MUX, vote)", sc["exact_on_paper_methods"]["n"],
         f"{sc['exact_on_paper_methods']['mae']:.2f}", f"{sc['exact_on_paper_methods']['max']:.2f}"],
        ["paper's binomial approximation (SC, MUX, vote)", sc["paper"]["n"], f"{sc['paper']['mae']:.2f}",
         f"{sc['paper']['max']:.2f}"],
    ]))
    L.append("")
    cols = [(label, sc[score]["by_method"]) for label, _, score in FITS] + [("paper", sc["paper"]["by_method"])]
    L.append(md_table(["method"] + [f"{h} {label}" for label, _ in cols for h in ("MAE", "bias")] + ["n"], [
        [METHOD_LABEL[m]] + [x for _, by in cols for x in ((f"{by[m]['mae']:.2f}", f"{by[m]['bias']:+.2f}") if m in by
                                                           else ("—", "—"))] + [v["n"]]
        for m, v in sc["exact"]["by_method"].items()]))
    L.append("")
    L.append(f"The {FITS[0][0]} fit: {res['fit'].n_classes} classes.")
    L.append("")
    L.append("```")
    L.append(res["fit"].summary())
    L.append("```")
    L.append("")
    L.append("Bias is predicted minus observed. Observed values are exact expectations over the held-out samples "
             "(k of the K - m logged answers, without replacement); their SE (in results.json) is over questions.")
    L.append("")
    for n in res.get("notes", []):
        L.append(f"- Note: {n}")
    if res.get("notes"):
        L.append("")
    L.append("## Models")
    L.append("")
    L.append("Per-sample accuracy (%) on the held-out questions, all K samples, by operation:")
    L.append("")
    L.append(md_table(per_op[0], per_op[1:]))
    L.append("")
    L.append(md_table(["model (tie-break order)", "pilot accuracy", "held-out accuracy", "hidden x layers", "steps",
                       "parameters", "train s", "cached"], [
        [m, pct(res["pilot_accuracy"][m]), pct(res["held_accuracy"][m]),
         f"{run['pool'][m]['training']['member']['hidden']} x {run['pool'][m]['training']['member']['layers']}",
         run["pool"][m]["training"]["member"]["steps"], run["pool"][m]["training"]["parameters"],
         run["pool"][m]["training"]["train_s"], run["pool"][m]["cached"]] for m in res["models"]]))
    L.append("")
    L.append("## Figures")
    L.append("")
    for f in figs:
        L.append(f"![{f.stem}]({f.relative_to(out).as_posix()})")
        L.append("")
    L.append("## Predicted vs observed, every subset (points, %)")
    L.append("")
    L.append("Cells are `predicted / observed` (paper approximation in brackets where it applies).")
    L.append("")
    hdr = ["subset", "method"] + [f"k={k}" for k in ks]
    rows = []
    for (sub, m), (v, _) in obs.items():
        cells = []
        for j in range(len(ks)):
            c = f"{100 * pred[(sub, m)][j]:.1f} / {100 * v[j]:.1f}"
            if (sub, m) in pap:
                c += f" [{100 * pap[(sub, m)][j]:.1f}]"
            cells.append(c)
        rows.append([subset_name(sub), METHOD_LABEL[m]] + cells)
    L.append(md_table(hdr, rows))
    L.append("")
    sel = res["selection"]
    L.append(f"## Model selection: maximise union - λ·contradiction at k = {sel['k']}, λ = {sel['lambda']}")
    L.append("")
    allo = {n: o for row in sel["observed"] for n, o in row["all"].items()}

    def selection_table(predicted: list[dict]) -> str:
        rows = []
        for p_row, o_row in zip(predicted, sel["observed"]):
            pick = subset_name(p_row["best"])
            rows.append([p_row["size"], pick, pct(p_row["objective"]), pct(allo[pick]), subset_name(o_row["best"]),
                         pct(o_row["objective"]), "yes" if p_row["best"] == o_row["best"] else "no"])
        return md_table(["size", "chosen from the pilot", "predicted objective", "its observed objective",
                         "best on held-out", "best observed objective", "same"], rows)

    L.append(selection_table(sel["predicted"]))
    if sel.get("predicted_latent"):
        L.append("")
        L.append("The same search with the LatentDifficulty fit's predictions:")
        L.append("")
        L.append(selection_table(sel["predicted_latent"]))
    L.append("")
    L.append("## Provenance")
    L.append("")
    L.append("```json")
    L.append(json.dumps({k: run[k] for k in ("run_id", "config", "seeds", "provenance", "timings")}, indent=1))
    L.append("```")
    L.append("")
    return "\n".join(L)
