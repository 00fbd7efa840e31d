"""Latent-class calibration: predict more samples of the same questions from a pilot.

Model.  Each question belongs to one of C unseen classes (for example the
kind of problem) with probabilities ``weights``.  Given its class c, the
models answer independently; model i

* abstains on each draw with probability ``abstain[c, i]``;
* is right on a valid draw with probability p, where p ~ Beta(a[c, i], b[c, i])
  varies over the class's questions;
* sends a wrong valid draw to its attractor with probability
  ``attractor[c, i]``, else to a fresh unique answer.  On each question a
  model's attractor is the question's shared wrong answer with probability
  ``share`` (independently per model), else an answer of its own; ``share`` is
  the square root of the pilot's rate of two models repeating the same wrong
  answer (:func:`muxsim.fit.common.shared_share`; 0, and a diagnostic, when no
  two models ever repeat a wrong answer).

So models are correlated only through the class (positively when they are
good at the same classes, negatively when their skills are complementary),
and a class can hold questions where a model is confidently wrong (attractor
near 1).  The pilot log-likelihood of question q is
``log sum_c w_c prod_i L_qci`` with

    L_qci = BetaBinom(correct | valid; a, b) * Binom(abstain | m; abstain) * P(wrong-answer pattern | attractor),

where the pattern's probability is ``s^j (1 - s)^(r - j)`` when one wrong answer
repeats j >= 2 times among the r wrong draws and ``(1 - s)^r + r s (1 - s)^(r - 1)``
when none repeats (with m >= 4 samples a second repeated answer is read as
tail).  :func:`fit_classes` maximises it by EM (several starts), choosing C by
AIC.

Optionally (``locked=True``) model i may also be *locked* on a question with
probability ``lock_share[c, i]``: it is never right and every valid draw is one
and the same wrong answer (its attractor), abstaining at its class's rate, so
``L_qci = pi Binom(abstain | m; abstain) [compatible] + (1 - pi) L_regular``,
where a pilot cell is compatible when it has no correct draw and its wrong draws
are all one answer (:func:`muxsim.fit.locked.compatible`).  EM then carries each
cell's posterior of being locked given its class; the regular law's accuracy and
attractor weight each cell by its probability of not being locked.  The class
model alone lets a model's consistently-wrong probability fall as ``s^k`` with
the class's attractor weight ``s``; real models repeat one wrong answer on some
questions every time (on the jhu logs at T = 0.7, 64% of the cells whose 3 pilot
draws were one wrong answer gave it in all 7 held-out draws).

Optionally (``abstain_spread=True``) the abstention rate varies over a class's
questions too: on each question model i abstains at a rate ~ Beta(conc ab, conc (1 - ab)) with
the class's mean ``ab = abstain[c, i]`` and concentration ``conc = abstain_conc[c, i]``, so the
abstentions enter as ``BetaBinom(abstain | m; conc ab, conc (1 - ab))``.  Real models abstain on some
questions every time and never on others (on the jhu logs at T = 0.7, llama-2-70b-chat abstains
on 47% of its pilot draws, in all 3 on 29 questions and in none on 33, where a binomial rate gives
10 and 15): with one rate per class a model's valid draws, hence its self-consistency, MUX,
union and consistently-wrong probabilities, grow or fall with k as if every question were alike.
EM fits the two parameters per class and model like the accuracy's; predictions take each
question's posterior Beta(conc ab + abstentions, conc (1 - ab) + valid draws), the ``nodes`` rows
on a rank-1 lattice over the (p, abstention) quantiles (:func:`lattice`: each margin takes the
``nodes`` equally spaced quantiles).  The locked state depends on the abstention rate alone: its rows
sit at the G = ceil(nodes / 2) Gauss nodes of that posterior (:func:`beta_gauss`), which integrate its
k-draw law exactly for every k <= 2 G - 1 (k <= 11 at the default 12 nodes).

Prediction for the same questions conditions on their pilot: question q is in
class c with posterior probability ``resp[q, c]``, and there model i's accuracy
has the posterior Beta(a + correct, b + valid - correct).  Every method is then
the exact posterior expectation up to the quadrature of p: ``nodes``
equal-weight quantiles of each posterior (the engine's mixture mode), while
the classes enter as weighted copies of each question.

Intervals (:meth:`ClassFit.draw_laws`): each draw takes one of ``refits``
bootstrap refits of the class parameters (the questions resampled with
replacement, EM at the fitted number of classes warm-started from the fit's
responsibilities of the resampled questions, :func:`refit_classes`), recomputes
every pilot question's class posterior under those parameters, then draws per
question a class from it, each model's accuracy from its posterior Beta and
each attractor's sharing from ``share`` -- one law per question and model.  So
the spread over draws holds both the class parameters' uncertainty (parameter
uncertainty, as the shrinkage fit's refits) and the questions' own posterior
uncertainty given their pilot.  ``share`` and the number of classes are held.
The refits are computed once per fit (seeded, cached) and shared by every
prediction, so a model set's interval never depends on the call's other sets.
"""

from __future__ import annotations

import dataclasses
import itertools
import math
from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np
from scipy import optimize
from scipy.special import betaln, digamma, gammaln, logsumexp
from scipy.stats import beta as beta_dist

from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit, at_bound, check_table, fit_selection, shared_share
from muxsim.fit.locked import compatible
from muxsim.layout import Layout, from_arrays

__all__ = ["ClassFit", "fit_classes", "refit_classes", "ClassPosteriorPopulation", "beta_gauss"]

_EPS = 1e-9
#: the locked state's share where EM starts, and its bounds [LOCK_MIN, 1 - LOCK_MIN]
LOCK_START, LOCK_MIN = 0.1, 1e-6
#: the abstention rate's Beta concentration where EM starts (``abstain_spread``)
ABSTAIN_CONC_START = 2.0


def _pilot_counts(codes: np.ndarray) -> dict[str, np.ndarray]:
    """(Q, n) correct, valid, abstain and wrong counts, and the largest repeat j of one wrong answer (0 if none)."""
    c = (codes == rules.CORRECT).sum(axis=2)
    a = (codes == rules.ABSTAIN).sum(axis=2)
    v = codes.shape[2] - a
    Q, n, _ = codes.shape
    j = np.zeros((Q, n), dtype=int)
    for q in range(Q):
        for i in range(n):
            w = codes[q, i][codes[q, i] > 0]
            if len(w):
                top = np.unique(w, return_counts=True)[1].max()
                j[q, i] = top if top >= 2 else 0
    return {"c": c, "v": v, "a": a, "r": v - c, "j": j, "m": codes.shape[2], "ok": compatible(codes)}


def lattice(nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """A rank-1 lattice of ``nodes`` points in the unit square, (u, v): each coordinate takes every
    (e + 1/2) / nodes once, u in order; v = u's index times the generator mod nodes, the generator the
    integer prime to nodes nearest nodes (sqrt(5) - 1) / 2 (the golden-ratio lattice)."""
    e = np.arange(nodes)
    g = min((x for x in range(1, nodes + 1) if math.gcd(x, nodes) == 1),
            key=lambda x: (abs(x - nodes * (math.sqrt(5) - 1) / 2), x))
    return (e + 0.5) / nodes, ((e * g) % nodes + 0.5) / nodes


def beta_gauss(al: np.ndarray, be: np.ndarray, nodes: int) -> tuple[np.ndarray, np.ndarray]:
    """Gauss quadrature of Beta(al, be) (Gauss--Jacobi on [0, 1]), batched over the broadcast shape of
    ``al`` and ``be``: ``(x, w)`` of shape ``(..., nodes)``, nodes ascending, weights summing to 1, so that
    ``sum_g w_g f(x_g) = E f(X)`` exactly for every polynomial f of degree <= 2 nodes - 1.

    Golub--Welsch on the Jacobi matrix of the Jacobi polynomials P^(be - 1, al - 1) on [-1, 1]
    (x = (1 + t) / 2); recurrence coefficients with ``s = al + be - 2`` and j >= 1:
    ``diag_0 = (al - be) / (s + 2)``, ``diag_j = ((al-1)^2 - (be-1)^2) / ((2j + s)(2j + s + 2))``,
    ``offdiag_1^2 = 4 al be / ((s + 2)^2 (s + 3))``, ``offdiag_j^2 = 4 j (j + be - 1)(j + al - 1)(j + s) /
    ((2j + s)^2 (2j + s + 1)(2j + s - 1))`` for j >= 2."""
    al, be = np.broadcast_arrays(np.asarray(al, dtype=float), np.asarray(be, dtype=float))
    a, b = be[..., None] - 1, al[..., None] - 1  # Jacobi exponents on (1 - t) and (1 + t)
    s = a + b
    j = np.arange(1, nodes, dtype=float)  # j >= 1 (the diagonal), j >= 2 (the off-diagonal): no 0/0 there
    diag = np.concatenate([(b - a) / (s + 2), (b**2 - a**2) / ((2 * j + s) * (2 * j + s + 2))], axis=-1)
    j2 = j[1:]
    off2 = np.concatenate([4 * (1 + a) * (1 + b) / ((s + 2) ** 2 * (s + 3)),
                           4 * j2 * (j2 + a) * (j2 + b) * (j2 + s)
                           / ((2 * j2 + s) ** 2 * (2 * j2 + s + 1) * (2 * j2 + s - 1))], axis=-1)[..., : nodes - 1]
    J = np.zeros(al.shape + (nodes, nodes))
    k = np.arange(nodes)
    J[..., k, k] = diag
    J[..., k[:-1], k[1:]] = J[..., k[1:], k[:-1]] = np.sqrt(off2)
    t, vec = np.linalg.eigh(J)
    return (1 + t) / 2, vec[..., 0, :] ** 2


def _abstain_ll(d: dict, ab: np.ndarray, abc: np.ndarray | None) -> np.ndarray:
    """log P(abstention count | m draws): Binomial(m, ab), or with the concentrations ``abc`` the Beta-binomial
    of mean ``ab`` (module notes); broadcast over (Q, C, n)."""
    ac, v, m = d["a"][:, None, :], d["v"][:, None, :], d["m"]
    ab = np.clip(ab, _EPS, 1 - _EPS)
    coef = gammaln(m + 1) - gammaln(ac + 1) - gammaln(m - ac + 1)
    if abc is None:
        return coef + ac * np.log(ab) + v * np.log1p(-ab)
    return coef + betaln(ac + abc * ab, v + abc * (1 - ab)) - betaln(abc * ab, abc * (1 - ab))


def _beta_binom_mle(k: np.ndarray, n: np.ndarray, wq: np.ndarray, start: tuple[float, float]) -> tuple[float, float]:
    """Weighted maximum likelihood (alpha, beta) of BetaBinom(k | n; alpha, beta), on log scales bounded to
    [-5, 7], from ``start``."""
    def nll(par):
        al, be = np.exp(par)
        f = -float(wq @ (betaln(k + al, n - k + be) - betaln(al, be)))
        dv = digamma(n + al + be) - digamma(al + be)  # d/d log(alpha), d/d log(beta) of betaln terms
        ga = -al * float(wq @ (digamma(k + al) - digamma(al) - dv))
        gb = -be * float(wq @ (digamma(n - k + be) - digamma(be) - dv))
        return f, np.array([ga, gb])

    res = optimize.minimize(nll, np.log(start), jac=True, method="L-BFGS-B", bounds=[(-5, 7)] * 2)
    al, be = np.exp(res.x)
    return float(al), float(be)


def _attractor_ll(r: np.ndarray, j: np.ndarray, s: np.ndarray) -> np.ndarray:
    s = np.clip(s, _EPS, 1 - _EPS)
    rep = j * np.log(s) + (r - j) * np.log1p(-s)
    none = np.log((1 - s) ** r + r * s * (1 - s) ** np.maximum(r - 1, 0))
    return np.where(j >= 2, rep, none)


def _component_ll(d: dict, a: np.ndarray, b: np.ndarray, ab: np.ndarray, s: np.ndarray,
                  pi: np.ndarray | None = None, abc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(Q, C, n): log L_qci (see module notes), binomial coefficients included; with the locked state's
    share ``pi`` (C, n), ``L = pi [compatible] Binom(abstain) + (1 - pi) L_regular``, and then also each
    cell's posterior of being locked given its class (else None)."""
    c, v, r, j = (d[x][:, None, :] for x in "cvrj")
    bb = gammaln(v + 1) - gammaln(c + 1) - gammaln(v - c + 1) + betaln(c + a, v - c + b) - betaln(a, b)
    abst = _abstain_ll(d, ab, abc)
    regular = bb + _attractor_ll(r, j, s)
    if pi is None:
        return abst + regular, None
    lock = np.where(d["ok"][:, None, :], np.log(pi), -np.inf)
    tot = np.logaddexp(lock, np.log1p(-pi) + regular)
    return abst + tot, np.exp(lock - tot)


def _m_step(d: dict, g: np.ndarray, a: np.ndarray, b: np.ndarray, z: np.ndarray | None = None,
            abc: np.ndarray | None = None) -> tuple[np.ndarray, ...]:
    """Weighted maximum likelihood of every class's parameters given responsibilities g (Q, C) and, with the
    locked state, each cell's posterior of being locked ``z`` (Q, C, n): the regular law's accuracy and
    attractor weight a cell by its probability of not being locked, the abstention rate by its class's.
    With the abstentions' concentrations ``abc`` (C, n) their Beta-binomial too, started from ``abc`` and the
    class's abstention rate: (a, b, ab, s, abc)."""
    C, n = a.shape
    a, b = a.copy(), b.copy()
    ab = np.zeros((C, n))
    s = np.zeros((C, n))
    abc = None if abc is None else abc.copy()
    for cl in range(C):
        for i in range(n):
            wq = g[:, cl] if z is None else g[:, cl] * (1 - z[:, cl, i])
            c, v, r, j = d["c"][:, i], d["v"][:, i], d["r"][:, i], d["j"][:, i]
            a[cl, i], b[cl, i] = _beta_binom_mle(c, v, wq, (a[cl, i], b[cl, i]))
            ab[cl, i] = (g[:, cl] @ d["a"][:, i]) / max(g[:, cl].sum() * d["m"], 1e-300)
            if abc is not None and 0 < ab[cl, i] < 1:  # (a rate of 0 or 1 has no spread to fit)
                al, be = _beta_binom_mle(d["a"][:, i], np.full(len(wq), d["m"]), g[:, cl],
                                         (ab[cl, i] * abc[cl, i], (1 - ab[cl, i]) * abc[cl, i]))
                ab[cl, i], abc[cl, i] = al / (al + be), al + be
            if (wq * r).sum() > 0:
                s[cl, i] = optimize.minimize_scalar(lambda x, r=r, j=j, wq=wq: -float(wq @ _attractor_ll(r, j, x)),
                                                    bounds=(1e-6, 1 - 1e-6), method="bounded").x
    return a, b, ab, s, abc


@dataclass
class ClassFit(Fit):
    """A fitted latent-class population of the pilot's questions (see module notes)."""

    kind: ClassVar[str] = "muxsim.fit/latent-class-1"
    family: ClassVar[str] = "classes"
    @property
    def interval_kind(self) -> str:
        if self.refit_bank():
            return f"posterior draws of the questions over {len(self.refit_bank())} bootstrap refits of the class parameters"
        return "posterior draws of the questions; class parameters held (no pilot repeats to refit on)"

    #: bootstrap refits of the class parameters behind the interval draws (0: parameters held at their estimates)
    refits: ClassVar[int] = 20

    models: tuple[str, ...]
    question_ids: tuple[str, ...]
    weights: np.ndarray  # (C,)
    a: np.ndarray  # (C, n)
    b: np.ndarray  # (C, n)
    abstain: np.ndarray  # (C, n)
    attractor: np.ndarray  # (C, n)
    resp: np.ndarray  # (Q, C) posterior class probabilities of the pilot's questions
    correct: np.ndarray  # (Q, n) pilot correct counts
    valid: np.ndarray  # (Q, n) pilot valid counts
    log_lik: float
    aic: dict  # C -> AIC of the best fit with C classes
    share: float = 0.0  # probability that a model's attractor is the question's shared wrong answer
    diagnostics: list[str] = field(default_factory=list)
    lock_share: np.ndarray | None = None  # (C, n) share of a class's questions where a model is locked; None: no lock
    lock: np.ndarray | None = None  # (Q, C, n) P(model locked on the question | pilot, class)
    abstain_conc: np.ndarray | None = None  # (C, n) with abstain_spread: the abstention rate's Beta concentration
    pilot_abstain: np.ndarray | None = None  # (Q, n) pilot abstention counts, with abstain_spread

    def abstain_posterior(self, q: np.ndarray, cls: np.ndarray, AB: np.ndarray | None = None,
                          ABC: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray]:
        """Beta shapes (P, n) each of the abstention rate of every model on pilot question ``q[k]`` in class
        ``cls[k]``: Beta(conc ab + abstentions, conc (1 - ab) + valid draws) under the class means ``AB`` and
        concentrations ``ABC`` (C, n; default the fit's); ``abstain_spread`` fits only."""
        AB = np.clip(self.abstain if AB is None else AB, _EPS, 1 - _EPS)
        ABC = self.abstain_conc if ABC is None else ABC
        return (ABC * AB)[cls] + self.pilot_abstain[q], (ABC * (1 - AB))[cls] + self.valid[q]

    @property
    def n_classes(self) -> int:
        return len(self.weights)

    def population(self, models: Sequence[str] | None = None, *, nodes: int = 12,
                   questions: Sequence[int] | None = None) -> "ClassPosteriorPopulation":
        names, qs = fit_selection(self.models, len(self.question_ids), models, questions)
        if isinstance(nodes, bool) or not isinstance(nodes, int) or nodes < 1:
            raise MuxsimError(f"nodes={nodes!r} must be an integer >= 1")
        return ClassPosteriorPopulation(self, tuple(names), nodes, qs)

    def table(self) -> str:
        lines = [f"{'class':<7}{'weight':>8}  " + "  ".join(f"{m[:14]:>30}" for m in self.models),
                 f"{'':<17}" + "  ".join(f"{'mean p (a, b) abst attr' + ('' if self.lock is None else ' lock'):>30}"
                                         for _ in self.models)]
        for cl in np.argsort(-self.weights):
            cells = [f"{self.a[cl, i] / (self.a[cl, i] + self.b[cl, i]):.2f} ({self.a[cl, i]:.2g}, {self.b[cl, i]:.2g}) "
                     f"{self.abstain[cl, i]:.2f} {self.attractor[cl, i]:.2f}"
                     + ("" if self.lock_share is None else f" {self.lock_share[cl, i]:.2f}") for i in range(len(self.models))]
            lines.append(f"{int(cl):<7}{self.weights[cl]:>8.3f}  " + "  ".join(f"{x:>30}" for x in cells))
        lines.append(f"(EM, Q={len(self.question_ids)}, log-lik {self.log_lik:.1f}; AIC by number of classes: "
                     + ", ".join(f"{k}: {v:.1f}" for k, v in sorted(self.aic.items()))
                     + f"; attractor shared with probability {self.share:.2f}"
                + ("" if self.abstain_conc is None else "; abstention rates Beta over each class's questions")
                + ")")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        """JSON-ready data: the parameters, and the pilot's counts and class posteriors that predictions need."""
        return {"kind": self.kind, "models": list(self.models), "question_ids": list(self.question_ids),
                "n_classes": self.n_classes, "weights": self.weights.tolist(), "a": self.a.tolist(),
                "b": self.b.tolist(), "abstain": self.abstain.tolist(), "attractor": self.attractor.tolist(),
                "resp": self.resp.tolist(), "correct": self.correct.tolist(), "valid": self.valid.tolist(),
                "log_lik": self.log_lik, "aic": {str(k): v for k, v in self.aic.items()}, "share": self.share,
                **({} if self.lock is None else {"lock_share": self.lock_share.tolist(), "lock": self.lock.tolist()}),
                **({} if self.abstain_conc is None else {"abstain_conc": self.abstain_conc.tolist(),
                                                         "pilot_abstain": self.pilot_abstain.tolist()}),
                **self._diagnostics_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "ClassFit":
        if d.get("kind") != cls.kind:
            raise MuxsimError(f"fit kind={d.get('kind')!r} is not {cls.kind!r}")
        arr = lambda k, t=float: np.asarray(d[k], dtype=t)  # noqa: E731
        return cls(tuple(d["models"]), tuple(d["question_ids"]), arr("weights"), arr("a"), arr("b"), arr("abstain"),
                   arr("attractor"), arr("resp"), arr("correct", np.int64), arr("valid", np.int64), float(d["log_lik"]),
                   {int(k): float(v) for k, v in d["aic"].items()}, float(d.get("share", 0.0)),
                   list(d.get("diagnostics", [])), *((None, None) if d.get("lock") is None else (arr("lock_share"), arr("lock"))),
                   *((None, None) if d.get("abstain_conc") is None
                     else (arr("abstain_conc"), arr("pilot_abstain", np.int64))))

    def draw_laws(self, models: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        """One posterior draw of every pilot question's laws, (Q, n, n + 4) (see module notes).

        Columns: correct, model i's own attractor (1 + i), the question's shared
        attractor (1 + n), tail, abstain.  With the locked state, a model drawn locked gives its attractor
        on every valid draw."""
        names, _ = fit_selection(self.models, len(self.question_ids), models, None)
        idx = [self.models.index(m) for m in names]
        bank = self.refit_bank()
        if bank:
            resp, A, B, AB, S, Z, ABC = bank[int(rng.integers(0, len(bank)))]
        else:
            resp, A, B, AB, S, Z, ABC = (self.resp, self.a, self.b, self.abstain, self.attractor, self.lock,
                                         self.abstain_conc)
        Q, n = resp.shape[0], len(idx)
        u = rng.random((Q, 1))
        cls = np.minimum((u > np.cumsum(resp, axis=1)).sum(axis=1), resp.shape[1] - 1)
        c, v = self.correct[:, idx], self.valid[:, idx]
        p = rng.beta(A[cls][:, idx] + c, B[cls][:, idx] + v - c)
        ab, s = AB[cls][:, idx], S[cls][:, idx]
        if ABC is not None:  # each question's own abstention rate, from its posterior in the drawn class
            ab = rng.beta(*(x[:, idx] for x in self.abstain_posterior(np.arange(Q), cls, AB, ABC)))
        shared = rng.random((Q, n)) < self.share
        W = np.zeros((Q, n, n + 4))
        wrong = (1 - ab) * (1 - p)
        W[:, :, 0] = (1 - ab) * p
        for k in range(n):
            W[:, k, 1 + k] = np.where(shared[:, k], 0.0, wrong[:, k] * s[:, k])
        W[:, :, 1 + n] = np.where(shared, wrong * s, 0.0)
        W[:, :, n + 2] = wrong * (1 - s)
        W[:, :, n + 3] = ab
        if Z is not None:  # each model locked or not, by its posterior in the drawn class
            locked = rng.random((Q, n)) < Z[np.arange(Q), cls][:, idx]
            own = np.zeros((Q, n, n + 4))
            own[:, :, 1:1 + n] = np.where(shared, 0.0, 1 - ab)[:, :, None] * np.eye(n)[None]
            own[:, :, 1 + n] = np.where(shared, 1 - ab, 0.0)
            own[:, :, n + 3] = ab
            W = np.where(locked[:, :, None], own, W)
        return W

    def refit_bank(self) -> list[tuple[np.ndarray, ...]]:
        """The ``refits`` bootstrap refits behind the interval draws, computed once (seed 0) and cached:
        each (resp (Q, C), a, b, abstain, attractor, lock, abstain_conc) with resp every pilot question's class
        posterior and lock (Q, C, n) every cell's posterior of being locked (or None) under the refitted
        parameters (abstain_conc None without ``abstain_spread``).
        Needs the pilot's wrong-answer repeats, which the fit file does not keep: a fit without them (loaded
        from a file) holds its parameters (empty bank)."""
        cache = self.__dict__.get("_refit_bank")
        if cache is not None:
            return cache
        d = self.__dict__.get("_pilot")
        bank = [] if d is None or self.refits < 1 else refit_classes(self, d, self.refits, seed=0)
        self.__dict__["_refit_bank"] = bank
        return bank


def _posterior(d: dict, w: np.ndarray, a: np.ndarray, b: np.ndarray, ab: np.ndarray, s: np.ndarray,
               pi: np.ndarray | None = None, abc: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray | None]:
    """(Q, C) class posteriors of the questions in ``d`` under the class parameters (E-step), and (Q, C, n)
    each cell's posterior of being locked given the class (None without the locked state)."""
    cell, z = _component_ll(d, a[None], b[None], ab[None], s[None], None if pi is None else pi[None],
                            None if abc is None else abc[None])
    comp = cell.sum(axis=2) + np.log(np.clip(w, 1e-12, None))[None]
    return np.exp(comp - logsumexp(comp, axis=1)[:, None]), z


def _take(d: dict, rows: np.ndarray) -> dict:
    return {k: (v[rows] if isinstance(v, np.ndarray) else v) for k, v in d.items()}


def refit_classes(f: "ClassFit", d: dict, refits: int, *, seed: int = 0, iters: int = 25,
                  tol: float = 1e-5) -> list[tuple[np.ndarray, ...]]:
    """Bootstrap refits of a :class:`ClassFit`'s class parameters: parameter uncertainty for the intervals.

    Each refit resamples the Q questions with replacement, runs EM at the
    fit's number of classes from the fit's own responsibilities of the
    resampled questions (a warm start: no label switching, few iterations),
    and returns (resp, a, b, abstain, attractor, lock, abstain_conc) with ``resp`` every pilot
    question's class posterior and ``lock`` (Q, C, n) every cell's posterior of being locked (or None) under
    the refitted parameters."""
    rng = np.random.default_rng([seed, 7])
    Q = f.resp.shape[0]
    out = []
    for _ in range(refits):
        rows = rng.integers(0, Q, Q)
        db = _take(d, rows)
        run = _em_from(db, f.resp[rows], f.a.copy(), f.b.copy(), iters, tol, f.lock_share,  # warm start
                       f.abstain_conc)
        _, g, a, b, ab, s, pi, _, abc = run
        w = np.clip(g.mean(axis=0), 1e-12, None)
        resp, z = _posterior(d, w / w.sum(), a, b, ab, s, pi, abc)
        out.append((resp, a, b, ab, s, z, abc))
    return out


def _em(d: dict, C: int, rng: np.random.Generator, iters: int, tol: float, locked: bool = False,
        abstain_spread: bool = False):
    Q, n = d["c"].shape
    return _em_from(d, rng.dirichlet(np.ones(C), size=Q), np.ones((C, n)), np.ones((C, n)), iters, tol,
                    np.full((C, n), LOCK_START) if locked else None,
                    np.full((C, n), ABSTAIN_CONC_START) if abstain_spread else None)


def _em_from(d: dict, g: np.ndarray, a: np.ndarray, b: np.ndarray, iters: int, tol: float,
             pi: np.ndarray | None = None, abc: np.ndarray | None = None):
    """EM from responsibilities ``g`` (Q, C) and Beta parameters ``a``, ``b`` (C, n), with the locked state
    from its shares ``pi`` (C, n) where given, and the abstentions' Beta from its concentrations ``abc`` (C, n)
    where given: (log-lik, g, a, b, ab, s, pi, z, abc), ``z`` (Q, C, n) each cell's
    posterior of being locked given its class (``pi`` and ``z`` None without the locked state)."""
    ll_old, z = -np.inf, None
    for _ in range(iters):
        a, b, ab, s, abc = _m_step(d, g, a, b, z, abc)
        if z is not None:  # the share of locked cells of each class and model
            pi = np.clip((g[:, :, None] * z).sum(axis=0) / np.clip(g.sum(axis=0), 1e-300, None)[:, None],
                         LOCK_MIN, 1 - LOCK_MIN)
        w = np.clip(g.mean(axis=0), 1e-12, None)
        cell, z = _component_ll(d, a[None], b[None], ab[None], s[None], None if pi is None else pi[None],
                                None if abc is None else abc[None])
        comp = cell.sum(axis=2) + np.log(w)[None]
        tot = logsumexp(comp, axis=1)
        ll = float(tot.sum())
        g = np.exp(comp - tot[:, None])
        if ll - ll_old < tol * abs(ll):
            break
        ll_old = ll
    return ll, g, a, b, ab, s, pi, z, abc


def fit_classes(table, n_classes: int | Sequence[int] = (1, 2, 3, 4), *, starts: int = 3, seed: int = 0,
                iters: int = 150, tol: float = 1e-6, locked: bool = False, abstain_spread: bool = False) -> ClassFit:
    """Fit the latent-class population to a pilot :class:`~muxsim.logs.evaluate.AnswerTable` by EM.

    For each number of classes in ``n_classes``, the best of ``starts`` EM runs
    from random responsibilities (seeded by ``seed``); the number of classes
    with the lowest AIC (``-2 log-lik + 2 params``, params = C - 1 + 4 C n, + C n
    with the locked state, + one per (class, model) whose abstention rate is neither 0 nor 1 with
    ``abstain_spread``; AIC rather than BIC because the fit is for prediction) is kept.
    With ``locked=True`` each model may be locked on one wrong answer on a question (see module notes),
    with a share per class and model fitted in the same EM.  With ``abstain_spread=True`` each question's
    abstention rate is Beta distributed around its class's (one more parameter per class and model that
    abstains at all; module notes).
    """
    check_table(table)
    Cs = [n_classes] if isinstance(n_classes, (int, np.integer)) else list(n_classes)
    if not Cs or any(isinstance(C, bool) or not isinstance(C, (int, np.integer)) or C < 1 for C in Cs):
        raise MuxsimError(f"n_classes={n_classes!r} must be integers >= 1")
    d = _pilot_counts(table.codes)
    Q, n = d["c"].shape
    rng = np.random.default_rng(seed)
    best, aic = None, {}
    for C in Cs:
        runs = [_em(d, int(C), rng, iters, tol, locked, abstain_spread) for _ in range(starts if C > 1 else 1)]
        run = max(runs, key=lambda x: x[0])
        spread = int(((run[4] > 0) & (run[4] < 1)).sum()) if abstain_spread else 0  # (a rate of 0 or 1: no spread)
        aic[int(C)] = -2 * run[0] + 2 * (C - 1 + (4 + locked) * C * n + spread)
        if best is None or aic[int(C)] < aic[best[0]]:
            best = (int(C), run)
    _, (ll, g, a, b, ab, s, pi, z, abc) = best
    pair = shared_share(table.codes)
    diags = []
    for cl in range(len(a)):
        for i, nm in enumerate(table.models):
            for par, val in (("a", a[cl, i]), ("b", b[cl, i])):
                msg = at_bound(f"class {cl}, {nm}: {par}", math.log(val), -5, 7, scale="log")
                if msg:
                    diags.append(msg)
    if abc is not None:  # (a class rate of 0 or 1 keeps its start: no spread to fit)
        for cl, i in zip(*np.nonzero((ab > 0) & (ab < 1))):
            for par, val in (("abstention alpha", abc[cl, i] * ab[cl, i]),
                             ("abstention beta", abc[cl, i] * (1 - ab[cl, i]))):
                msg = at_bound(f"class {cl}, {table.models[i]}: {par}", math.log(val), -5, 7, scale="log")
                if msg:
                    diags.append(msg)
    if pi is not None:  # a share at its upper bound locks the model on every question of the class
        diags += [f"class {cl}, {table.models[i]}: locked share at its upper bound {1 - LOCK_MIN:g} (every question "
                  "of the class locked)" for cl, i in zip(*np.nonzero(pi >= 1 - LOCK_MIN))]
        low = int((pi <= LOCK_MIN).sum())
        if low:
            diags.append(f"locked share at its lower bound {LOCK_MIN:g} (no locked questions) for {low} of the "
                         f"{pi.size} (class, model) cells")
    if math.isnan(pair):
        diags.append("shared attractor share is NaN (no two models ever repeat a wrong answer on one question): "
                     "fallback share=0 (every attractor private)")
    if len(Cs) > 1 and best[0] == max(Cs):
        diags.append(f"AIC chose the largest number of classes tried, {best[0]}: more might fit better")
    out = ClassFit(tuple(table.models), tuple(table.question_ids), g.mean(axis=0), a, b, ab, s, g,
                   d["c"].copy(), d["v"].copy(), ll, aic, 0.0 if math.isnan(pair) else math.sqrt(pair), diags, pi, z,
                   abc, None if abc is None else d["a"].copy())
    out.__dict__["_pilot"] = d  # the pilot's counts, for the intervals' bootstrap refits (not saved)
    return out


@dataclass(frozen=True)
class ClassPosteriorPopulation:
    """The pilot's questions under a :class:`ClassFit`, each class a weighted copy of the question.

    ``layout()`` has one mixture of ``nodes`` rows per (question, class,
    sharing pattern), for classes with posterior probability above 1e-9
    (renormalised per question): row e gives model i accuracy p at the
    (e + 1/2) / nodes quantile of its posterior Beta (with ``abstain_spread``, paired on :func:`lattice` with a
    quantile of its abstention rate's posterior); with the locked state, one more row (with ``abstain_spread``,
    one per Gauss node of the abstention rate's posterior, ceil(nodes / 2) of them, weighted by the Gauss
    weights) where every valid draw of model i is its attractor, weighted per model by its
    posterior of being locked (the other rows share the rest; :func:`muxsim.layout.mixture_weights`).  Model i's attractor is
    column i; in the pattern of a set S of two or more models (probability
    share^|S| (1 - share)^(n - |S|)) the models in S give the first one's
    column instead.  Every pattern keeps the pooled vote on its grid-free path.

    Exact evaluation (:func:`muxsim.population.exact_layout`) does not expand the patterns: every method
    but the vote combines per-model summaries, which a pattern does not change (it renames a model's
    attractor column), so it reads them from :meth:`private_form` (``share`` 0); the vote sums over the
    patterns from the same per-model tables (an engine made with ``share=vote_share``,
    :meth:`muxsim.exact.engine.Engine.vote_sharing`).  ``layout()`` itself keeps the patterns (Monte Carlo
    draws from it).
    """

    fit: ClassFit
    models: tuple[str, ...]
    nodes: int
    questions: tuple[int, ...]

    @property
    def vote_share(self) -> float:
        """The probability that a model's attractor is the question's shared answer (the patterns' law)."""
        return float(self.fit.share)

    def private_form(self) -> "ClassPosteriorPopulation":
        """The same population with every attractor private (``share`` 0): one layout question per (question,
        class) instead of one per sharing pattern too."""
        return ClassPosteriorPopulation(dataclasses.replace(self.fit, share=0.0), self.models, self.nodes, self.questions)

    def _kept(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(q_i, c_i, g): one layout question per (question, class) with posterior above 1e-9 -- its position
        in ``questions`` and its class -- and the class posteriors renormalised over the kept classes."""
        g = self.fit.resp[np.asarray(self.questions)]
        keep = g > 1e-9
        g = np.where(keep, g, 0.0)
        q_i, c_i = np.nonzero(keep)
        return q_i, c_i, g / g.sum(axis=1, keepdims=True)

    def question_of_rows(self) -> np.ndarray:
        """``(P,)``: for each layout question of :meth:`private_form`'s layout, its position in ``questions``
        (per-question values of an engine on that layout sum back as ``bincount(question_of_rows(), v * qw)``)."""
        return self._kept()[0]

    def layout(self) -> tuple[Layout, tuple[int, np.ndarray], np.ndarray]:
        f = self.fit
        idx = [f.models.index(m) for m in self.models]
        qs = np.asarray(self.questions)
        q_i, c_i, g = self._kept()  # one layout question per kept (question, class)
        n, E = len(idx), self.nodes
        cc, vv = f.correct[qs][q_i][:, idx], f.valid[qs][q_i][:, idx]  # (P, n)
        pa = f.a[c_i][:, idx] + cc
        pb = f.b[c_i][:, idx] + vv - cc
        u, u_ab = lattice(E)  # u: the (e + 1/2) / E quantiles; u_ab pairs each with an abstention quantile
        p = beta_dist.ppf(u[None, :, None], pa[:, None, :], pb[:, None, :])  # (P, E, n)
        if f.abstain_conc is None:
            ab = f.abstain[c_i][:, idx][:, None, :]
        else:  # each cell's posterior abstention rate at the lattice's second coordinate
            xa, xb = (x[:, idx] for x in f.abstain_posterior(qs[q_i], c_i))
            ab = beta_dist.ppf(u_ab[None, :, None], xa[:, None, :], xb[:, None, :])  # (P, E, n)
        s = f.attractor[c_i][:, idx][:, None, :]
        wrong = (1 - ab) * (1 - p)
        W = np.zeros((len(q_i), E, n, n + 3))
        W[..., 0] = (1 - ab) * p
        for k in range(n):  # model k's own attractor is column k
            W[:, :, k, 1 + k] = (wrong * s)[:, :, k]
        W[..., n + 1] = wrong * (1 - s)
        W[..., n + 2] = np.broadcast_to(ab, p.shape)
        z = None if f.lock is None else f.lock[qs][q_i, c_i][:, idx]  # (P, n) P(locked | pilot, class)
        if z is not None:  # the locked state, more rows: every valid draw on the model's attractor
            if f.abstain_conc is None:  # it depends on the abstention rate alone: one row
                lock_ab, lock_w = ab, np.ones((len(q_i), n, 1))
            else:  # Gauss nodes of each cell's posterior abstention rate: its k-draw laws exact for k <= 2 G - 1
                lock_ab, lock_w = beta_gauss(xa, xb, (E + 1) // 2)  # (P, n, G)
                lock_ab = lock_ab.transpose(0, 2, 1)
            L = lock_ab.shape[1]
            own = np.zeros((len(q_i), L, n, n + 3))
            own[..., 1 : 1 + n] = (1 - lock_ab[..., None]) * np.eye(n)[None, None]
            own[..., n + 2] = lock_ab
            W = np.concatenate([W, own], axis=1)
        # sharing patterns: the models in S give the first one's column (at most one model sharing = all private)
        pi = f.share
        pats, pw = [()], [(1 - pi) ** n + n * pi * (1 - pi) ** (n - 1)]
        for r in range(2, n + 1) if pi > 0 else ():
            for S in itertools.combinations(range(n), r):
                pats.append(S)
                pw.append(pi**r * (1 - pi) ** (n - r))
        copies = []
        for S in pats:
            V = W.copy()
            for k in S[1:]:
                V[:, :, k, 1 + S[0]] += V[:, :, k, 1 + k]
                V[:, :, k, 1 + k] = 0.0
            copies.append(V)
        W = np.concatenate(copies)
        W = np.where(W < 1e-12, 0.0, W)
        W /= W.sum(axis=3, keepdims=True)
        qw = np.concatenate([w * g[q_i, c_i] for w in pw]) / len(qs)
        if z is None:
            return from_arrays(W.reshape(W.shape[0] * E, n, n + 3), "law"), (E, np.full(E, 1.0 / E)), qw
        mw = np.concatenate([np.repeat(((1 - z) / E).T[:, :, None], E, axis=2),
                             (z[:, :, None] * lock_w).transpose(1, 0, 2)], axis=2)  # (n, P, E + L)
        mw = np.concatenate([mw] * len(pats), axis=1)
        return from_arrays(W.reshape(W.shape[0] * (E + L), n, n + 3), "law"), (E + L, mw), qw
