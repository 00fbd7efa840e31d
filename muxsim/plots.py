"""Figures of the SLM-MUX paper, regenerated: one function per figure, each taking result objects.

Shared style: one colour per method in every figure (Okabe-Ito, colour-blind
safe: :data:`COLORS`), exact curves as lines with shaded ±2 SE bands (SE over
questions; no band where the value is exact for a population), the paper's
approximations dashed in the colour of the method they approximate, legends
outside the data, and a caption under every figure naming its data source.
Every function returns the :class:`matplotlib.figure.Figure`; :func:`save`
writes it as PNG and PDF.  The result objects come from :mod:`muxsim.reproduce`.
"""

from __future__ import annotations

import textwrap
from pathlib import Path
from typing import Sequence

import functools

import matplotlib
import numpy as np
from matplotlib.figure import Figure

from muxsim.reproduce import AttributionResult, KCurves, MajorityCurves, SearchCurve, SubjectComparison

#: One colour per method, everywhere (Okabe & Ito 2008 palette).
COLORS = {
    "mux": "#0072B2",  # blue
    "mux_valid": "#56B4E9",  # sky blue
    "vote": "#E69F00",  # orange
    "best_sc": "#009E73",  # bluish green
    "union": "#CC79A7",  # reddish purple
    "contradiction": "#D55E00",  # vermillion
    "objective": "#000000",  # black
    "single": "#7F7F7F",  # grey
    "single_b": "#BDBDBD",  # light grey (second model of a pair)
}
LABELS = {
    "mux": "SLM-MUX (confidence = top count / k, paper)",
    "mux_valid": "SLM-MUX (top count / valid answers, reference code)",
    "vote": "pooled vote (Agent Forest)",
    "best_sc": "best single model, self-consistency",
    "paper_mux": "paper's approximation A(k, p_max)",
    "paper_vote": "paper's approximation A(k, mean p)",
    "union": "union (oracle) accuracy",
    "contradiction": "contradiction penalty λ·C(S)",
    "objective": "search objective O(S) = union − λ·C(S)",
}
BAND_ALPHA = 0.14


STYLE = {"axes.spines.top": False, "axes.spines.right": False, "axes.grid": True, "grid.alpha": 0.3, "font.size": 9,
         "axes.titlesize": 9.5, "legend.fontsize": 8.5, "figure.dpi": 110}


def _styled(fn):
    """Draw under the shared style without touching the caller's rcParams (figures need no pyplot backend)."""
    @functools.wraps(fn)
    def wrapper(*args, **kwargs):
        with matplotlib.rc_context(STYLE):
            return fn(*args, **kwargs)
    return wrapper


def _caption_lines(text: str, width: int) -> list[str]:
    return textwrap.wrap(text, width)


def _layout(fig: Figure, axes, caption: str, ncol: int = 3, legend: bool = True, width: int | None = None) -> Figure:
    """Legend (outside the axes) and caption under the panels; space reserved from their sizes in inches."""
    w_in, h_in = fig.get_size_inches()
    width = width or int(w_in * 16)
    lines = _caption_lines(caption, width)
    cap_h = 0.14 * len(lines) + 0.08
    fig.text(0.01, 0.04 / h_in, "\n".join(lines), ha="left", va="bottom", fontsize=7.5, color="#333333")
    leg_h = 0.0
    if legend:
        handles, labels = {}, []
        for ax in axes:
            for hd, lb in zip(*ax.get_legend_handles_labels()):
                if lb not in handles:
                    handles[lb] = hd
                    labels.append(lb)
        rows = int(np.ceil(len(labels) / ncol))
        leg_h = 0.22 * rows + 0.12
        fig.legend([handles[lb] for lb in labels], labels, loc="lower center", ncol=ncol, frameon=False,
                   bbox_to_anchor=(0.5, cap_h / h_in))
    fig.tight_layout(rect=(0, (cap_h + leg_h) / h_in, 1, 1 - 0.45 / h_in))
    return fig


def _sources(items) -> str:
    """'title, title: source; ...' with each distinct source once."""
    by: dict[str, list[str]] = {}
    for title, src in items:
        by.setdefault(src, []).append(title)
    return "; ".join(f"{', '.join(t)}: {s}" for s, t in by.items())


def _line(ax, x, y, se, key: str, label: str | None = None, band: bool = True, **kw) -> None:
    y, se = np.asarray(y, float), np.asarray(se, float)
    ax.plot(x, y, color=COLORS[key], label=label if label is not None else LABELS.get(key, key), **kw)
    if band and np.any(se > 0):
        ax.fill_between(x, y - 2 * se, y + 2 * se, color=COLORS[key], alpha=BAND_ALPHA, lw=0)


def _grid(n: int, ncols: int, w: float = 4.2, h: float = 3.1):
    ncols = min(ncols, n)
    nrows = int(np.ceil(n / ncols))
    fig = Figure(figsize=(w * ncols, h * nrows + 1.2))
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for ax in axes.ravel()[n:]:
        ax.set_visible(False)
    return fig, axes.ravel()[:n]


def save(fig: Figure, path: str | Path) -> list[Path]:
    """Write ``path`` with suffixes .png and .pdf (folders created); returns both paths."""
    p = Path(path).with_suffix("")
    p.parent.mkdir(parents=True, exist_ok=True)
    out = [p.with_suffix(".png"), p.with_suffix(".pdf")]
    fig.savefig(out[0], dpi=130)
    fig.savefig(out[1])
    return out


def subject_label(source: str) -> str:
    """'agi-eval/lsat-ar' -> 'lsat-ar', 'arc/arc-challenge-test' -> 'arc-challenge', 'medmcqa/dev' -> 'medmcqa'."""
    parts = source.split("/")
    name = parts[-1] if parts[-1] not in ("dev", "test", "val") else parts[0]
    for suffix in ("-test", "_val", "-dev"):
        name = name.removesuffix(suffix)
    return name


def short(name: str, n: int = 16) -> str:
    return name if len(name) <= n else name[: n - 1] + "…"


# ---------------------------------------------------------------------------


@_styled
def fig_majority(res: MajorityCurves) -> Figure:
    """Self-consistency accuracy against the single-draw accuracy p, N = 2..9 draws.

    Panel 1: the paper's A(N, p) (binary, a tie counted as a win).  Other panels:
    exact plurality (SEMANTICS §2, ties split) for one, two or three equally
    likely named wrong answers and for a tail of unique wrong answers.  Shaded:
    the p where SC lowers accuracy for some N shown (odd N solid, even N dashed).
    """
    panels = [("paper", "paper's A(N, p): binary, tie = win")] + [(k, v) for k, v in res.titles.items()]
    fig, axes = _grid(len(panels), 3, 4.0, 3.2)
    cmap = matplotlib.colormaps["viridis"]
    Ns = res.ns
    for ax, (key, title) in zip(axes, panels):
        curves = res.paper if key == "paper" else res.exact[key]
        below = np.zeros(len(res.p), bool)
        for j, N in enumerate(Ns):
            y = curves[N]
            below |= y < res.p - 1e-12
            ax.plot(res.p, y, color=cmap(j / max(len(Ns) - 1, 1)), ls="-" if N % 2 else "--", lw=1.3, label=f"N = {N}")
        ax.plot(res.p, res.p, color="k", lw=0.8, ls=":", label="no aggregation (accuracy = p)")
        if below.any():
            ax.fill_between(res.p, 0, 1, where=below, color=COLORS["contradiction"], alpha=0.10, lw=0,
                            label="SC lowers accuracy for some N shown")
        th = res.thresholds.get(key)
        if th is not None:
            ax.axvline(th, color=COLORS["contradiction"], lw=0.8)
            ax.text(th, 0.97, f" p* = {th:.3g}", fontsize=7.5, va="top", color=COLORS["contradiction"])
        ax.set_title(title)
        ax.set_xlim(0, 1)
        ax.set_ylim(0, 1)
        ax.set_xlabel("p = P(one draw is correct)")
        ax.set_ylabel("accuracy of SC(N)")
    fig.suptitle("Self-consistency vs single-draw accuracy: the paper's binomial A(N, p) and exact plurality (muxsim)")
    return _layout(fig, axes, "Data: closed forms, no data (laws: correct p, wrong mass 1 − p spread equally over the named wrong answers "
                  "or given to unique tail answers). p* (vertical line) = smallest p above which SC(N) ≥ p for every odd N "
                  "shown (exact, sympy). Even N dashed: a tie is split 1/2 in the exact panels (so exact SC(2) = p lies on the diagonal), "
                  "counted as a win in the paper's.", ncol=6)


@_styled
def fig_k_curves(panels: Sequence[KCurves], title: str | None = None) -> Figure:
    """Accuracy against samples per model k: SLM-MUX (both scores), pooled vote, best single model's SC."""
    fig, axes = _grid(len(panels), 3, 4.2, 3.2)
    for ax, kc in zip(axes, panels):
        c = kc.curves
        for key in ("best_sc", "vote", "mux_valid", "mux"):
            label = LABELS[key] if key != "best_sc" else LABELS["best_sc"]
            _line(ax, c.k, c.values[key], c.se[key], key, label, marker="o", ms=2.5, lw=1.4)
        ax.plot(c.k, c.values["paper_mux"], color=COLORS["mux"], ls="--", lw=0.8, alpha=0.8, label=LABELS["paper_mux"])
        ax.plot(c.k, c.values["paper_vote"], color=COLORS["vote"], ls="--", lw=0.8, alpha=0.8, label=LABELS["paper_vote"])
        ax.set_title(f"{kc.title}\n{' + '.join(short(g, 22) for g in kc.group)}")
        ax.set_xlabel("samples per model k")
        ax.set_ylabel("accuracy")
        ax.set_xticks(c.k)
    fig.suptitle(title or "Drawing more samples per model: exact accuracy, bands ±2 SE over questions")
    srcs = _sources((p.title, p.source) for p in panels)
    return _layout(fig, axes, f"Data — {srcs}. Best single = the group's first model in tie-break order (validation "
                              "accuracy). Dashed: the paper's binomial approximations fed with the members' single-draw "
                              "accuracies (same k; even k counts ties as wins, hence the zig-zag). No band: exact for a population.")


@_styled
def fig_adding_models(panels: Sequence[SearchCurve]) -> Figure:
    """SLM-MUX accuracy (left axis) and union accuracy (right axis) of the best subset of each size K."""
    fig, axes = _grid(len(panels), 3, 4.2, 3.2)
    for ax, sc in zip(axes, panels):
        K = np.array(sc.sizes)
        _line(ax, K, sc.mux, sc.mux_se, "mux", f"SLM-MUX accuracy at k = {sc.k_eval} (left axis)", marker="o", ms=3)
        ax.set_ylabel("SLM-MUX accuracy", color=COLORS["mux"])
        ax2 = ax.twinx()
        ax2.grid(False)
        ax2.spines["right"].set_visible(True)
        _line(ax2, K, sc.union_eval, sc.union_eval_se, "union", f"union accuracy at k (right axis)", marker="s", ms=3, ls="--")
        ax2.set_ylabel("union accuracy", color=COLORS["union"])
        ax.set_xticks(K)
        ax.set_xlabel("participating models K (best subset by O(S))")
        ax.set_title(sc.title)
        ax._twin = ax2  # for the legend
    axs = list(axes) + [a._twin for a in axes]
    fig.suptitle("Adding participating models: the best subset's SLM-MUX accuracy and its union accuracy")
    srcs = _sources((p.title, p.source) for p in panels)
    return _layout(fig, axs, ncol=2, caption=f"Data — {srcs}. Subsets chosen by O(S) = union − λ·contradiction (λ = {panels[0].lam}, paper normalisation) "
                  f"at k = {panels[0].k_search} samples; the subsets are listed in the report. Bands ±2 SE over questions.")


@_styled
def fig_objectives(panels: Sequence[SearchCurve]) -> Figure:
    """Union (line), contradiction penalty (band down to O(S)) and O(S) (line) of the best subset of each size K.

    Top row: contradiction normalised over all questions (paper); bottom row:
    over union-correct questions (reference code), each row with its own best subsets.
    """
    n = len(panels)
    fig = Figure(figsize=(4.0 * n, 6.4 + 1.2))
    axes = fig.subplots(2, n, squeeze=False)
    for col, sc in enumerate(panels):
        for row, (best, norm) in enumerate(((sc.best, "paper: C / all questions"), (sc.best_ref, "reference code: C / union-correct"))):
            ax = axes[row, col]
            K = np.array(sc.sizes)
            u = np.array([b.union for b in best])
            use = np.array([b.union_se for b in best])
            c = np.array([b.contradiction if row == 0 else b.contradiction_ref for b in best]) * sc.lam
            o = u - c
            _line(ax, K, u, use, "union", marker="o", ms=3)
            ax.fill_between(K, o, u, color=COLORS["contradiction"], alpha=0.35, lw=0, label=LABELS["contradiction"])
            ax.plot(K, o, color=COLORS["objective"], marker="s", ms=3, lw=1.3, label=LABELS["objective"])
            ax.set_xticks(K)
            ax.set_xlabel("subset size K")
            ax.set_ylabel("share of questions")
            ax.set_title(f"{sc.title}\n{norm}")
    fig.suptitle(f"Search objectives of the best subset of each size (k = {panels[0].k_search} samples per model, λ = {panels[0].lam})")
    srcs = _sources((p.title, p.source) for p in panels)
    return _layout(fig, axes.ravel(), f"Data — {srcs}. Purple band: ±2 SE of union over questions. Each row ranks "
                                      "subsets by its own normalisation.")


@_styled
def fig_attribution(res: Sequence[AttributionResult]) -> Figure:
    """Share of SLM-MUX outputs returned from each model, and the share returned from it and correct (bars)."""
    fig, axes = _grid(len(res), 3, 4.6, 3.4)
    for ax, r in zip(axes, res):
        x = np.arange(len(r.models))
        w = 0.38
        ax.bar(x - w / 2, r.selected, w, yerr=2 * r.selected_se, color=COLORS["single"], capsize=2,
               label="share of outputs from this model")
        ax.bar(x + w / 2, r.correct, w, yerr=2 * r.correct_se, color=COLORS["mux"], capsize=2,
               label="share of outputs from this model and correct")
        for xi, s, c, se_s, se_c in zip(x, r.selected, r.correct, r.selected_se, r.correct_se):
            ax.text(xi - w / 2, s + 2 * se_s + 0.015, f"{s:.0%}", ha="center", va="bottom", fontsize=7)
            ax.text(xi + w / 2, c + 2 * se_c + 0.015, f"{c:.0%}", ha="center", va="bottom", fontsize=7)
        ax.set_xticks(x, [short(m, 18) for m in r.models], rotation=15)
        ax.set_ylim(0, 1.12)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_ylabel("share of questions")
        ax.set_title(f"{r.title} (k = {r.k})")
    fig.suptitle("Output attribution of SLM-MUX: which model's answer is returned, and how often it is right")
    srcs = _sources((r.title, r.source) for r in res)
    return _layout(fig, axes, f"Data — {srcs}. Error bars ±2 SE over questions. Models in tie-break order (left wins "
                              "ties). The gap between a grey bar and its blue bar is the share of wrong outputs from that model.",
                   ncol=2)


@_styled
def fig_subjects(res: Sequence[SubjectComparison]) -> Figure:
    """Per exam source, grouped bars: each member's single-draw accuracy and the pair's SLM-MUX."""
    fig = Figure(figsize=(11, 3.3 * len(res) + 1.3))
    axes = fig.subplots(len(res), 1, squeeze=False)
    for ax, r in zip(axes.ravel(), res):
        x = np.arange(len(r.subjects))
        names = list(r.values)
        w = 0.8 / len(names)
        colors = [COLORS["single"], COLORS["single_b"], COLORS["mux"]]
        for j, (name, col) in enumerate(zip(names, colors)):
            lab = f"{name[7:-1]} (one draw)" if name.startswith("single[") else f"SLM-MUX of the pair (k = {r.k})"
            ax.bar(x + (j - (len(names) - 1) / 2) * w, r.values[name], w, yerr=2 * r.se[name], color=col,
                   capsize=1.5, label=lab, edgecolor="k" if j == 1 else None, lw=0.4,
                   error_kw=dict(ecolor="#555555", elinewidth=0.7, capthick=0.7))
        ax.set_xticks(x, [subject_label(s) for s in r.subjects], rotation=20, ha="right")
        ax.set_ylim(0, 1.3)
        ax.set_yticks(np.linspace(0, 1, 6))
        ax.set_ylabel("accuracy")
        ax.set_title(f"{r.title}: {r.note}")
        ax.legend(loc="upper left", bbox_to_anchor=(1.0, 1.0), frameon=False)
    fig.suptitle("Model choice per subject: a complementary pair vs a dominated pair")
    return _layout(fig, axes.ravel(), f"Data — {res[0].source}. Subjects = the logs' Source field (5 test questions "
                                      "each, so bars are coarse); error bars ±2 SE over a subject's questions.", legend=False)


#: adaptive-sampling policies (muxsim.adaptive, muxsim.adaptive_mux): one marker each, colours cycle after the methods'
ADAPTIVE_MARKERS = {"lead": "s", "decided": "s", "decided_valid": "D"}


@_styled
def fig_adaptive(res, source: str, band: bool = False) -> Figure:
    """Accuracy against expected draws per question: the fixed-k curve and each adaptive policy's budgets
    (an :class:`muxsim.adaptive_population.AdaptiveCurves`).  Every point is evaluated on the same questions,
    so differences between them are paired and far below the SE over questions, which the caption states
    (and ``band=True`` draws as ±2 SE around the fixed curve)."""
    fig = Figure(figsize=(6.2, 4.6))
    ax = fig.subplots()
    fx = res.fixed
    key = "best_sc" if res.fixed_method.startswith("sc[") else ("mux_valid" if res.fixed_method == "mux_valid" else "mux")
    _line(ax, fx["samples"], fx["accuracy"], fx["accuracy_se"], key, label=f"fixed k: {res.fixed_method}", band=band,
          marker="o", ms=3)
    for j, k in enumerate(fx["k"]):
        ax.annotate(f"k={int(k)}", (fx["samples"][j], fx["accuracy"][j]), textcoords="offset points", xytext=(2, -9),
                    fontsize=6.5, color=COLORS[key])
    others = ["#E69F00", "#009E73", "#CC79A7", "#D55E00", "#7F7F7F", "#000000"]
    for n, (name, d) in enumerate(res.policies.items()):
        ax.plot(d["samples"], d["accuracy"], color=others[n % len(others)], marker=ADAPTIVE_MARKERS.get(name, "^"), ms=4,
                lw=1, label=f"{name} (budgets {int(res.budgets[0])}-{int(res.budgets[-1])})")
    ax.set_xlabel("expected draws per question (all models)")
    ax.set_ylabel("accuracy")
    ax.set_title(f"Adaptive sampling vs fixed k — models: {', '.join(short(m) for m in res.models)}")
    what = "questions" if res.empirical else "weighted population rows (mixtures)"
    se = float(np.max(fx["accuracy_se"]))
    note = f"; SE over questions up to {se:.3f} (same questions everywhere: differences are paired)" if se > 0 else ""
    return _layout(fig, [ax], f"{res.kind}, {res.questions} {what}{note}; data: {source}", ncol=2)
