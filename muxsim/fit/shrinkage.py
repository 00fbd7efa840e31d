"""The empirical-Bayes shrinkage fit: the logged questions themselves, each question's law shrunk.

- correct count of model i on question q ~ Beta-binomial with prior mean
  ``logistic(t0_i + t1_i x_q)`` and strength ``A_i``, where ``x_q`` is the pilot
  accuracy on q of the models *not* being predicted (cross-model pooling: a
  question everybody else missed is shrunk towards "hard"); ``cross_model=False``
  pools towards the model's average only;
- abstain count among the non-correct answers ~ Beta-binomial, the same way
  (``f0_i, f1_i, B_i``);
- wrong answers: a Polya urn whose base measure is the other models' wrong
  answers on the same question (strength ``beta``) plus fresh answers (``tau``);
- optionally (``locked=True``), a state "locked on one wrong answer" per question
  and model (:mod:`muxsim.fit.locked`), one more mixture row of the question, fitted by
  EM with the rest (the priors and the urn weight each cell by P(not locked));

every number by maximum marginal likelihood of the pilot counts (so how
strongly to pool is learned, not guessed).  Predictions integrate each
question's posterior with ``nodes`` seeded draws per question and model (the
engine's mixture mode): they are posterior expectations of each method, not
plug-ins of posterior means.

Because the prior of a model depends on which models are predicted with it
(``cross_model``), per-model methods (SC, single) are always predicted from the
model's own one-model population (:class:`muxsim.fit.common.Fit`), so a model's
SC does not move with the other models of a call.

Labels that the data cannot support cost nothing: a named wrong answer whose
posterior mean share of every model's wrong mass is below ``min_label_share``
is folded into the tail of fresh answers (an urn at its bound otherwise keeps
one-off answers as labels of tiny probability, and the pooled vote then pays
for every one of them).  Urn or prior strengths that end on an optimiser bound
are listed in ``ShrinkageFit.diagnostics``.

Intervals (:meth:`ShrinkageFit.draw_laws`): each draw refits the priors and the
urn on a bootstrap resample of the questions, applies them to every question
and draws each question's law from its posterior.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np
from scipy import optimize
from scipy.special import betaln, gammaln, logsumexp

from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit, at_bound, check_table, counts, fit_selection, model_key
from muxsim.fit import locked as locked_state
from muxsim.layout import Layout, from_arrays

__all__ = ["ShrinkageFit", "fit_shrinkage", "PosteriorPopulation", "dirichlet_multinomial_fit", "fit_urn",
           "urn_split", "urn_params"]

#: default: fold named wrong answers below this posterior share of every model's wrong mass into the tail
MIN_LABEL_SHARE = 0.01
#: EM rounds of the locked state (a fixed number: the fit does not depend on a tolerance)
LOCK_ROUNDS = 20

def dirichlet_multinomial_fit(X: np.ndarray) -> tuple[float, np.ndarray, float]:
    """Maximum marginal likelihood Dirichlet(A mu) for rows of counts ``X`` (Q, C).

    Returns ``(A, mu, log-lik)``.  Categories never observed get mu = 0 (and are
    left out of the optimisation).
    """
    X = np.asarray(X, dtype=float)
    used = X.sum(axis=0) > 0
    Xu = X[:, used]
    mrow = Xu.sum(axis=1)
    C = Xu.shape[1]
    if C == 1:
        mu = used.astype(float)
        return float("inf"), mu, 0.0

    def nll(par):
        A = np.exp(par[0])
        eta = np.concatenate([[0.0], par[1:]])
        mu = np.exp(eta - logsumexp(eta))
        al = A * mu
        ll = gammaln(A) - gammaln(mrow + A) + (gammaln(Xu + al) - gammaln(al)).sum(axis=1)
        return -float(ll.sum())

    p0 = Xu.sum(axis=0) / Xu.sum()
    par0 = np.concatenate([[math.log(2.0)], np.log(np.maximum(p0[1:], 1e-3) / max(p0[0], 1e-3))])
    res = optimize.minimize(nll, par0, method="L-BFGS-B", bounds=[(-6, 9)] + [(-15, 15)] * (C - 1))
    eta = np.concatenate([[0.0], res.x[1:]])
    mu = np.zeros(X.shape[1])
    mu[used] = np.exp(eta - logsumexp(eta))
    return float(np.exp(res.x[0])), mu, -float(res.fun)


def _wrong_draw_features(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """For every wrong logged answer (in sample order): own count so far of that answer, own wrong draws so far,
    the other models' count of that answer, the other models' wrong total; and its cell (q * n + i)."""
    Q, n, m = codes.shape
    feats, cells = [], []
    for q in range(Q):
        allw = codes[q][codes[q] > 0]
        labs, tot = np.unique(allw, return_counts=True)
        total = dict(zip(labs.tolist(), tot.tolist()))
        for i in range(n):
            own_row = codes[q, i]
            own_w = own_row[own_row > 0]
            own_tot = {}
            for lab in own_w.tolist():
                own_tot[lab] = own_tot.get(lab, 0) + 1
            others_total = len(allw) - len(own_w)
            seen: dict[int, int] = {}
            k = 0
            for lab in own_w.tolist():
                oth = total[lab] - own_tot[lab]
                feats.append((seen.get(lab, 0), k, oth, others_total))
                cells.append(q * n + i)
                seen[lab] = seen.get(lab, 0) + 1
                k += 1
    return np.array(feats, dtype=float).reshape(-1, 4), np.array(cells, dtype=np.int64)


def _polya_loglik(F: np.ndarray, beta: float, tau: float, weight: np.ndarray | None = None) -> float:
    own, k, oth, W = F.T
    pi = np.where(oth > 0, oth / (W + tau), 0.0)
    p_named = (own + beta * pi) / (k + beta)
    p_new = beta * tau / (W + tau) / (k + beta)
    p = np.where((own > 0) | (oth > 0), p_named, p_new)
    lp = np.log(np.maximum(p, 1e-300))
    return float(lp.sum() if weight is None else (weight * lp).sum())


URN_BOUNDS = (-7.0, 7.0)  # log beta, log tau


def fit_urn(codes: np.ndarray, weight: np.ndarray | None = None) -> tuple[float, float, float]:
    """(beta, tau, log-lik): the wrong-answer urn by maximum likelihood of the pilot's wrong draws (in sample order);
    ``weight`` (Q, n): each cell's draws weighted (e.g. by the probability of not being locked).

    With no wrong draw at all the urn is not identified: (1, 1, 0)."""
    F, cells = _wrong_draw_features(codes)
    if not len(F):
        return 1.0, 1.0, 0.0
    wt = None if weight is None else np.asarray(weight, dtype=float).ravel()[cells]
    res = optimize.minimize(lambda p: -_polya_loglik(F, math.exp(p[0]), math.exp(p[1]), wt), [0.0, 0.0],
                            method="L-BFGS-B", bounds=[URN_BOUNDS, URN_BOUNDS])
    return math.exp(res.x[0]), math.exp(res.x[1]), -float(res.fun)


@dataclass
class ShrinkageFit(Fit):
    """Empirical-Bayes population of the logged questions (see module notes)."""

    kind: ClassVar[str] = "muxsim.fit/shrinkage-1"
    family: ClassVar[str] = "shrinkage"
    chunk: ClassVar[int | None] = 20

    models: tuple[str, ...]
    question_ids: tuple[str, ...]
    strength: dict[str, float]  # A_i
    mean: dict[str, list[float]]  # mu_i over (correct, wrong, abstain)
    beta: float
    tau: float
    codes: np.ndarray  # (Q, n, m) pilot answers
    log_lik: float
    nodes: int = 16
    max_labels: int = 3
    prior: dict = field(default_factory=dict)  # model -> {t0, t1, A, f0, f1, B}
    prior_c: np.ndarray | None = None  # (Q, n) prior mean of the correct share
    prior_a: np.ndarray | None = None  # (Q, n) prior mean of the abstain share among non-correct answers
    post_c: np.ndarray | None = None  # (Q, n, 2, 3) posterior of the correct share: [weight, alpha, beta] per component
    cross_model: bool = True
    mixture: bool = False
    min_label_share: float = 0.0  # files of format 1 (before the threshold) predict as they did
    diagnostics: list[str] = field(default_factory=list)
    lock: np.ndarray | None = None  # (Q, n) P(model locked on one wrong answer | pilot) (muxsim.fit.locked); None: no lock
    lock_share: np.ndarray | None = None  # (n,) the fitted share of locked questions per model

    @property
    def joint_dependent(self) -> bool:  # type: ignore[override]
        return self.cross_model

    interval_kind: ClassVar[str] = "posterior draws over bootstrap refits of the priors and the urn"
    pool_form_kind: ClassVar[str] = "each model's prior from all the other models' pilot accuracy, as fitted"

    def pool_form(self) -> "ShrinkageFit":
        """The fit with the priors it was fitted with (each model's covariate from all the other models),
        whatever the models predicted together: not joint-dependent, so one population serves every subset."""
        import dataclasses

        return dataclasses.replace(self, cross_model=False) if self.cross_model else self

    def draw_laws(self, models: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        """One draw of every pilot question's laws, (Q, n, max_labels + 3), over refits: the priors'
        parameters and the urn refitted on a bootstrap resample of the questions and applied to every
        question, then one posterior draw per question and model (the population's own draw with one
        node and a seed from ``rng``)."""
        names, qs = fit_selection(self.models, len(self.question_ids), models, None)
        boot = tuple(int(x) for x in rng.integers(0, len(qs), len(qs)))
        W, _ = PosteriorPopulation(self, tuple(names), 1, qs, int(rng.integers(1, 2**31)), boot).weights()
        return W

    def posteriors(self, models: Sequence[str], boot: Sequence[int] | None = None
                   ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(post_c (Q, len, 2, 3), prior_a (Q, len), abstain strengths B (len,)) for predicting ``models`` together.

        With ``cross_model``, each selected model's prior is refitted on the pilot
        accuracy of the models *outside* the selection only: using a selected
        model's data in another selected model's prior as well as in its own
        likelihood would count it twice and make the selected models look more
        alike than they are (measured: union under-predicted by ~3 points at k = 7).
        With every model selected there is no outside model and the prior pools
        towards each model's average.  With ``boot`` (question indices), the priors'
        parameters are refitted on those questions and applied to all (for the
        intervals' draws over refits; not cached).
        """
        key = tuple(models)
        cache = self.__dict__.setdefault("_post_cache", {})
        if boot is None and key in cache:
            return cache[key]
        idx = [self.models.index(mm) for mm in models]
        c, w, a = counts(self.codes)
        m = self.codes.shape[2]
        if boot is not None:
            fi = np.asarray(boot)
            outside = [j for j in range(len(self.models)) if j not in idx] if self.cross_model else []
            pcs, pas, Bs = [], [], []
            for i in idx:
                xi = _difficulty(c, m, outside) if self.cross_model else None
                par, _, pa, post, _ = _model_prior(c[:, i], a[:, i], m, xi, self.mixture, fi,
                                                   init=self.prior[self.models[i]], weight=self._unlocked(i))
                pcs.append(post)
                pas.append(pa)
                Bs.append(par["B"])
            return np.stack(pcs, axis=1), np.stack(pas, axis=1), np.array(Bs)
        if not self.cross_model:
            out = self.post_c[:, idx], self.prior_a[:, idx], np.array([self.prior[mm]["B"] for mm in models])
        else:
            outside = [j for j in range(len(self.models)) if j not in idx]
            pcs, pas, Bs = [], [], []
            for i in idx:
                xi = _difficulty(c, m, outside)
                par, _, pa, post, _ = _model_prior(c[:, i], a[:, i], m, xi, self.mixture,  # from the pool's priors
                                                   init=self.prior[self.models[i]], weight=self._unlocked(i))
                pcs.append(post)
                pas.append(pa)
                Bs.append(par["B"])
            out = np.stack(pcs, axis=1), np.stack(pas, axis=1), np.array(Bs)
        cache[key] = out
        return out

    #: what a fit keeps from one call to the next (not pickled: a Dask worker rebuilds its own)
    _CACHES: ClassVar[tuple[str, ...]] = ("_post_cache", "_urn_cache", "_stream_states", "_stream_pool")

    def __getstate__(self) -> dict:
        return {k: v for k, v in self.__dict__.items() if k not in self._CACHES}

    def streams(self, seed: int, q: int, idx: Sequence[int]) -> list[np.random.Generator]:
        """One random stream per model ``idx`` on question q: the stream of
        ``np.random.default_rng([seed, q, model_key(name)])`` from its start, its seeding kept (every model set's
        population draws from it); keyed by the model's name, so a model's draws do not depend on where the
        table lists it.  The generators are reused by the next call: draw from them before asking for more."""
        states = self.__dict__.setdefault("_stream_states", {})
        pool = self.__dict__.setdefault("_stream_pool", [])
        while len(pool) < len(idx):
            pool.append(np.random.default_rng(0))
        for g, i in zip(pool, idx):
            key = (int(seed), int(q), model_key(self.models[i]))
            if key not in states:
                states[key] = np.random.default_rng(list(key)).bit_generator.state
            g.bit_generator.state = states[key]
        return pool[: len(idx)]

    def urn_counts(self, q: int) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """:func:`urn_counts` of question q's pilot, kept (every model set's population reads it)."""
        cache = self.__dict__.setdefault("_urn_cache", {})
        if q not in cache:
            cache[q] = urn_counts(self.codes[q])
        return cache[q]

    def _unlocked(self, i: int) -> np.ndarray | None:
        """Model i's weight of each question in its prior's regressions: P(not locked), as fitted (None: no lock)."""
        return None if self.lock is None else 1 - self.lock[:, i]

    def population(self, models: Sequence[str] | None = None, *, nodes: int | None = None,
                   questions: Sequence[int] | None = None) -> "PosteriorPopulation":
        names, qs = fit_selection(self.models, len(self.question_ids), models, questions)
        return PosteriorPopulation(self, tuple(names), self.nodes if nodes is None else int(nodes), qs)

    def table(self) -> str:
        lines = [f"{'model':<30}{'A':>9}{'t0':>8}{'t1':>8}{'B':>9}{'f0':>8}{'f1':>8}"
                 f"{'mean c':>9}{'mean w':>9}{'mean a':>9}"]
        for m in self.models:
            mu, p = self.mean[m], self.prior[m]
            lines.append(f"{m:<30}{p['A']:>9.3g}{p['t0']:>8.2f}{p['t1']:>8.2f}{p['B']:>9.3g}{p['f0']:>8.2f}{p['f1']:>8.2f}"
                         f"{mu[0]:>9.3f}{mu[1]:>9.3f}{mu[2]:>9.3f}")
        lines.append(f"(wrong answers: Polya urn strength beta={self.beta:.3g}, fresh-answer weight tau={self.tau:.3g}; "
                     f"Q={len(self.question_ids)}, m={self.codes.shape[2]}, log-lik {self.log_lik:.1f})")
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "models": list(self.models), "question_ids": list(self.question_ids),
                "strength": self.strength, "mean": self.mean, "beta": self.beta, "tau": self.tau,
                "codes": self.codes.tolist(), "log_lik": self.log_lik, "nodes": self.nodes, "max_labels": self.max_labels,
                "prior": self.prior, "prior_c": self.prior_c.tolist(), "prior_a": self.prior_a.tolist(),
                "post_c": self.post_c.tolist(), "cross_model": self.cross_model, "mixture": self.mixture,
                "min_label_share": self.min_label_share,
                **({} if self.lock is None else {"lock": self.lock.tolist(), "lock_share": self.lock_share.tolist()}),
                **self._diagnostics_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "ShrinkageFit":
        if d.get("kind") != cls.kind:
            raise MuxsimError(f"fit kind={d.get('kind')!r} is not {cls.kind!r}")
        return cls(tuple(d["models"]), tuple(d["question_ids"]), d["strength"], d["mean"], d["beta"], d["tau"],
                   np.asarray(d["codes"], dtype=np.int64), d["log_lik"], d["nodes"], d["max_labels"], d["prior"],
                   np.asarray(d["prior_c"], dtype=float), np.asarray(d["prior_a"], dtype=float),
                   np.asarray(d["post_c"], dtype=float), d.get("cross_model", True), d.get("mixture", False),
                   float(d.get("min_label_share", 0.0)), list(d.get("diagnostics", [])),
                   None if d.get("lock") is None else np.asarray(d["lock"], dtype=float),
                   None if d.get("lock_share") is None else np.asarray(d["lock_share"], dtype=float))


def _bb_regression(k: np.ndarray, n: np.ndarray, x: np.ndarray | None,
                   init: Sequence[float] | None = None, weight: np.ndarray | None = None) -> tuple[np.ndarray, float, float]:
    """Beta-binomial regression by marginal likelihood: k_q ~ BetaBinom(n_q, A mu_q, A (1 - mu_q)),
    logit mu_q = t0 + t1 x_q.  Returns ((t0, t1), A, log-lik); with no rows of n > 0, a flat prior.
    ``init``: a starting point (t0, t1, log A) for the optimiser (e.g. a nearby fit's); ``weight``: each row's
    weight in the log-likelihood (e.g. its posterior probability of not being locked)."""
    use = (n > 0) if weight is None else (n > 0) & (weight > 0)
    k, n = k[use].astype(float), n[use].astype(float)
    if len(k) == 0:
        return np.zeros(2), 1.0, 0.0
    wt = np.ones(len(k)) if weight is None else np.asarray(weight, dtype=float)[use]
    xx = np.zeros(len(k)) if x is None else x[use]
    tot = (wt * k).sum() / (wt * n).sum()
    if tot in (0.0, 1.0):  # every draw went one way: a point mass (A -> inf) at the boundary
        return np.array([-30.0 if tot == 0 else 30.0, 0.0]), 1e6, 0.0

    # the Beta-binomial log-likelihood of a row, by rising factorials (n is a small count: exact, and no
    # cancellation between lgamma or digamma values when A is large):
    #   log B(k + a, n - k + b) - log B(a, b) = sum_{j<k} log(a + j) + sum_{j<n-k} log(b + j) - sum_{j<n} log(A + j)
    j = np.arange(n.max())[:, None]
    on_a, on_b = wt * (j < k), wt * (j < n - k)  # (n_max, rows): each row's terms, weighted
    on_A = np.bincount(n.astype(int), weights=wt, minlength=len(j) + 1)[::-1].cumsum()[::-1][1:]  # weight of n > j

    def nll(par):
        """Negative log-likelihood and its gradient: with a = A mu, b = A (1 - mu),
        d/da = sum_{j<k} 1/(a + j) - sum_{j<n} 1/(A + j) (likewise b), d mu/d eta = mu (1 - mu)
        (0 where mu is clipped), d a/d log A = a."""
        raw = 1 / (1 + np.exp(-(par[0] + par[1] * xx)))
        mu = np.clip(raw, 1e-9, 1 - 1e-9)
        A = math.exp(par[2])
        a, b, Aj = A * mu, A * (1 - mu), A + j[:, 0]
        f = -float((on_a * np.log(a + j)).sum() + (on_b * np.log(b + j)).sum() - on_A @ np.log(Aj))
        da, db, common = (on_a / (a + j)).sum(axis=0), (on_b / (b + j)).sum(axis=0), on_A @ (1 / Aj)
        deta = np.where(raw == mu, A * mu * (1 - mu), 0.0) * (da - db)
        return f, -np.array([deta.sum(), (deta * xx).sum(), (a * da).sum() + (b * db).sum() - A * common])

    t0 = math.log(tot / (1 - tot))
    bounds = [(-30, 30), (0, 0) if x is None else (-10, 10), (-7, 14)]
    start = [t0, 0.0, 0.0] if init is None else [float(np.clip(v, lo, hi)) for v, (lo, hi) in zip(init, bounds)]
    # tight tolerances: warm and cold starts reach the same optimum (to ~1e-9), so a model set's priors
    # do not depend on where the optimiser started
    res = optimize.minimize(nll, start, jac=True, method="L-BFGS-B", bounds=bounds,
                            options={"ftol": 1e-14, "gtol": 1e-9, "maxiter": 500})
    return res.x[:2], float(np.exp(res.x[2])), -float(res.fun)


def _bb_mixture(k: np.ndarray, n: int, x: np.ndarray) -> tuple[dict, np.ndarray, float]:
    """Two-component Beta-binomial prior by marginal likelihood: with probability ``pi`` the question
    follows the cross-model regression (logit mu_q = t0 + t1 x_q, strength A), else the model's own
    average (logit mu = u0, strength U).  Returns (parameters, posterior (Q, 2, 3) of
    [weight, alpha, beta] for the correct share, log-lik)."""
    k = k.astype(float)
    tot = k.sum() / (n * len(k))
    if tot in (0.0, 1.0):
        edge = 1e-9 if tot == 0 else 1 - 1e-9
        post = np.zeros((len(k), 2, 3))
        post[:, 0] = [1.0, edge * 1e6 + k.mean() * 0, (1 - edge) * 1e6]
        return {"t0": 0.0, "t1": 0.0, "A": 1e6, "pi": 1.0, "u0": 0.0, "U": 1e6}, post, 0.0

    def comps(par):
        mu = np.clip(1 / (1 + np.exp(-(par[0] + par[1] * x))), 1e-9, 1 - 1e-9)
        A = np.exp(par[2])
        pi = 1 / (1 + np.exp(-par[3]))
        mb = min(max(1 / (1 + math.exp(-par[4])), 1e-9), 1 - 1e-9)
        U = np.exp(par[5])
        a1, b1 = A * mu, A * (1 - mu)
        a2, b2 = np.full_like(mu, U * mb), np.full_like(mu, U * (1 - mb))
        l1 = math.log(pi) + betaln(k + a1, n - k + b1) - betaln(a1, b1)
        l2 = math.log1p(-pi) + betaln(k + a2, n - k + b2) - betaln(a2, b2)
        return (a1, b1, l1), (a2, b2, l2)

    def nll(par):
        (_, _, l1), (_, _, l2) = comps(par)
        return -float(np.logaddexp(l1, l2).sum())

    t0 = math.log(tot / (1 - tot))
    res = optimize.minimize(nll, [t0, 1.0, 0.0, 1.0, t0, 0.0], method="L-BFGS-B",
                            bounds=[(-30, 30), (-10, 10), (-7, 14), (-9, 9), (-30, 30), (-7, 14)])
    (a1, b1, l1), (a2, b2, l2) = comps(res.x)
    wts = np.exp(np.stack([l1, l2], axis=1) - np.logaddexp(l1, l2)[:, None])
    post = np.stack([np.stack([wts[:, 0], k + a1, n - k + b1], axis=1),
                     np.stack([wts[:, 1], k + a2, n - k + b2], axis=1)], axis=1)
    r = res.x
    par = {"t0": float(r[0]), "t1": float(r[1]), "A": float(np.exp(r[2])), "pi": float(1 / (1 + np.exp(-r[3]))),
           "u0": float(r[4]), "U": float(np.exp(r[5]))}
    return par, post, -float(res.fun)


DIFFICULTY_SCALE = lambda share: 4 * (share - 0.5)  # noqa: E731


def _difficulty(c: np.ndarray, m: int, outside: Sequence[int] | None = None) -> np.ndarray | None:
    """(Q,) covariate: logit of the smoothed pilot accuracy on each question of the models ``outside``
    (column indices of ``c``); None when there are none."""
    if outside is None or len(outside) == 0:
        return None
    cc = c[:, list(outside)]
    share = (cc.sum(axis=1) + 0.5) / (cc.shape[1] * m + 1)
    return DIFFICULTY_SCALE(share)


def _model_prior(c_i: np.ndarray, a_i: np.ndarray, m: int, xi: np.ndarray | None, mixture: bool,
                 fit_idx: np.ndarray | None = None, init: dict | None = None, weight: np.ndarray | None = None):
    """One model's priors and posteriors: (parameters, prior mean of correct (Q,), prior mean of abstain
    among non-correct (Q,), posterior of the correct share (Q, 2, 3), log-lik).

    With ``fit_idx`` (question indices, e.g. a bootstrap resample) the prior's
    parameters are fitted on those questions only and then applied to every
    question (not for the mixture prior, which is always fitted on all).  ``weight`` (Q,): each question's weight
    in the regressions (its probability of not being locked; not with the mixture prior)."""
    Q = len(c_i)
    lin = lambda t: t[0] + t[1] * (0.0 if xi is None else xi)  # noqa: E731
    fi = np.arange(Q) if fit_idx is None or (mixture and xi is not None) else np.asarray(fit_idx)
    xf = None if xi is None else xi[fi]
    warm = lambda t, s, st: None if init is None else (init[t], init[s], math.log(init[st]))  # noqa: E731
    wf = None if weight is None else np.asarray(weight)[fi]
    ta, B, l2 = _bb_regression(a_i[fi], m - c_i[fi], xf, warm("f0", "f1", "B"), wf)
    prior_a = np.broadcast_to(1 / (1 + np.exp(-lin(ta))), (Q,)).copy()
    if mixture and xi is not None:
        pc, post, l1 = _bb_mixture(c_i, m, xi)
        mu1 = 1 / (1 + np.exp(-(pc["t0"] + pc["t1"] * xi)))
        prior_c = pc["pi"] * mu1 + (1 - pc["pi"]) / (1 + math.exp(-pc["u0"]))
        par = {**pc, "f0": float(ta[0]), "f1": float(ta[1]), "B": B}
    else:
        tc, A, l1 = _bb_regression(c_i[fi], np.full(len(fi), m), xf, warm("t0", "t1", "A"), wf)
        prior_c = np.broadcast_to(1 / (1 + np.exp(-lin(tc))), (Q,)).copy()
        mu = np.clip(prior_c, 1e-12, 1 - 1e-12)
        post = np.zeros((Q, 2, 3))
        post[:, 0] = np.stack([np.ones(Q), c_i + A * mu, m - c_i + A * (1 - mu)], axis=1)
        par = {"t0": float(tc[0]), "t1": float(tc[1]), "A": A, "pi": 1.0, "f0": float(ta[0]), "f1": float(ta[1]), "B": B}
    return par, prior_c, prior_a, post, l1 + l2


def fit_shrinkage(table, *, nodes: int = 16, max_labels: int = 3, cross_model: bool = True,
                  mixture: bool = False, min_label_share: float = MIN_LABEL_SHARE, locked: bool = False) -> ShrinkageFit:
    """Fit the shrinkage population by marginal likelihood (see module notes).

    Per model: the correct count of a question is Beta-binomial with prior mean
    ``mu_qi = logistic(t0_i + t1_i x_qi)`` and strength ``A_i``; the abstain count
    among the other answers is Beta-binomial with ``nu_qi = logistic(f0_i + f1_i x_qi)``
    and strength ``B_i``.  With ``cross_model=True``, ``x_qi`` is the logit of
    the other models' pilot accuracy on the question (so a question everybody
    missed is shrunk towards "hard", not towards the model's average); with
    ``False``, ``t1 = f1 = 0`` (pooling towards the model's average only).
    With ``mixture=True`` (needs ``cross_model``) the correct-count prior is a
    two-component mixture: the cross-model regression with probability ``pi_i``,
    else the model's own average (a question can be hard for one model only).
    All numbers per model and the urn's ``beta``, ``tau`` are maximum
    marginal likelihood estimates.  With ``locked=True`` each model may also be
    locked on one wrong answer on a question (:mod:`muxsim.fit.locked`), with
    probability ``pi_i``: EM (:data:`LOCK_ROUNDS` rounds) alternates each cell's
    posterior of being locked with the priors and the urn refitted with each cell
    weighted by its posterior of not being locked; the posterior is a further
    mixture row of every prediction.  The log-likelihood reported is then the
    regular law's, weighted.
    """
    check_table(table)
    if locked and mixture:
        raise MuxsimError("locked=True needs mixture=False (the lock's EM refits the one-component prior)")
    codes = table.codes
    c, w, a = counts(codes)
    m = table.K
    n = c.shape[1]
    xis = [_difficulty(c, m, [j for j in range(n) if j != i]) if cross_model else None for i in range(n)]

    def regular(weight: np.ndarray | None, init: list) -> tuple[list, tuple[float, float, float]]:
        """Every model's prior and the urn, each cell weighted by ``weight`` (Q, n) (None: 1)."""
        return ([_model_prior(c[:, i], a[:, i], m, xis[i], mixture, init=init[i],
                              weight=None if weight is None else weight[:, i]) for i in range(n)],
                fit_urn(codes, weight))

    parts, (beta, tau, ll_urn) = regular(None, [None] * n)
    lock = share = None
    if locked:  # EM: the lock's posteriors, then the regular law refitted without the locked cells' weight
        ok, log_lock = locked_state.compatible(codes), locked_state.lock_loglik(codes)
        share = np.full(n, 0.1)
        for it in range(LOCK_ROUNDS + 1):
            log_reg = _regular_loglik(parts, c, a, m) + locked_state.repeat_loglik(codes, beta, tau)
            lock = locked_state.posterior(share, log_lock, log_reg, ok)
            if it == LOCK_ROUNDS:  # the posteriors of the final law
                break
            share = np.maximum(lock.mean(axis=0), 1e-6)
            parts, (beta, tau, ll_urn) = regular(1 - lock, [p[0] for p in parts])
    prior_c = np.zeros(c.shape)
    prior_a = np.zeros(c.shape)
    post_c = np.zeros(c.shape + (2, 3))
    strength, mean, prior, ll = {}, {}, {}, ll_urn
    for i, nm in enumerate(table.models):
        par, prior_c[:, i], prior_a[:, i], post_c[:, i], l_i = parts[i]
        prior[nm] = par
        strength[nm] = par["A"]
        mc = float(prior_c[:, i].mean())
        ma = float(((1 - prior_c[:, i]) * prior_a[:, i]).mean())
        mean[nm] = [mc, 1 - mc - ma, ma]
        ll += l_i
    diags = []
    if not (w > 0).any():
        diags.append("no wrong answer in the pilot: the urn (beta, tau) is not identified; fallback beta = tau = 1")
    else:
        for nm_, v in (("beta", beta), ("tau", tau)):
            msg = at_bound(f"urn {nm_}", math.log(v), *URN_BOUNDS, scale="log")
            if msg:
                diags.append(msg + f" (={v:.3g}); labels below a {min_label_share:g} share are folded into the tail")
    for nm, par in prior.items():
        for key, lo, hi in (("A", -7, 14), ("B", -7, 14)):
            v = par.get(key)
            if v is None:
                continue
            if v >= 1e6 - 1 and key == "A" and par.get("t0") in (-30.0, 30.0):
                diags.append(f"{nm}: every pilot draw was {'wrong' if par['t0'] < 0 else 'correct'}: fallback "
                             f"point-mass prior ({key}=1e6)")
                continue
            msg = at_bound(f"{nm}: {key}", math.log(v) if v > 0 else float("nan"), lo, hi, scale="log")
            if msg:
                diags.append(msg)
    return ShrinkageFit(tuple(table.models), tuple(table.question_ids), strength, mean, beta, tau,
                        codes.copy(), ll, nodes, max_labels, prior, prior_c, prior_a, post_c, cross_model, mixture,
                        float(min_label_share), diags, lock, share)


def _regular_loglik(parts: list, c: np.ndarray, a: np.ndarray, m: int) -> np.ndarray:
    """``(Q, n)``: log P(no correct draw, the pilot's abstentions | the regular law) of each cell (the priors
    ``parts`` of :func:`_model_prior`; no binomial coefficient, as :func:`muxsim.fit.locked.lock_loglik`)."""
    out = np.zeros(c.shape)
    for i, (par, mu, nu, _, _) in enumerate(parts):
        A, B = par["A"], par["B"]
        al, be = A * np.clip(mu, 1e-12, 1 - 1e-12), A * np.clip(1 - mu, 1e-12, 1)
        ga, gb = B * np.clip(nu, 1e-12, 1 - 1e-12), B * np.clip(1 - nu, 1e-12, 1)
        out[:, i] = (betaln(al, be + m) - betaln(al, be)
                     + betaln(a[:, i] + ga, m - c[:, i] - a[:, i] + gb) - betaln(ga, gb))
    return out


@dataclass(frozen=True)
class PosteriorPopulation:
    """The questions of a :class:`ShrinkageFit`, each model's law integrated over its posterior.

    Model i's law on question q is drawn from its posterior: (correct, wrong,
    abstain) ~ Dirichlet(counts + A_i mu_i), and the wrong mass split over the
    question's named wrong answers and a tail of fresh answers by
    Dirichlet(own counts + beta * urn base).  ``layout()`` returns a mixture
    layout with ``nodes`` posterior draws per question and model (seeded by
    (seed, question, model), so reproducible in any process); the engine then
    gives the exact expectation over those draws.  At most ``max_labels`` named
    wrong answers are kept per question (the lightest are folded into the tail,
    which keeps the pooled vote cheap).
    """

    fit: ShrinkageFit
    models: tuple[str, ...]
    nodes: int
    questions: tuple[int, ...]
    seed: int = 0
    boot: tuple[int, ...] | None = None  # refit the priors and the urn on these questions (interval draws)

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        f = self.fit
        idx = [f.models.index(m) for m in self.models]
        post_all, pa_all, B_all = f.posteriors(self.models, self.boot)
        boot = None if self.boot is None else list(self.boot)
        u_beta, u_tau = (f.beta, f.tau) if boot is None else fit_urn(
            f.codes[boot], None if f.lock is None else 1 - f.lock[boot])[:2]
        codes_all = f.codes
        E = self.nodes
        Lmax = f.max_labels
        W = np.zeros((len(self.questions), E, len(idx), Lmax + 3))
        lock_col = np.full((len(self.questions), len(idx)), -1)
        c_all, w_all, a_all = counts(codes_all)
        qs = np.asarray(self.questions, dtype=int)
        n = len(idx)
        # every (question, model)'s Beta shapes, row by row of its E draws: the correct share (component 1
        # for the first n1 rows, stratified, then component 2), then the abstain share of the rest
        pcs = post_all[qs]  # (Q, n, 2, 3): weight, alpha, beta of each posterior component
        n1 = np.rint(E * pcs[:, :, 0, 0]).astype(int)
        nu = pa_all[qs]
        first = (np.arange(E)[None, None, :] < n1[:, :, None])[..., None]
        beta_sh = np.concatenate([np.where(first, pcs[:, :, None, 0, 1:], pcs[:, :, None, 1, 1:]),
                                  np.broadcast_to(np.stack([a_all[qs][:, idx] + B_all * nu,
                                                            w_all[qs][:, idx] + B_all * (1 - nu)], axis=-1)[:, :, None],
                                                  (len(qs), n, E, 2))], axis=2)  # (Q, n, 2E, 2)
        # a Beta row with a shape <= 0 takes no draw: its point mass, at 1 where only b <= 0, else at 0
        beta_ok = (beta_sh > 0).all(axis=3, keepdims=True)
        g_beta = np.zeros(beta_sh.shape)
        split = np.zeros((len(qs), n, E, Lmax + 1))  # the named answers first, the rest in the last column
        alpha = np.zeros((len(qs), n, Lmax + 1))  # the Dirichlet's shapes in the same columns
        for qq, q in enumerate(self.questions):
            # one seeded stream per (question, model): a question's laws do not depend on which
            # other models or questions are evaluated with it
            codes = codes_all[q]
            rngs = f.streams(self.seed, q, idx)
            kept, P = urn_params(codes, idx, u_beta, u_tau, Lmax, f.min_label_share, f.urn_counts(q))  # (n, kept + 1)
            n_keep = len(kept)
            alpha[qq, :, :n_keep], alpha[qq, :, Lmax] = P[:, :-1], P[:, -1]
            # each model's shapes in its stream's order: E rows of the Dirichlet, then the Betas' 2E rows;
            # one gamma call per model for the shapes that draw (a shape of 0 stays exactly 0)
            shapes = np.concatenate([np.broadcast_to(P[:, None, :], (n, E, n_keep + 1)).reshape(n, -1),
                                     np.where(beta_ok[qq], beta_sh[qq], 0.0).reshape(n, -1)], axis=1)
            g = np.zeros(shapes.shape)
            for r, i in enumerate(idx):
                if f.lock is not None:  # the answer a locked model repeats: its pilot's (a kept label, or none)
                    own = np.flatnonzero(kept == codes[i][codes[i] > 0][0]) if (codes[i] > 0).any() else []
                    lock_col[qq, r] = own[0] if len(own) else -1
                draw = shapes[r] > 0
                g[r, draw] = rngs[r].gamma(shapes[r, draw])
            cut = E * (n_keep + 1)
            part = g[:, :cut].reshape(n, E, n_keep + 1)
            split[qq, :, :, :n_keep], split[qq, :, :, Lmax] = part[..., :-1], part[..., -1]
            g_beta[qq] = g[:, cut:].reshape(n, 2 * E, 2)
        # Dirichlet and Beta rows normalised; a row whose gammas all underflowed (or took none) puts its mass on
        # its largest shape (the first one of equal shapes), as the row-by-row draws do
        tot = split.sum(axis=3, keepdims=True)
        top = (np.arange(Lmax + 1) == alpha.argmax(axis=2)[..., None])[:, :, None, :] * 1.0
        split = np.where(tot > 0, split / np.where(tot > 0, tot, 1.0), top)
        tb = g_beta.sum(axis=3)
        mass = ((beta_sh[..., 0] >= beta_sh[..., 1]) & (beta_sh[..., 0] > 0)) * 1.0
        share = np.where(tb > 0, g_beta[..., 0] / np.where(tb > 0, tb, 1.0), mass)
        pc, sa = share[:, :, :E], share[:, :, E:]
        wrong = (1 - pc) * (1 - sa)  # correct pc, wrong, abstain (1 - pc) sa
        W[..., 0] = pc.transpose(0, 2, 1)
        W[..., -1] = ((1 - pc) * sa).transpose(0, 2, 1)
        W[..., 1 : 1 + Lmax] = (wrong[..., None] * split[..., :Lmax]).transpose(0, 2, 1, 3)
        W[..., Lmax + 1] = (wrong * split[..., Lmax]).transpose(0, 2, 1)
        # drop shares below 1e-12 (gamma draws of tiny shapes underflow to denormals, where scipy's
        # binomial pmf overflows); the effect on any accuracy is below 1e-11
        W = np.where(W < 1e-12, 0.0, W)
        W = W / W.sum(axis=3, keepdims=True)
        if f.lock is not None:
            return self._with_lock(W, lock_col, idx)
        return W.reshape(len(self.questions) * E, len(idx), Lmax + 3), np.full(E, 1.0 / E)

    def _with_lock(self, W: np.ndarray, col: np.ndarray, idx: list[int]) -> tuple[np.ndarray, np.ndarray]:
        """The locked state added to laws ``W`` (Q, E, n, C): each model's locked law (correct 0, every valid draw
        on its pilot's wrong answer, abstaining as in its pilot) as row E, weighted by the posterior
        P(locked) per question and model (0 where the pilot's answer is not a kept label), the other rows by
        the rest; or, for an interval's draw (``boot``, E = 1), each model locked or not by a seeded draw."""
        Q, E, n, C = W.shape
        post = np.where(col >= 0, self.fit.lock[np.asarray(self.questions)][:, idx], 0.0)  # (Q, n)
        ab = (self.fit.codes < 0).mean(axis=(0, 2))[idx]  # the pilot's abstention rate per model
        locked = np.zeros((Q, n, C))
        qq, rr = np.nonzero(col >= 0)
        locked[qq, rr, 1 + col[qq, rr]] = 1 - ab[rr]
        locked[..., -1] = np.where(col >= 0, ab[None, :], 1.0)  # (a valid law where it has no weight)
        if self.boot is not None:
            u = np.stack([np.random.default_rng([int(self.seed), 17, model_key(self.fit.models[i])]).random(Q)
                          for i in idx], axis=1)
            draw = u < post
            W = np.where(draw[:, None, :, None], locked[:, None], W)
            return W.reshape(Q * E, n, C), np.full(E, 1.0 / E)
        W = np.concatenate([W, locked[:, None]], axis=1)
        mw = np.concatenate([np.repeat(((1 - post) / E).T[:, :, None], E, axis=2), post.T[:, :, None]], axis=2)
        return W.reshape(Q * (E + 1), n, C), mw

    def layout(self) -> tuple[Layout, tuple[int, np.ndarray], np.ndarray]:
        W, mw = self.weights()
        E = mw.shape[-1]
        Q = W.shape[0] // E
        return from_arrays(W, "law"), (E, mw), np.full(Q, 1.0 / Q)


def urn_split(codes: np.ndarray, idx: Sequence[int], beta: float, tau: float, max_labels: int, E: int,
              rngs: Sequence[np.random.Generator], min_share: float = 0.0,
              stats: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None) -> tuple[int, list[np.ndarray]]:
    """Posterior draws of how each model's wrong mass splits over one question's named wrong answers:
    (the kept answers' codes, [(E, kept + 1)]), E draws of :func:`urn_params`' Dirichlet per model."""
    kept, pars = urn_params(codes, idx, beta, tau, max_labels, min_share, stats)
    return kept, [_dirichlet(rng, par, E) for rng, par in zip(rngs, pars)]


def urn_params(codes: np.ndarray, idx: Sequence[int], beta: float, tau: float, max_labels: int,
               min_share: float = 0.0, stats: tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray] | None = None
               ) -> tuple[np.ndarray, np.ndarray]:
    """How each model's wrong mass splits over one question's named wrong answers, a posterior Dirichlet.

    ``codes`` is the question's pilot (n, m); for each model in ``idx``, Dirichlet(own counts + urn base)
    over the kept answers, then the rest (folded answers and the tail of fresh ones), where the urn base of
    an answer is ``beta * (other models' count) / (their wrong total + tau)`` and of the tail
    ``beta * tau / (their wrong total + tau)``.  The ``max_labels`` answers heaviest in posterior mean over
    the models are kept, less those whose posterior mean share of every model's wrong mass is below
    ``min_share``.  Returns (the kept answers' codes, the Dirichlet parameters (models, kept + 1), a row per model).
    ``stats``: :func:`urn_counts` of ``codes``, where already at hand.
    """
    labs, tot, own_all, wrong_all = urn_counts(codes) if stats is None else stats
    own_w = own_all[list(idx)]  # (models, labels)
    Wo = (wrong_all.sum() - wrong_all[list(idx)])[:, None]  # the other models' wrong total
    oth = tot[None, :] - own_w
    prior_w = np.where(oth > 0, beta * oth / (Wo + tau), 0.0)
    prior_t = beta * tau / (Wo[:, 0] + tau)
    mean_w = (own_w + prior_w) / (own_w.sum(axis=1, keepdims=True) + beta)
    order = np.argsort(-mean_w.sum(axis=0), kind="stable")
    keep = order[:max_labels]
    if min_share > 0 and len(keep):  # labels the data cannot support join the tail
        keep = keep[mean_w[:, keep].max(axis=0) >= min_share]
    folded = np.ones(len(labs), dtype=bool)
    folded[keep] = False
    fold = order[folded[order]]
    pars = np.concatenate([own_w[:, keep] + prior_w[:, keep],
                           (own_w[:, fold].sum(axis=1) + prior_w[:, fold].sum(axis=1) + prior_t)[:, None]], axis=1)
    return labs[keep], pars


def urn_counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """One question's wrong answers (its pilot ``codes`` (n, m)): the answers, their counts over all models, each
    model's count of each ``(n, answers)`` and each model's wrong total ``(n,)`` (floats)."""
    labs, tot = np.unique(codes[codes > 0], return_counts=True)
    own = (codes[:, :, None] == labs[None, None, :]).sum(axis=1).astype(float)
    return labs, tot, own, (codes > 0).sum(axis=1).astype(float)


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    """n Dirichlet(alpha) draws; components with alpha = 0 are exactly 0."""
    alpha = np.asarray(alpha, dtype=float)
    pos = alpha > 0
    g = np.zeros((n, len(alpha)))
    g[:, pos] = rng.gamma(alpha[pos], size=(n, int(pos.sum())))
    tot = g.sum(axis=1, keepdims=True)
    if n and tot.min() <= 0:  # every gamma of a row underflowed (tiny alphas): put its mass on the largest alpha
        bad = tot[:, 0] <= 0
        g[bad] = 0.0
        g[bad, int(np.argmax(alpha))] = 1.0
        tot = g.sum(axis=1, keepdims=True)
    return g / tot
