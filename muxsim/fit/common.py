"""What the fits share: pilot counts, argument checks, the diagnostics record and the ``Fit`` base.

Every fit of :mod:`muxsim.fit` derives from :class:`Fit`:

* ``population(models, questions=...)`` — the fitted population for the exact
  engine (:func:`muxsim.population.evaluate`);
* ``predict(k, models=..., methods=..., level=0.9, draws=...)`` — predicted
  accuracy curves with their interval (:class:`muxsim.fit.intervals.Prediction`);
* ``summary()`` — the parameter table with every diagnostic (parameters at an
  optimiser bound, NaNs, fallbacks); ``diagnostics`` holds them as strings, and
  ``to_dict()`` saves them in the fit file.

Per-model methods (``single[m]``, ``sc[m]``) are predicted from the one-model
population of ``m``, so a model's own prediction never depends on which other
models are in the call; joint methods use the population of the models named.

Maths only (numpy/scipy); no I/O.
"""

from __future__ import annotations

import math
import zlib
from typing import ClassVar, Sequence

import numpy as np
from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.population import beta_quantile_z

__all__ = ["Fit", "counts", "model_key", "check_table", "shared_share", "fit_selection", "num_hessian", "at_bound",
           "beta_quantile_z", "FIT_FORMAT"]

#: version of the fit file written by :func:`muxsim.fit.save`; files without it are version 1
FIT_FORMAT = 2


def model_key(name: str) -> int:
    """A seed word for the model ``name`` (CRC-32 of its UTF-8 bytes): seeded draws keyed by it do not depend on
    where a table lists the model."""
    return zlib.crc32(str(name).encode("utf-8"))


def counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Q, n) correct, wrong and abstain counts of an answer table's codes (Q, n, m)."""
    c = (codes == rules.CORRECT).sum(axis=2)
    a = (codes == rules.ABSTAIN).sum(axis=2)
    return c, codes.shape[2] - c - a, a


def check_table(table) -> None:
    """A fit needs at least 2 questions and 1 logged sample."""
    if table.K < 1 or table.n_questions < 2:
        raise MuxsimError(f"need at least 2 questions and 1 sample to fit, got Q={table.n_questions}, K={table.K}")


def shared_share(codes: np.ndarray) -> float:
    """Among (question, pair of models) where both repeat a wrong answer, the share where it is the same one.

    NaN when no two models ever both repeat a wrong answer (the share is then
    not identified by the pilot)."""
    Q, n, _ = codes.shape
    same = total = 0
    for q in range(Q):
        top = []
        for i in range(n):
            w = codes[q, i][codes[q, i] > 0]
            if len(w) == 0:
                top.append(None)
                continue
            lab, cnt = np.unique(w, return_counts=True)
            top.append(int(lab[np.argmax(cnt)]) if cnt.max() >= 2 else None)
        for i in range(n):
            for j in range(i + 1, n):
                if top[i] is not None and top[j] is not None:
                    total += 1
                    same += top[i] == top[j]
    return same / total if total else float("nan")


def fit_selection(fit_models: Sequence[str], n_questions: int, models: Sequence[str] | None,
                  questions: Sequence[int] | None) -> tuple[list[str], tuple[int, ...]]:
    """Checked (model names, question indices) for the ``population()`` of a fit of logged questions
    (None: all of them)."""
    names = list(fit_models) if models is None else list(models)
    bad = [x for x in names if x not in fit_models]
    if bad:
        raise MuxsimError(f"model(s) {bad} are not in the fit; it has {list(fit_models)}")
    if len(set(names)) != len(names):
        raise MuxsimError(f"models {names}: a model is named twice")
    if not names:
        raise MuxsimError("models: empty selection")
    qs = tuple(range(n_questions)) if questions is None else tuple(int(q) for q in questions)
    if not qs or min(qs) < 0 or max(qs) >= n_questions:
        raise MuxsimError(f"questions={questions!r} must index the fit's {n_questions} questions")
    return names, qs


def num_hessian(f, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
    """Central-difference Hessian of ``f`` at ``x`` (step ``h``)."""
    d = len(x)
    H = np.zeros((d, d))
    f0 = f(x)
    for i in range(d):
        for j in range(i, d):
            ei = np.zeros(d)
            ej = np.zeros(d)
            ei[i] = h
            ej[j] = h
            if i == j:
                H[i, i] = (f(x + ei) - 2 * f0 + f(x - ei)) / h**2
            else:
                H[i, j] = H[j, i] = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (4 * h**2)
    return H


def at_bound(name: str, value: float, lo: float, hi: float, *, scale: str = "", tol: float = 1e-6) -> str | None:
    """A diagnostic line when an optimiser's (unconstrained-scale) ``value`` sits on its bound [lo, hi].

    ``scale`` names the transform (e.g. ``"log"``) for the message; None when the
    value is inside the box."""
    if not np.isfinite(value):
        return f"{name} is {value} (not finite)"
    for b, side in ((lo, "lower"), (hi, "upper")):
        if abs(value - b) <= tol * max(1.0, abs(b)):
            on = f"{scale} scale " if scale else ""
            return (f"{name} is at the optimiser's {side} bound ({on}value {value:.4g}, bound {b:g}): "
                    f"the pilot does not identify it")
    return None


class Fit:
    """Base of every fit: prediction with intervals, diagnostics in the summary (see module notes).

    Subclasses set ``kind`` (the file kind), ``models``, ``diagnostics`` and
    implement ``population``, ``table``, ``to_dict``/``from_dict`` and
    ``draw_laws`` (one draw of every question's laws from the fit's posterior,
    for the intervals).
    """

    kind: ClassVar[str] = ""
    #: the family's name for ``fit(table, kind=...)`` ("latent", "classes", "shrinkage")
    family: ClassVar[str] = ""
    #: the fitted population of a model set depends on which models are in it (cross-model priors)
    joint_dependent: ClassVar[bool] = False
    #: evaluate the population this many questions at a time (None: at once)
    chunk: ClassVar[int | None] = None

    def summary(self) -> str:
        """The parameter table, then one line per diagnostic (at a bound, NaN, fallback)."""
        lines = [self.table()]
        diags = list(getattr(self, "diagnostics", []) or [])
        if diags:
            lines.append(f"diagnostics ({len(diags)}):")
            lines += [f"  ! {d}" for d in diags]
        else:
            lines.append("diagnostics: none (no parameter at a bound, no NaN, no fallback)")
        return "\n".join(lines)

    def predict(self, k, *, models: Sequence[str] | None = None, methods: Sequence[str] | None = None, r: int = 1,
                level: float | None = 0.9, draws: int = 40, seed: int = 0, with_paper: bool = True,
                questions: Sequence[int] | None = None):
        """Predicted accuracy curves with a ``level`` predictive interval (None: point values only).

        The point value of each method is the fit's exact expectation; the
        interval comes from ``draws`` joint draws of the fit's parameters and
        of every question's laws (:mod:`muxsim.fit.intervals`).  ``questions``
        (fits of logged questions) averages over those question indices only."""
        from muxsim.fit.intervals import predict

        return predict(self, k, models=models, methods=methods, r=r, level=level, draws=draws, seed=seed,
                       with_paper=with_paper, questions=questions)

    #: what :meth:`pool_form` is, for messages ("" where it is the fit itself)
    pool_form_kind: ClassVar[str] = ""

    def pool_form(self) -> "Fit":
        """A fit whose population of a model set does not depend on the set, for screening many subsets
        (:func:`muxsim.predicted.predicted_search`): the fit itself unless it is ``joint_dependent``."""
        return self

    def draw_laws(self, models: Sequence[str], rng: np.random.Generator) -> np.ndarray:  # pragma: no cover
        raise NotImplementedError

    def _diagnostics_dict(self) -> dict:
        d = {"format": FIT_FORMAT, "diagnostics": list(getattr(self, "diagnostics", []) or [])}
        if getattr(self, "selection", None) is not None:  # set by kind="auto"
            d["selection"] = self.selection
        return d


def logit(p: float) -> float:
    p = min(max(p, 1e-12), 1 - 1e-12)
    return math.log(p / (1 - p))
