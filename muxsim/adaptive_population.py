"""Adaptive sampling on a population or a log: accuracy against expected samples, beside fixed k.

For each budget k and policy, the population's accuracy is ``sum_q w_q V_q`` and its expected number
of draws per question ``sum_q w_q N_q``, with (V_q, N_q) the exact value of the policy on question q
(:func:`muxsim.adaptive_mux.joint_value`).  Questions come from the population's
``layout()`` (:mod:`muxsim.population`): an :class:`~muxsim.population.Empirical` population (laws, or
the logged pools of a log, :func:`evaluate_log`) has one row per question; a
:class:`~muxsim.population.LatentDifficulty` population, or a fit's, has per question E rows
(quadrature nodes or classes) and model i's draws are iid given its own row, drawn with the mixture
weights independently of the other models given the question.  A policy's value is linear in those
mixture weights only for one model's iid draws *given the row*; the draws of a mixture are exchangeable,
not iid, so the pass uses, per model, the posterior predictive of the next draw given the model's
counts so far (``P(next = c | counts) = sum_e w_e prod_j p_ej^n_j p_ec / sum_e w_e prod_j p_ej^n_j``),
which is exact for one model and for several (each model's mixture is independent of the others'
given the question).  Cost: one joint pass per question, budget and policy (see
:mod:`muxsim.adaptive_mux` for the size of a pass).

The fixed-k reference is the exact engine's ``sc[model]`` (one model) or ``mux`` (several;
``mux_valid`` when every policy uses ``per_valid``; :func:`muxsim.population.evaluate`) at
k = 1..max(budgets), with k x n draws.
:func:`simulate` is the Monte Carlo mirror: a question drawn with its weight, a row per model drawn
with the mixture weights, then the answers, and the policy followed along them.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable, Iterable, Sequence

import numpy as np

from muxsim.adaptive_mux import Predictive, as_joint, draw_sequence, follow, joint_value
from muxsim.errors import MuxsimError
from muxsim.layout import mixture_weights
from muxsim.population import Empirical, evaluate as evaluate_fixed, select_models

__all__ = ["AdaptiveCurves", "evaluate", "simulate", "evaluate_log"]


@dataclass
class AdaptiveCurves:
    """Accuracy and expected draws per question of each policy at each budget, beside fixed k.

    ``policies[name]`` holds arrays over ``budgets``: ``accuracy``, ``accuracy_se``, ``samples``
    (expected total draws over all models), ``samples_se``.  ``fixed`` holds ``k``, ``accuracy``,
    ``accuracy_se`` and ``samples`` (= k x number of models) of ``fixed_method``.  SEs are over
    questions (empirical), 0 (quadrature), or Monte Carlo errors (``kind``).
    """

    budgets: np.ndarray
    models: tuple[str, ...]
    policies: dict[str, dict[str, np.ndarray]]
    fixed_method: str
    fixed: dict[str, np.ndarray]
    kind: str
    n_draws: int | None = None
    questions: int = 0
    empirical: bool = True
    notes: tuple[str, ...] = field(default_factory=tuple)

    def table(self, digits: int = 4) -> str:
        w = max([16, len(self.fixed_method) + 8] + [len(p) + 2 for p in self.policies])
        lines = [f"{'policy':<{w}}{'budget':>7}{'accuracy':>{digits + 12}}{'samples':>{digits + 12}}"]

        def cell(v: float, s: float) -> str:
            return f"{v:.{digits}f}" + (f" ±{s:.{digits}f}" if s > 0 else " " * (digits + 3))

        for j, k in enumerate(self.fixed["k"]):
            lines.append(f"{'fixed ' + self.fixed_method:<{w}}{int(k):>7}{cell(self.fixed['accuracy'][j], self.fixed['accuracy_se'][j]):>{digits + 12}}"
                         f"{self.fixed['samples'][j]:>{digits + 5}.{digits}f}")
        for name, d in self.policies.items():
            for j, b in enumerate(self.budgets):
                lines.append(f"{name:<{w}}{int(b):>7}{cell(d['accuracy'][j], d['accuracy_se'][j]):>{digits + 12}}"
                             f"{cell(d['samples'][j], d['samples_se'][j]):>{digits + 12}}")
        src = f"{self.kind}" + (f", {self.n_draws} draws" if self.n_draws else "")
        src += f", {self.questions} questions" if self.empirical else f", {self.questions} weighted population rows (mixtures)"
        lines.append(f"({src}; models in tie-break order: {', '.join(self.models)}; samples = expected draws "
                     "per question, all models)")
        lines += [f"note: {n}" for n in self.notes]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        f = lambda a: [float(x) for x in a]  # noqa: E731
        return {"kind": self.kind, "models": list(self.models), "budgets": [int(b) for b in self.budgets],
                "n_draws": self.n_draws, "questions": self.questions, "empirical": self.empirical, "fixed_method": self.fixed_method,
                "fixed": {"k": [int(k) for k in self.fixed["k"]], **{n: f(self.fixed[n]) for n in ("accuracy", "accuracy_se", "samples")}},
                "policies": {p: {n: f(v) for n, v in d.items()} for p, d in self.policies.items()},
                "notes": list(self.notes)}


def _check_budgets(budgets: int | Iterable[int]) -> np.ndarray:
    bs = [budgets] if isinstance(budgets, (int, np.integer)) and not isinstance(budgets, bool) else list(budgets)
    if not bs or any(isinstance(b, bool) or not isinstance(b, (int, np.integer)) or b < 1 for b in bs):
        raise MuxsimError(f"budgets={budgets!r} must be integers >= 1")
    return np.array(sorted(set(int(b) for b in bs)))


def _setup(pop, policies: Sequence, budgets, models):
    bs = _check_budgets(budgets)
    if isinstance(policies, (str, bytes)) or not isinstance(policies, Sequence) or len(policies) == 0:
        raise MuxsimError(f"policies={policies!r}: give a non-empty list of policies")
    idx = select_models(pop.models, models)
    names = tuple(pop.models[i] for i in idx)
    joint = [as_joint(p, len(idx)) for p in policies]
    labels = [str(p) for p in policies]
    if len(set(labels)) != len(labels):
        raise MuxsimError(f"policies {labels}: a policy is named twice")
    lay, mix, qw = pop.layout()
    E, mw = mixture_weights(mix, lay.n_models, lay.n_questions)
    mw = mw[idx]  # (n, Q, E): each model's weights per question
    Q = lay.n_questions // E
    w = lay.weights[:, idx, :].reshape(Q, E, len(idx), -1)
    if lay.mode == "pool":
        sizes = w.sum(axis=3)[:, 0, :]
        short = np.argwhere(sizes < bs.max())
        if len(short):
            q, i = short[0]
            raise MuxsimError(f"budget={int(bs.max())} is larger than the {int(sizes[q, i])} logged samples of model "
                              f"{names[i]!r} on question {q}")
    return bs, idx, names, joint, labels, lay.mode, E, mw, w, np.asarray(qw, dtype=float)


def _preds(mode: str, E: int, mw: np.ndarray, wq: np.ndarray) -> list[Predictive]:
    """Per-model predictives of one question, ``wq`` (E, n, C) with mixture weights ``mw`` (n, E), keeping only
    categories some model uses."""
    C = wq.shape[-1]
    keep = [0] + [c for c in range(1, C - 2) if wq[:, :, c].max() > 0] + [C - 2, C - 1]
    wq = wq[:, :, keep]
    if E == 1:
        return [Predictive(mode, wq[0, i]) for i in range(wq.shape[1])]
    return [Predictive("mix", wq[:, i, :], mw[i]) for i in range(wq.shape[1])]


def _fixed(pop, names, bs, joint) -> tuple[str, dict[str, np.ndarray]]:
    ks = np.arange(1, int(bs.max()) + 1)
    if len(names) == 1:
        method = f"sc[{names[0]}]"
    else:
        scores = {p.score for p in joint}
        method = "mux_valid" if scores == {"per_valid"} else "mux"
    c = evaluate_fixed(pop, ks, models=names, methods=[method], with_paper=False)
    return method, {"k": ks, "accuracy": c.values[method], "accuracy_se": c.se[method],
                    "samples": ks * float(len(names))}


def evaluate(pop, policies: Sequence, budgets: int | Iterable[int], *, models: Iterable[str] | None = None,
             progress: Callable[[Iterable], Iterable] | None = None) -> AdaptiveCurves:
    """Exact accuracy and expected draws of each policy at each budget on a population (module notes).

    ``policies``: :class:`~muxsim.adaptive_mux.Decided`, :class:`~muxsim.adaptive_mux.RunEach` (any
    number of models) or :class:`~muxsim.adaptive.Lead`, :class:`~muxsim.adaptive.Run` (exactly one
    model); ``models``: the subset, in the population's tie-break order.  ``progress`` wraps the loop
    over questions (e.g. ``tqdm``)."""
    bs, idx, names, joint, labels, mode, E, mw, w, qw = _setup(pop, policies, budgets, models)
    Q = len(w)
    vals = np.zeros((len(joint), len(bs), Q))
    draws = np.zeros_like(vals)
    loop = range(Q) if progress is None else progress(range(Q))
    for q in loop:
        preds = _preds(mode, E, mw[:, q], w[q])
        for a, pol in enumerate(joint):
            for b, k in enumerate(bs):
                v = joint_value(preds, pol, [int(k)] * len(idx))
                vals[a, b, q], draws[a, b, q] = v.accuracy, v.samples
    per_q_se = isinstance(pop, Empirical) and Q > 1
    se = lambda x: (x.std(axis=-1, ddof=1) / np.sqrt(Q)) if per_q_se else np.zeros(x.shape[:-1])  # noqa: E731
    out = {lab: {"accuracy": vals[a] @ qw, "accuracy_se": se(vals[a]), "samples": draws[a] @ qw,
                 "samples_se": se(draws[a])} for a, lab in enumerate(labels)}
    method, fixed = _fixed(pop, names, bs, joint)
    return AdaptiveCurves(bs, names, out, method, fixed, "exact", None, Q, isinstance(pop, Empirical))


def simulate(pop, policies: Sequence, budgets: int | Iterable[int], *, models: Iterable[str] | None = None,
             n_draws: int, rng: np.random.Generator) -> AdaptiveCurves:
    """Monte Carlo mirror of :func:`evaluate`: ``n_draws`` questions drawn with their weights, each
    model's row with the mixture weights, then its answers (the same sequences serve every policy and
    budget).  The fixed-k reference stays exact."""
    if not isinstance(rng, np.random.Generator):
        raise MuxsimError(f"rng={rng!r} must be a numpy Generator, e.g. numpy.random.default_rng(0)")
    if isinstance(n_draws, bool) or not isinstance(n_draws, int) or n_draws < 2:
        raise MuxsimError(f"n_draws={n_draws!r} must be an integer >= 2")
    bs, idx, names, joint, labels, mode, E, mw, w, qw = _setup(pop, policies, budgets, models)
    n = len(idx)
    kmax = int(bs.max())
    cr = np.zeros((len(joint), len(bs), n_draws))
    used = np.zeros_like(cr)
    qs = rng.choice(len(w), size=n_draws, p=qw / qw.sum())
    for d, q in enumerate(qs):
        rows = [rng.choice(E, p=mw[i, q]) for i in range(n)]
        preds = _preds(mode, 1, mw[:, q], np.stack([w[q, rows[i], i][None, :] for i in range(n)], axis=1))
        C = preds[0].width
        seqs = [draw_sequence(p, kmax, rng) for p in preds]
        for a, pol in enumerate(joint):
            for b, k in enumerate(bs):
                cr[a, b, d], used[a, b, d] = follow(seqs, pol, [int(k)] * n, C)
    sd = lambda x: x.std(axis=-1, ddof=1) / np.sqrt(n_draws)  # noqa: E731
    out = {lab: {"accuracy": cr[a].mean(axis=-1), "accuracy_se": sd(cr[a]), "samples": used[a].mean(axis=-1),
                 "samples_se": sd(used[a])} for a, lab in enumerate(labels)}
    method, fixed = _fixed(pop, names, bs, joint)
    return AdaptiveCurves(bs, names, out, method, fixed, "monte carlo", n_draws, len(w), isinstance(pop, Empirical))


def evaluate_log(table, policies: Sequence, budgets: int | Iterable[int], *, models: Iterable[str] | None = None,
                 progress: Callable[[Iterable], Iterable] | None = None) -> AdaptiveCurves:
    """Exact policy values on a log (:class:`~muxsim.logs.evaluate.AnswerTable`): the mean over its
    questions of the expectation over the order of each model's logged answers; ``models`` in
    tie-break order (default: the log's order)."""
    return evaluate(table.empirical(models), policies, budgets, progress=progress)
