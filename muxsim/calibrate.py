"""Calibration: fit populations of answer laws to logged answer counts, and predict from a pilot.

Two populations are fitted to an :class:`~muxsim.logs.evaluate.AnswerTable`
(m logged answers per question and model):

* :func:`fit_latent` — the parametric :class:`~muxsim.population.LatentDifficulty`
  family by maximum marginal likelihood of the per-question counts:

  - abstention ``a_i``: Binomial(m, a_i) per question (closed-form MLE);
  - accuracy among valid answers ``p_qi ~ Beta(a_i, b_i)`` with a one-factor
    Gaussian copula (loadings ``lambda_i``; with two models only their product,
    the latent correlation, is identified, so one shared loading is fitted): the joint likelihood of every
    model's correct count given its valid count,
    ``prod_q sum_g w_g prod_i sum_e w_e Binom(c_qi | v_qi, p_i(lambda_i g + sqrt(1 - lambda_i^2) e))``,
    integrated by Gauss-Hermite quadrature and maximised with L-BFGS-B;
  - attractor share ``s_i``: the likelihood of the pattern of repeated wrong
    answers of each model (each wrong draw is the question's attractor with
    probability ``s_i``, else a unique answer); patterns with two repeated wrong
    answers are impossible in the family and are counted in ``n_unfit``;
  - shared attractor: the share of (question, model pair) cases where both models
    repeat a wrong answer and it is the same one (``shared_wrong`` is set when it
    is at least one half).

  Standard errors come from the observed information (numerical Hessian of the
  negative log-likelihood on the unconstrained scale, mapped back by the delta
  method).  Goodness of fit: :func:`goodness_of_fit`.

* :func:`fit_shrinkage` — the empirical population of the logged questions
  themselves, each question's law shrunk by empirical Bayes:

  - correct count of model i on question q ~ Beta-binomial with prior mean
    ``logistic(t0_i + t1_i x_q)`` and strength ``A_i``, where ``x_q`` is the pilot
    accuracy on q of the models *not* being predicted (cross-model pooling: a
    question everybody else missed is shrunk towards "hard"); ``cross_model=False``
    pools towards the model's average only;
  - abstain count among the non-correct answers ~ Beta-binomial, the same way
    (``f0_i, f1_i, B_i``);
  - wrong answers: a Polya urn whose base measure is the other models' wrong
    answers on the same question (strength ``beta``) plus fresh answers (``tau``);

  every number by maximum marginal likelihood of the pilot counts (so how
  strongly to pool is learned, not guessed).  Predictions integrate each
  question's posterior with ``nodes`` seeded draws per question and model (the
  engine's mixture mode): they are posterior expectations of each method, not
  plug-ins of posterior means.

Both return objects with ``population(models)`` for :func:`muxsim.population.evaluate`;
:func:`evaluate_fit` evaluates either in chunks of questions (bounded memory).
A third fit, latent classes of questions with per-question posteriors, is
:func:`muxsim.latent_class.fit_classes` (``save_fit``/``load_fit`` handle it too).
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from typing import Sequence

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize
from scipy.special import betaln, gammaln, logsumexp
from scipy.stats import beta as beta_dist
from scipy.stats import binom, norm

from muxsim import rules
from muxsim.errors import MuxsimError
from muxsim.layout import Layout, from_arrays
from muxsim.population import LatentDifficulty, ModelParams

__all__ = [
    "LatentFit", "fit_latent", "goodness_of_fit", "ShrinkageFit", "fit_shrinkage", "PosteriorPopulation",
    "dirichlet_multinomial_fit",
]


# ---------------------------------------------------------------------------
# counts from an answer table
# ---------------------------------------------------------------------------


def _counts(codes: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(Q, n) correct, wrong and abstain counts."""
    c = (codes == rules.CORRECT).sum(axis=2)
    a = (codes == rules.ABSTAIN).sum(axis=2)
    return c, codes.shape[2] - c - a, a


def _check_table(table) -> None:
    if table.K < 1 or table.n_questions < 2:
        raise MuxsimError(f"need at least 2 questions and 1 sample to fit, got Q={table.n_questions}, K={table.K}")


# ---------------------------------------------------------------------------
# Parametric fit: LatentDifficulty
# ---------------------------------------------------------------------------


@dataclass
class LatentFit:
    """A fitted :class:`LatentDifficulty` with standard errors and diagnostics."""

    models: tuple[str, ...]
    params: dict[str, dict[str, float]]  # model -> {a, b, abstain, attractor, loading, mean}
    se: dict[str, dict[str, float]]
    shared_wrong: bool
    shared_share: float  # share of pairs with the same repeated wrong answer
    log_lik: float
    n_questions: int
    m: int
    n_unfit: dict[str, int] = field(default_factory=dict)
    nodes: int = 24

    def population(self, models: Sequence[str] | None = None) -> LatentDifficulty:
        names = list(self.models) if models is None else list(models)
        ps = []
        for nm in names:
            if nm not in self.params:
                raise MuxsimError(f"model {nm!r} is not in the fit; it has {list(self.models)}")
            p = self.params[nm]
            ps.append(ModelParams(nm, p["a"], p["b"], p["abstain"], p["attractor"], min(p["loading"], 0.999),
                                  p.get("abstain_slope", 0.0) if 0 < p["abstain"] < 1 else 0.0))
        return LatentDifficulty(tuple(ps), shared_wrong=self.shared_wrong, nodes=self.nodes)

    def to_dict(self) -> dict:
        d = asdict(self)
        d["kind"] = "muxsim.fit/latent-1"
        d["models"] = list(self.models)
        return d

    @classmethod
    def from_dict(cls, d: dict) -> "LatentFit":
        if d.get("kind") != "muxsim.fit/latent-1":
            raise MuxsimError(f"fit kind={d.get('kind')!r} is not 'muxsim.fit/latent-1'")
        d = {k: v for k, v in d.items() if k != "kind"}
        d["models"] = tuple(d["models"])
        return cls(**d)

    def table(self) -> str:
        lines = [f"{'model':<30}{'mean p':>14}{'a':>14}{'b':>14}{'loading':>14}{'abstain':>14}{'abst. slope':>14}"
                 f"{'attractor':>14}"]
        for m in self.models:
            p, s = self.params[m], self.se[m]
            cell = lambda k: f"{p.get(k, 0.0):.3f}±{s.get(k, 0.0):.3f}"  # noqa: E731
            lines.append(f"{m:<30}" + "".join(f"{cell(k):>14}" for k in ("mean", "a", "b", "loading", "abstain",
                                                                         "abstain_slope", "attractor")))
        lines.append(
            f"(max marginal likelihood, Q={self.n_questions}, m={self.m}, log-lik {self.log_lik:.1f}; "
            f"shared attractor share {self.shared_share:.2f} -> shared_wrong={self.shared_wrong})"
        )
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()


def _binom_logpmf_table(c: np.ndarray, v: np.ndarray, p: np.ndarray) -> np.ndarray:
    """log Binom(c | v, p) for c, v of shape (Q, n) and p of shape (N, n) -> (Q, N, n)."""
    p = np.clip(p, 1e-12, 1 - 1e-12)
    lc = gammaln(v + 1) - gammaln(c + 1) - gammaln(v - c + 1)
    return lc[:, None, :] + c[:, None, :] * np.log(p)[None] + (v - c)[:, None, :] * np.log1p(-p)[None]


def _loading_nll(lam_par: np.ndarray, combos: list, inverse: np.ndarray, zgrid: np.ndarray, pgrid: np.ndarray,
                 agrid: np.ndarray, x: np.ndarray, lw: np.ndarray, xe: np.ndarray, lwe: np.ndarray) -> float:
    """Negative log marginal likelihood of all models' (correct, abstain) counts given the marginals (fixed).

    ``combos[i]`` holds model i's distinct (correct, valid, abstain) triples and
    ``inverse[:, i]`` each question's triple, so the terms are computed once per
    distinct triple; ``pgrid``/``agrid`` give accuracy among valid answers and
    abstention on ``zgrid``.  Constants (binomial coefficients) are dropped.
    """
    n = len(combos)
    lam = 0.999 / (1 + np.exp(-lam_par))
    total = np.zeros((inverse.shape[0], len(x)))
    for i in range(n):
        z = lam[i] * x[:, None] + math.sqrt(1 - lam[i] ** 2) * xe[None, :]  # (g, e)
        p = np.clip(np.interp(z, zgrid, pgrid[i]), 1e-12, 1 - 1e-12)
        ab = np.clip(np.interp(z, zgrid, agrid[i]), 1e-12, 1 - 1e-12)
        cc, vv, aa = (combos[i][:, j : j + 1, None] for j in range(3))
        lp = (cc * np.log(p)[None] + (vv - cc) * np.log1p(-p)[None]
              + aa * np.log(ab)[None] + vv * np.log1p(-ab)[None])  # (combo, g, e)
        lm = logsumexp(lp + lwe[None, None, :], axis=2)  # (combo, g)
        total += lm[inverse[:, i]]
    return -float(logsumexp(total + lw[None, :], axis=1).sum())


def _marginal_nll(par: np.ndarray, combos: np.ndarray, counts: np.ndarray, x: np.ndarray, lw: np.ndarray,
                  slope: bool) -> float:
    """One model's negative log marginal likelihood of (correct, valid, abstain) per question over its own z ~ N(0, 1):
    par = (log a, log b, probit abstain at z = 0, abstain slope)."""
    a, b = np.exp(par[0]), np.exp(par[1])
    p = np.clip(beta_dist.ppf(norm.cdf(x), a, b), 1e-12, 1 - 1e-12)
    ab = np.clip(norm.cdf(par[2] - (par[3] if slope else 0.0) * x), 1e-12, 1 - 1e-12)
    cc, vv, aa = combos[:, 0:1], combos[:, 1:2], combos[:, 2:3]
    lp = cc * np.log(p) + (vv - cc) * np.log1p(-p) + aa * np.log(ab) + vv * np.log1p(-ab)
    return -float((logsumexp(lp + lw[None, :], axis=1) * counts).sum())


def _betabinom_nll(par: np.ndarray, c: np.ndarray, v: np.ndarray) -> float:
    a, b = np.exp(par)
    return -float((betaln(c + a, v - c + b) - betaln(a, b)).sum())


def _attractor_fit(codes_i: np.ndarray) -> tuple[float, float, int]:
    """MLE and SE of one model's attractor share from its wrong-answer patterns; count of impossible patterns."""
    rs, js, n_bad = [], [], 0
    for row in codes_i:
        w = row[row > 0]
        if len(w) == 0:
            continue
        _, cnt = np.unique(w, return_counts=True)
        rep = cnt[cnt >= 2]
        if len(rep) > 1:
            n_bad += 1
            rep = rep[:1] if len(rep) else rep
            rep = np.array([cnt.max()])
        rs.append(len(w))
        js.append(int(rep[0]) if len(rep) else 0)
    if not rs:
        return 0.0, float("nan"), n_bad
    r, j = np.array(rs), np.array(js)

    def nll(s):
        s = min(max(s, 1e-9), 1 - 1e-9)
        # j >= 2: that answer is the attractor (s^j (1-s)^(r-j)); j = 0: at most one draw is the attractor
        ll = np.where(j >= 2, j * np.log(s) + (r - j) * np.log1p(-s),
                      np.log((1 - s) ** r + r * s * (1 - s) ** np.maximum(r - 1, 0)))
        return -float(ll.sum())

    res = optimize.minimize_scalar(nll, bounds=(1e-6, 1 - 1e-6), method="bounded")
    s = float(res.x)
    h = 1e-4
    s0 = min(max(s, 2 * h), 1 - 2 * h)
    d2 = (nll(s0 + h) - 2 * nll(s0) + nll(s0 - h)) / h**2
    se = float(1 / math.sqrt(d2)) if d2 > 0 else float("nan")
    return s, se, n_bad


def shared_share(codes: np.ndarray) -> float:
    """Among (question, pair of models) where both repeat a wrong answer, the share where it is the same one."""
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


def _num_hessian(f, x: np.ndarray, h: float = 1e-3) -> np.ndarray:
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


def fit_latent(table, *, nodes: int = 24, fit_nodes: int = 20, abstain_slope: bool = True) -> LatentFit:
    """Maximum marginal likelihood fit of :class:`LatentDifficulty` to an answer table (see module notes).

    Two stages: (1) per model, the Beta(a, b) of accuracy among valid answers
    and the abstention (its level and, with ``abstain_slope``, how it rises on
    the questions the model finds hard), by the marginal likelihood of the
    (correct, abstain) counts over the model's own latent z (the copula leaves
    each model's marginal as in a one-model population); (2) the loadings, by
    the joint marginal likelihood of all models' counts with the marginals
    fixed.  SEs are from the observed information of each stage (cross-stage
    uncertainty is not propagated).
    """
    _check_table(table)
    c, w, a = _counts(table.codes)
    Q, n = c.shape
    m = table.K
    v = c + w
    # stage 1 integrates over u = Phi(z) by the midpoint rule on 400 points: with a, b << 1 the
    # accuracy p(z) is nearly a step, which Gauss-Hermite nodes resolve too coarsely to fit its mean
    u1 = (np.arange(400) + 0.5) / 400
    x1, lw1 = norm.ppf(u1), np.full(400, -math.log(400))
    marg = np.zeros((n, 4))
    cov_m = np.full((n, 4, 4), np.nan)
    for i in range(n):
        cb, cnt = np.unique(np.stack([c[:, i], v[:, i], a[:, i]], axis=1), axis=0, return_counts=True)
        cb = cb.astype(float)
        tot_a = a[:, i].sum() / (Q * m)
        free_ab = 0 < tot_a < 1
        slope = abstain_slope and free_ab
        pbar = min(max(c[:, i].sum() / max(v[:, i].sum(), 1), 0.02), 0.98)
        par0 = np.array([math.log(pbar * 2), math.log((1 - pbar) * 2),
                         norm.ppf(min(max(tot_a, 1e-6), 1 - 1e-6)), 0.0])
        free = [0, 1] + ([2] if free_ab else []) + ([3] if slope else [])
        if not free_ab:
            par0[2] = -40.0 if tot_a == 0 else 40.0

        def f(th, par0=par0, free=free, cb=cb, cnt=cnt, slope=slope):
            par = par0.copy()
            par[free] = th
            return _marginal_nll(par, cb, cnt, x1, lw1, slope)

        bounds = [(-7, 6), (-7, 6), (-6, 6), (-4, 4)]
        res = optimize.minimize(f, par0[free], method="L-BFGS-B", bounds=[bounds[j] for j in free])
        marg[i] = par0
        marg[i, free] = res.x
        try:
            cv = np.linalg.inv(_num_hessian(f, res.x))
            if np.any(np.diag(cv) < 0):
                raise np.linalg.LinAlgError
            cov_m[i][np.ix_(free, free)] = cv
        except np.linalg.LinAlgError:
            pass
        if not free_ab:
            cov_m[i, 2, 2] = 0.0
        if not slope:
            cov_m[i, 3, 3] = 0.0
    ab = np.exp(marg[:, :2])
    cov_ab = cov_m[:, :2, :2]
    zgrid = np.linspace(-9, 9, 3601)
    ugrid = np.clip(norm.cdf(zgrid), 1e-15, 1 - 1e-15)
    pgrid = np.array([beta_dist.ppf(ugrid, ab[i, 0], ab[i, 1]) for i in range(n)])
    agrid = np.array([norm.cdf(marg[i, 2] - marg[i, 3] * zgrid) for i in range(n)])
    x, wx = hermegauss(fit_nodes)
    lw = np.log(wx / wx.sum())
    combos, inverse = [], np.zeros((Q, n), dtype=int)
    for i in range(n):
        cb, inv = np.unique(np.stack([c[:, i], v[:, i], a[:, i]], axis=1), axis=0, return_inverse=True)
        combos.append(cb.astype(float))
        inverse[:, i] = inv.ravel()
    # with two models only the product lambda_1 lambda_2 (their latent correlation) is identified:
    # fit one shared loading; with one model the loading is not identified at all (kept at 0)
    n_par = {1: 0, 2: 1}.get(n, n)
    expand = (lambda th: np.repeat(th, n)) if n_par == 1 else (lambda th: th)  # noqa: E731
    # own factor e: midpoint rule in u = Phi(e) (near-step accuracy curves need it); shared g: Gauss-Hermite
    ue = (np.arange(160) + 0.5) / 160
    xe, lwe = norm.ppf(ue), np.full(160, -math.log(160))
    f = lambda th: _loading_nll(expand(th), combos, inverse, zgrid, pgrid, agrid, x, lw, xe, lwe)  # noqa: E731
    if n_par:
        # two starts (loadings 0.5 and 0.9): near-step accuracy curves (a, b << 1) make the
        # likelihood flat in some loadings, and a single start can stop on the wrong side
        res = min((optimize.minimize(f, np.full(n_par, t0), method="L-BFGS-B", bounds=[(-8, 8)] * n_par)
                   for t0 in (0.0, 2.2)), key=lambda r: r.fun)
        th_p, fun = res.x, float(res.fun)
        try:
            cov_p = np.linalg.inv(_num_hessian(f, th_p))
            if np.any(np.diag(cov_p) < 0):
                raise np.linalg.LinAlgError
        except np.linalg.LinAlgError:
            cov_p = np.full((n_par, n_par), np.nan)
    else:
        th_p, fun, cov_p = np.zeros(0), f(np.full(1, -50.0)), np.zeros((0, 0))
    th = expand(th_p) if n_par else np.full(n, -50.0)
    cov = np.full((n, n), np.nan)
    if n_par == n:
        cov = cov_p
    elif n_par == 1:
        cov = np.full((n, n), cov_p[0, 0])
    elif n_par == 0:
        cov = np.zeros((n, n))
    res = optimize.OptimizeResult(fun=fun)
    lam = 0.999 / (1 + np.exp(-th))
    dlam = lam * (1 - lam / 0.999)
    log_lik = -float(res.fun)
    params, se, unfit = {}, {}, {}
    for i, nm in enumerate(table.models):
        ai, bi = ab[i]
        va, vb, vab = cov_ab[i, 0, 0], cov_ab[i, 1, 1], cov_ab[i, 0, 1]
        mean = ai / (ai + bi)
        g = np.array([ai * bi / (ai + bi) ** 2, -ai * bi / (ai + bi) ** 2])  # d mean / d(log a, log b)
        se_mean = math.sqrt(max(g @ cov_ab[i] @ g, 0.0)) if np.all(np.isfinite(cov_ab[i])) else float("nan")
        ab_i = float(norm.cdf(marg[i, 2]))
        s_i, s_se, bad = _attractor_fit(table.codes[:, i, :])
        params[nm] = {"a": float(ai), "b": float(bi), "mean": float(mean), "loading": float(lam[i]),
                      "abstain": ab_i, "abstain_slope": float(marg[i, 3]), "attractor": float(s_i)}
        se[nm] = {"a": float(ai * math.sqrt(va)), "b": float(bi * math.sqrt(vb)), "mean": se_mean,
                  "loading": float(dlam[i] * math.sqrt(cov[i, i])) if np.isfinite(cov[i, i]) and cov[i, i] >= 0 else float("nan"),
                  "abstain": float(norm.pdf(marg[i, 2]) * math.sqrt(cov_m[i, 2, 2])),
                  "abstain_slope": float(math.sqrt(cov_m[i, 3, 3])), "attractor": s_se}
        unfit[nm] = bad
    share = shared_share(table.codes)
    return LatentFit(tuple(table.models), params, se, bool(share >= 0.5) if not math.isnan(share) else True,
                     float(share), log_lik, Q, m, unfit, nodes)


def _betabinom_pmf(m: int, a: float, b: float) -> np.ndarray:
    k = np.arange(m + 1)
    return np.exp(gammaln(m + 1) - gammaln(k + 1) - gammaln(m - k + 1) + betaln(k + a, m - k + b) - betaln(a, b))


def goodness_of_fit(fit: LatentFit, table) -> dict:
    """Predicted vs observed distribution of per-question correct counts per model, and agreement between models.

    Per model: the observed histogram of the number of correct answers among the
    m logged samples of a question, the predicted one (abstain Binomial, then
    Beta-binomial among valid answers), and their total-variation distance.
    Per pair of models: the observed and predicted correlation of those counts
    (prediction by quadrature over the latent factor).
    """
    c, w, a = _counts(table.codes)
    Q, n = c.shape
    m = table.K
    out: dict = {"models": {}, "pairs": {}}
    pmfs = {}
    pop = fit.population(table.models)
    x1, w1 = hermegauss(64)
    w1 = w1 / w1.sum()
    for i, nm in enumerate(table.models):
        # P(j correct of m) = E_z[ P(correct per draw at z)^j ... ]: a correct draw has probability
        # (1 - abstain(z)) p(z) at latent z, draws independent given z
        lawz = pop.weights_at(np.repeat(x1[:, None], len(table.models), axis=1))[:, i, :]
        pc = lawz[:, 0]
        pred = w1 @ binom.pmf(np.arange(m + 1)[None, :], m, pc[:, None])
        obs = np.bincount(c[:, i], minlength=m + 1) / Q
        pmfs[nm] = pred
        out["models"][nm] = {"observed": obs.tolist(), "predicted": pred.tolist(),
                             "total_variation": float(0.5 * np.abs(obs - pred).sum())}
    # pairwise correlation of correct counts, predicted by quadrature on (g, e_i)
    x, wx = hermegauss(fit.nodes)
    wx = wx / wx.sum()
    lam = np.array([pp.loading for pp in pop.params])
    Ec = np.zeros((len(x), n))  # E[c_i | g]
    Ec2 = np.zeros((len(x), n))
    for i, pp in enumerate(pop.params):
        z = lam[i] * x[:, None] + math.sqrt(1 - lam[i] ** 2) * x[None, :]
        zz = z.ravel()[:, None].repeat(n, axis=1)
        pr = pop.weights_at(zz)[:, i, 0].reshape(z.shape)  # per-draw correct probability at z
        Ec[:, i] = (pr * m) @ wx
        Ec2[:, i] = (m * pr * (1 - pr) + (m * pr) ** 2) @ wx
    mean = wx @ Ec
    var = wx @ Ec2 - mean**2
    for i in range(n):
        for j in range(i + 1, n):
            cov = wx @ (Ec[:, i] * Ec[:, j]) - mean[i] * mean[j]
            pred_r = cov / math.sqrt(var[i] * var[j]) if var[i] > 0 and var[j] > 0 else float("nan")
            obs_r = float(np.corrcoef(c[:, i], c[:, j])[0, 1]) if c[:, i].std() > 0 and c[:, j].std() > 0 else float("nan")
            out["pairs"][f"{table.models[i]}|{table.models[j]}"] = {"observed_corr": obs_r, "predicted_corr": float(pred_r)}
    return out


# ---------------------------------------------------------------------------
# Empirical population with learned shrinkage
# ---------------------------------------------------------------------------


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


def _wrong_draw_features(codes: np.ndarray):
    """For every wrong logged answer (in sample order): own count so far of that answer, own wrong draws so far,
    the other models' count of that answer, the other models' wrong total."""
    Q, n, m = codes.shape
    feats = []
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
                seen[lab] = seen.get(lab, 0) + 1
                k += 1
    return np.array(feats, dtype=float).reshape(-1, 4)


def _polya_loglik(F: np.ndarray, beta: float, tau: float) -> float:
    own, k, oth, W = F.T
    pi = np.where(oth > 0, oth / (W + tau), 0.0)
    p_named = (own + beta * pi) / (k + beta)
    p_new = beta * tau / (W + tau) / (k + beta)
    p = np.where((own > 0) | (oth > 0), p_named, p_new)
    return float(np.log(np.maximum(p, 1e-300)).sum())


def fit_urn(codes: np.ndarray) -> tuple[float, float, float]:
    """(beta, tau, log-lik): the wrong-answer urn by maximum likelihood of the pilot's wrong draws (in sample order)."""
    F = _wrong_draw_features(codes)
    if not len(F):
        return 1.0, 1.0, 0.0
    res = optimize.minimize(lambda p: -_polya_loglik(F, math.exp(p[0]), math.exp(p[1])), [0.0, 0.0],
                            method="L-BFGS-B", bounds=[(-7, 7), (-7, 7)])
    return math.exp(res.x[0]), math.exp(res.x[1]), -float(res.fun)


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
    qs = tuple(range(n_questions)) if questions is None else tuple(int(q) for q in questions)
    if not qs or min(qs) < 0 or max(qs) >= n_questions:
        raise MuxsimError(f"questions={questions!r} must index the fit's {n_questions} questions")
    return names, qs


@dataclass
class ShrinkageFit:
    """Empirical-Bayes population of the logged questions (see module notes)."""

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

    def posteriors(self, models: Sequence[str]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(post_c (Q, len, 2, 3), prior_a (Q, len), abstain strengths B (len,)) for predicting ``models`` together.

        With ``cross_model``, each selected model's prior is refitted on the pilot
        accuracy of the models *outside* the selection only: using a selected
        model's data in another selected model's prior as well as in its own
        likelihood would count it twice and make the selected models look more
        alike than they are (measured: union under-predicted by ~3 points at k = 7).
        With every model selected there is no outside model and the prior pools
        towards each model's average.
        """
        key = tuple(models)
        cache = self.__dict__.setdefault("_post_cache", {})
        if key in cache:
            return cache[key]
        idx = [self.models.index(mm) for mm in models]
        c, w, a = _counts(self.codes)
        m = self.codes.shape[2]
        if not self.cross_model:
            out = self.post_c[:, idx], self.prior_a[:, idx], np.array([self.prior[mm]["B"] for mm in models])
        else:
            outside = [j for j in range(len(self.models)) if j not in idx]
            pcs, pas, Bs = [], [], []
            for i in idx:
                xi = _difficulty(c, m, outside)
                par, _, pa, post, _ = _model_prior(c[:, i], a[:, i], m, xi, self.mixture)
                pcs.append(post)
                pas.append(pa)
                Bs.append(par["B"])
            out = np.stack(pcs, axis=1), np.stack(pas, axis=1), np.array(Bs)
        cache[key] = out
        return out

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
        return {"kind": "muxsim.fit/shrinkage-1", "models": list(self.models), "question_ids": list(self.question_ids),
                "strength": self.strength, "mean": self.mean, "beta": self.beta, "tau": self.tau,
                "codes": self.codes.tolist(), "log_lik": self.log_lik, "nodes": self.nodes, "max_labels": self.max_labels,
                "prior": self.prior, "prior_c": self.prior_c.tolist(), "prior_a": self.prior_a.tolist(),
                "post_c": self.post_c.tolist(), "cross_model": self.cross_model, "mixture": self.mixture}

    @classmethod
    def from_dict(cls, d: dict) -> "ShrinkageFit":
        if d.get("kind") != "muxsim.fit/shrinkage-1":
            raise MuxsimError(f"fit kind={d.get('kind')!r} is not 'muxsim.fit/shrinkage-1'")
        return cls(tuple(d["models"]), tuple(d["question_ids"]), d["strength"], d["mean"], d["beta"], d["tau"],
                   np.asarray(d["codes"], dtype=np.int64), d["log_lik"], d["nodes"], d["max_labels"], d["prior"],
                   np.asarray(d["prior_c"], dtype=float), np.asarray(d["prior_a"], dtype=float),
                   np.asarray(d["post_c"], dtype=float), d.get("cross_model", True), d.get("mixture", False))


def _bb_regression(k: np.ndarray, n: np.ndarray, x: np.ndarray | None) -> tuple[np.ndarray, float, float]:
    """Beta-binomial regression by marginal likelihood: k_q ~ BetaBinom(n_q, A mu_q, A (1 - mu_q)),
    logit mu_q = t0 + t1 x_q.  Returns ((t0, t1), A, log-lik); with no rows of n > 0, a flat prior."""
    use = n > 0
    k, n = k[use].astype(float), n[use].astype(float)
    if len(k) == 0:
        return np.zeros(2), 1.0, 0.0
    xx = np.zeros(len(k)) if x is None else x[use]
    tot = k.sum() / n.sum()
    if tot in (0.0, 1.0):  # every draw went one way: a point mass (A -> inf) at the boundary
        return np.array([-30.0 if tot == 0 else 30.0, 0.0]), 1e6, 0.0

    def nll(par):
        mu = 1 / (1 + np.exp(-(par[0] + par[1] * xx)))
        mu = np.clip(mu, 1e-9, 1 - 1e-9)
        A = np.exp(par[2])
        return -float((betaln(k + A * mu, n - k + A * (1 - mu)) - betaln(A * mu, A * (1 - mu))).sum())

    t0 = math.log(tot / (1 - tot))
    bounds = [(-30, 30), (0, 0) if x is None else (-10, 10), (-7, 14)]
    res = optimize.minimize(nll, [t0, 0.0, 0.0], method="L-BFGS-B", bounds=bounds)
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


def _model_prior(c_i: np.ndarray, a_i: np.ndarray, m: int, xi: np.ndarray | None, mixture: bool):
    """One model's priors and posteriors: (parameters, prior mean of correct (Q,), prior mean of abstain
    among non-correct (Q,), posterior of the correct share (Q, 2, 3), log-lik)."""
    Q = len(c_i)
    lin = lambda t: t[0] + t[1] * (0.0 if xi is None else xi)  # noqa: E731
    ta, B, l2 = _bb_regression(a_i, m - c_i, xi)
    prior_a = np.broadcast_to(1 / (1 + np.exp(-lin(ta))), (Q,)).copy()
    if mixture and xi is not None:
        pc, post, l1 = _bb_mixture(c_i, m, xi)
        mu1 = 1 / (1 + np.exp(-(pc["t0"] + pc["t1"] * xi)))
        prior_c = pc["pi"] * mu1 + (1 - pc["pi"]) / (1 + math.exp(-pc["u0"]))
        par = {**pc, "f0": float(ta[0]), "f1": float(ta[1]), "B": B}
    else:
        tc, A, l1 = _bb_regression(c_i, np.full(Q, m), xi)
        prior_c = np.broadcast_to(1 / (1 + np.exp(-lin(tc))), (Q,)).copy()
        mu = np.clip(prior_c, 1e-12, 1 - 1e-12)
        post = np.zeros((Q, 2, 3))
        post[:, 0] = np.stack([np.ones(Q), c_i + A * mu, m - c_i + A * (1 - mu)], axis=1)
        par = {"t0": float(tc[0]), "t1": float(tc[1]), "A": A, "pi": 1.0, "f0": float(ta[0]), "f1": float(ta[1]), "B": B}
    return par, prior_c, prior_a, post, l1 + l2


def fit_shrinkage(table, *, nodes: int = 16, max_labels: int = 3, cross_model: bool = True,
                  mixture: bool = False) -> ShrinkageFit:
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
    marginal likelihood estimates.
    """
    _check_table(table)
    c, w, a = _counts(table.codes)
    m = table.K
    n = c.shape[1]
    prior_c = np.zeros(c.shape)
    prior_a = np.zeros(c.shape)
    post_c = np.zeros(c.shape + (2, 3))
    strength, mean, prior, ll = {}, {}, {}, 0.0
    for i, nm in enumerate(table.models):
        xi = _difficulty(c, m, [j for j in range(n) if j != i]) if cross_model else None
        par, prior_c[:, i], prior_a[:, i], post_c[:, i], l_i = _model_prior(c[:, i], a[:, i], m, xi, mixture)
        prior[nm] = par
        strength[nm] = par["A"]
        mc = float(prior_c[:, i].mean())
        ma = float(((1 - prior_c[:, i]) * prior_a[:, i]).mean())
        mean[nm] = [mc, 1 - mc - ma, ma]
        ll += l_i
    beta, tau, ll_urn = fit_urn(table.codes)
    ll += ll_urn
    return ShrinkageFit(tuple(table.models), tuple(table.question_ids), strength, mean, beta, tau,
                        table.codes.copy(), ll, nodes, max_labels, prior, prior_c, prior_a, post_c, cross_model, mixture)


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

    def weights(self) -> tuple[np.ndarray, np.ndarray]:
        f = self.fit
        idx = [f.models.index(m) for m in self.models]
        post_all, pa_all, B_all = f.posteriors(self.models)
        codes_all = f.codes
        E = self.nodes
        Lmax = f.max_labels
        W = np.zeros((len(self.questions), E, len(idx), Lmax + 3))
        for qq, q in enumerate(self.questions):
            # one seeded stream per (question, model): a question's laws do not depend on which
            # other models or questions are evaluated with it
            codes = codes_all[q]
            rngs = [np.random.default_rng([int(self.seed), int(q), int(i)]) for i in idx]
            n_keep, split = urn_split(codes, idx, f.beta, f.tau, Lmax, E, rngs)
            for r, i in enumerate(idx):
                rng = rngs[r]
                nc, nw, na = (codes[i] == 0).sum(), (codes[i] > 0).sum(), (codes[i] < 0).sum()
                nu = pa_all[q, r]
                pcs = post_all[q, r]  # (2, 3): weight, alpha, beta of each posterior component
                n1 = int(round(E * pcs[0, 0]))  # stratified: components get their share of the draws
                pc = np.concatenate([_beta_draw(rng, pcs[0, 1], pcs[0, 2], n1), _beta_draw(rng, pcs[1, 1], pcs[1, 2], E - n1)])
                sa = _beta_draw(rng, na + B_all[r] * nu, nw + B_all[r] * (1 - nu), E)
                coarse = np.stack([pc, (1 - pc) * (1 - sa), (1 - pc) * sa], axis=1)  # correct, wrong, abstain
                W[qq, :, r, 0] = coarse[:, 0]
                W[qq, :, r, -1] = coarse[:, 2]
                W[qq, :, r, 1 : 1 + n_keep] = coarse[:, 1:2] * split[r][:, :-1]
                W[qq, :, r, Lmax + 1] = coarse[:, 1] * split[r][:, -1]
        # drop shares below 1e-12 (gamma draws of tiny shapes underflow to denormals, where scipy's
        # binomial pmf overflows); the effect on any accuracy is below 1e-11
        W = np.where(W < 1e-12, 0.0, W)
        W = W / W.sum(axis=3, keepdims=True)
        return W.reshape(len(self.questions) * E, len(idx), Lmax + 3), np.full(E, 1.0 / E)

    def layout(self) -> tuple[Layout, tuple[int, np.ndarray], np.ndarray]:
        W, mw = self.weights()
        Q = W.shape[0] // self.nodes
        return from_arrays(W, "law"), (self.nodes, mw), np.full(Q, 1.0 / Q)


def urn_split(codes: np.ndarray, idx: Sequence[int], beta: float, tau: float, max_labels: int, E: int,
              rngs: Sequence[np.random.Generator]) -> tuple[int, list[np.ndarray]]:
    """Posterior draws of how each model's wrong mass splits over one question's named wrong answers.

    ``codes`` is the question's pilot (n, m); for each model in ``idx``, E draws of
    Dirichlet(own counts + urn base) over the kept answers, then the rest (folded
    answers and the tail of fresh ones), where the urn base of an answer is
    ``beta * (other models' count) / (their wrong total + tau)`` and of the tail
    ``beta * tau / (their wrong total + tau)``.  The ``max_labels`` answers heaviest
    in posterior mean over the models are kept.  Returns (kept, [(E, kept + 1)]).
    """
    allw = codes[codes > 0]
    labs, tot = np.unique(allw, return_counts=True)
    tot_d = dict(zip(labs.tolist(), tot.tolist()))
    prior_w = np.zeros((len(idx), len(labs)))
    own_w = np.zeros((len(idx), len(labs)))
    prior_t = np.zeros(len(idx))
    for r, i in enumerate(idx):
        own = codes[i][codes[i] > 0]
        Wo = len(allw) - len(own)
        for t, lab in enumerate(labs.tolist()):
            own_w[r, t] = int((own == lab).sum())
            oth = tot_d[lab] - own_w[r, t]
            prior_w[r, t] = beta * oth / (Wo + tau) if oth > 0 else 0.0
        prior_t[r] = beta * tau / (Wo + tau)
    mean_w = (own_w + prior_w) / (own_w.sum(axis=1, keepdims=True) + beta)
    order = np.argsort(-mean_w.sum(axis=0), kind="stable")
    keep, fold = order[:max_labels], order[max_labels:]
    split = []
    for r in range(len(idx)):
        par = np.concatenate([own_w[r, keep] + prior_w[r, keep],
                              [own_w[r, fold].sum() + prior_w[r, fold].sum() + prior_t[r]]])
        split.append(_dirichlet(rngs[r], par, E))
    return len(keep), split


def _beta_draw(rng: np.random.Generator, a: float, b: float, n: int) -> np.ndarray:
    """n Beta(a, b) draws; a or b <= 0 gives the point mass at 0 or 1."""
    if a <= 0:
        return np.zeros(n)
    if b <= 0:
        return np.ones(n)
    return _dirichlet(rng, np.array([a, b]), n)[:, 0]


def _dirichlet(rng: np.random.Generator, alpha: np.ndarray, n: int) -> np.ndarray:
    """n Dirichlet(alpha) draws; components with alpha = 0 are exactly 0."""
    alpha = np.asarray(alpha, dtype=float)
    g = np.zeros((n, len(alpha)))
    pos = alpha > 0
    g[:, pos] = rng.gamma(alpha[pos], size=(n, int(pos.sum())))
    tot = g.sum(axis=1, keepdims=True)
    bad = tot[:, 0] <= 0  # every gamma underflowed (tiny alphas): put the mass on the largest alpha
    if np.any(bad):
        g[bad] = 0.0
        g[bad, int(np.argmax(alpha))] = 1.0
        tot = g.sum(axis=1, keepdims=True)
    return g / tot


def save_fit(fit, path) -> None:
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(fit.to_dict(), fh, indent=1)


def load_fit(path):
    try:
        with open(path, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise MuxsimError(f"{path}: cannot read a fit ({e})") from None
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind == "muxsim.fit/latent-1":
        return LatentFit.from_dict(d)
    if kind == "muxsim.fit/shrinkage-1":
        return ShrinkageFit.from_dict(d)
    if kind == "muxsim.fit/latent-class-1":
        from muxsim.latent_class import ClassFit

        return ClassFit.from_dict(d)
    raise MuxsimError(f"{path}: kind={kind!r} is not a muxsim fit")


def evaluate_fit(fit, k, *, models: Sequence[str] | None = None, methods: Sequence[str] | None = None, r: int = 1,
                 chunk: int = 20, with_paper: bool = True):
    """Predicted accuracy curves of a fit (:class:`LatentFit`, :class:`ShrinkageFit` or
    :class:`muxsim.latent_class.ClassFit`).

    A shrinkage fit is evaluated ``chunk`` questions at a time and averaged
    (the pooled vote's grid is per question, so this bounds memory).
    """
    from muxsim.latent_class import ClassFit
    from muxsim.population import Curves, add_paper, evaluate

    names = list(fit.models) if models is None else list(models)
    if isinstance(fit, (LatentFit, ClassFit)):
        return evaluate(fit.population(names), k, methods=methods, r=r, with_paper=with_paper)
    Q = len(fit.question_ids)
    parts = []
    for s0 in range(0, Q, chunk):
        qs = list(range(s0, min(Q, s0 + chunk)))
        parts.append((len(qs), evaluate(fit.population(names, questions=qs), k, methods=methods, r=r, with_paper=False)))
    first = parts[0][1]
    values = {m: sum(n * c.values[m] for n, c in parts) / Q for m in first.values}
    se = {m: np.zeros(len(first.k)) for m in first.values}
    out = Curves(first.k, values, se, "exact (empirical-Bayes posterior population)", first.models)
    return add_paper(out) if with_paper else out
