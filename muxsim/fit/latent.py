"""The parametric fit: :class:`~muxsim.population.LatentDifficulty` by maximum marginal likelihood.

Fitted to an :class:`~muxsim.logs.evaluate.AnswerTable` (m logged answers per
question and model):

- abstention ``a_i``: Binomial(m, a_i) per question, with a probit slope on the
  model's latent difficulty;
- accuracy among valid answers ``p_qi ~ Beta(a_i, b_i)`` with a one-factor
  Gaussian copula (loadings ``lambda_i``; with two models only their product,
  the latent correlation, is identified, so one shared loading is fitted): the joint likelihood of every
  model's correct count given its valid count,
  ``prod_q sum_g w_g prod_i sum_e w_e Binom(c_qi | v_qi, p_i(lambda_i g + sqrt(1 - lambda_i^2) e))``,
  integrated by quadrature and maximised with L-BFGS-B;
- attractor share ``s_i``: the likelihood of the pattern of repeated wrong
  answers of each model (each wrong draw is the question's attractor with
  probability ``s_i``, else a unique answer); patterns with two repeated wrong
  answers are impossible in the family and are counted in ``n_unfit``;
- shared attractor: the share of (question, model pair) cases where both models
  repeat a wrong answer and it is the same one (``shared_wrong`` is set when it
  is at least one half; when no pair ever repeats a wrong answer the share is
  NaN, ``shared_wrong`` falls back to True and the fallback is a diagnostic).

Standard errors come from the observed information (numerical Hessian of the
negative log-likelihood on the unconstrained scale, mapped back by the delta
method).  Parameters that end on an optimiser bound, NaN standard errors and
fallbacks are listed in ``LatentFit.diagnostics``.  Goodness of fit:
:func:`goodness_of_fit`.  A population-level fit: predictions are for
questions like the logged ones, and its intervals draw the parameters from
their asymptotic normal law and then Q fresh questions.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from typing import ClassVar, Sequence

import numpy as np
from numpy.polynomial.hermite_e import hermegauss
from scipy import optimize
from scipy.special import betaln, expit, gammaln, logsumexp
from scipy.stats import binom, norm

from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit, at_bound, beta_quantile_z, check_table, counts, num_hessian, shared_share
from muxsim.population import LatentDifficulty, ModelParams

__all__ = ["LatentFit", "fit_latent", "goodness_of_fit"]

#: the loadings' two optimiser starts may end this far apart in log-likelihood before the fit says so (on the
#: bundled jhu pilots, models by pilot accuracy, they ended 0.10 apart at T = 0.7 and 0.43 at T = 0.3; 0.04 and
#: 0.87 in the logs' own order; optima a point apart in predictions)
START_GAP = 0.05


@dataclass
class LatentFit(Fit):
    """A fitted :class:`LatentDifficulty` with standard errors and diagnostics (see module notes)."""

    kind: ClassVar[str] = "muxsim.fit/latent-1"
    family: ClassVar[str] = "latent"
    interval_kind: ClassVar[str] = "parameters from their asymptotic normal law, then fresh questions"

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
    diagnostics: list[str] = field(default_factory=list)

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
        d["kind"] = self.kind
        d["models"] = list(self.models)
        return d | self._diagnostics_dict()

    @classmethod
    def from_dict(cls, d: dict) -> "LatentFit":
        if d.get("kind") != cls.kind:
            raise MuxsimError(f"fit kind={d.get('kind')!r} is not {cls.kind!r}")
        d = {k: v for k, v in d.items() if k not in ("kind", "format", "selection")}
        d["models"] = tuple(d["models"])
        d["diagnostics"] = list(d.get("diagnostics", []))
        return cls(**d)

    def draw_laws(self, models: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        """One draw for the intervals: the parameters from their asymptotic normal law (independent,
        on the log scale for a, b and the logit scale for the shares, each SD capped at 2 on that
        scale; NaN SEs count as 0), then the
        laws of ``n_questions`` fresh questions of that population, (Q, n, L + 3)."""
        ps = []
        for nm in models:
            p, s = self.params[nm], self.se[nm]
            sd = lambda k: float(s.get(k, 0.0)) if np.isfinite(s.get(k, 0.0)) else 0.0  # noqa: E731

            def logit_draw(k, lo=1e-9, hi=1 - 1e-9):
                v = min(max(p[k], lo), hi)
                if v <= lo or v >= hi:
                    return p[k]
                # delta method on the logit scale; its SD is capped at 2, where the method fails (near 0 and 1)
                z = math.log(v / (1 - v)) + rng.standard_normal() * min(sd(k) / (v * (1 - v)), 2.0)
                return float(min(expit(z), hi))

            a = p["a"] * math.exp(rng.standard_normal() * min(sd("a") / p["a"], 2.0))
            b = p["b"] * math.exp(rng.standard_normal() * min(sd("b") / p["b"], 2.0))
            ab = logit_draw("abstain") if 0 < p["abstain"] < 1 else p["abstain"]
            lam = min(logit_draw("loading"), 0.999)
            att = logit_draw("attractor") if 0 < p["attractor"] < 1 else p["attractor"]
            slope = p.get("abstain_slope", 0.0) + rng.standard_normal() * sd("abstain_slope") if 0 < ab < 1 else 0.0
            ps.append(ModelParams(nm, a, b, ab, att, lam, slope))
        pop = LatentDifficulty(tuple(ps), shared_wrong=self.shared_wrong, nodes=self.nodes)
        return pop.sample_weights(self.n_questions, rng)

    def table(self) -> str:
        lines = [f"{'model':<30}{'mean p':>14}{'a':>14}{'b':>14}{'loading':>14}{'abstain':>14}{'abst. slope':>14}"
                 f"{'attractor':>14}"]
        for m in self.models:
            p, s = self.params[m], self.se[m]
            cell = lambda k: f"{p.get(k, 0.0):.3f}±{s.get(k, 0.0):.3f}"  # noqa: E731 (nan shows as nan)
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
    p = np.clip(beta_quantile_z(x, a, b), 1e-12, 1 - 1e-12)
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
    check_table(table)
    c, w, a = counts(table.codes)
    Q, n = c.shape
    m = table.K
    v = c + w
    # stage 1 integrates over u = Phi(z) by the midpoint rule on 400 points: with a, b << 1 the
    # accuracy p(z) is nearly a step, which Gauss-Hermite nodes resolve too coarsely to fit its mean
    u1 = (np.arange(400) + 0.5) / 400
    x1, lw1 = norm.ppf(u1), np.full(400, -math.log(400))
    diags: list[str] = []
    fixed_ab: list[str] = []
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
        nm_i = table.models[i]
        if not res.success:
            diags.append(f"{nm_i}: the optimiser stopped without converging ({res.message})")
        for j, th_j in zip(free, res.x):
            lo, hi = bounds[j]
            msg = at_bound(f"{nm_i}: {('a', 'b', 'abstain', 'abstain_slope')[j]}", float(th_j), lo, hi,
                           scale=("log", "log", "probit", "")[j])
            if msg:
                diags.append(msg)
        if not free_ab:
            fixed_ab.append(f"{nm_i} ({tot_a:g})")
        try:
            cv = np.linalg.inv(num_hessian(f, res.x))
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
    pgrid = np.array([beta_quantile_z(zgrid, ab[i, 0], ab[i, 1]) for i in range(n)])
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
        runs = [optimize.minimize(f, np.full(n_par, t0), method="L-BFGS-B", bounds=[(-8, 8)] * n_par)
                for t0 in (0.0, 2.2)]
        res = min(runs, key=lambda r: r.fun)
        th_p, fun = res.x, float(res.fun)
        gap = max(r.fun for r in runs) - fun
        if gap > START_GAP:
            diags.append(f"loadings: the optimiser's two starts end {gap:.2f} apart in log-likelihood (several "
                         "optima, or no convergence): the better one is kept, and predictions can move by a "
                         "point or more between such optima")
        if not res.success:
            diags.append(f"loadings: the optimiser stopped without converging ({res.message})")
        for j, t in enumerate(th_p):
            msg = at_bound(f"loading[{table.models[j] if n_par == n else 'shared'}]", float(t), -8, 8, scale="logit")
            if msg:
                diags.append(msg)
        try:
            cov_p = np.linalg.inv(num_hessian(f, th_p))
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
    if fixed_ab:
        diags.append("abstain at its bound (the pilot's rate is 0 or 1; no slope fitted): " + ", ".join(fixed_ab))
    share = shared_share(table.codes)
    if math.isnan(share):
        diags.append("shared attractor share is NaN (no two models ever repeat a wrong answer on one question): "
                      "fallback shared_wrong=True (one shared label: the cheaper vote; the attractors decide how "
                      "much it matters)")
    for nm in table.models:
        for k, v in se[nm].items():
            if not np.isfinite(v):
                diags.append(f"{nm}: SE of {k} is NaN (observed information not positive definite there)")
        if unfit[nm]:
            diags.append(f"{nm}: {unfit[nm]} question(s) repeat two different wrong answers, which the family "
                         f"cannot produce (read as one attractor)")
        if 0 < params[nm]["attractor"] <= 2e-6 or params[nm]["attractor"] >= 1 - 2e-6:
            diags.append(f"{nm}: attractor={params[nm]['attractor']:.6g} is at the optimiser's bound")
    return LatentFit(tuple(table.models), params, se, bool(share >= 0.5) if not math.isnan(share) else True,
                     float(share), log_lik, Q, m, unfit, nodes, diags)



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
    c, w, a = counts(table.codes)
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

