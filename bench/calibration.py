"""Pilot prediction vs held-out exact evaluation on every bundled data set, every predictor.

Data sets (``--data``): the jhu-llm-temperature logs at each bundled temperature
(``jhu:0.7``, ``jhu:0.3``, ``jhu:1.0``; 9 models x 100 questions x 10 samples) and
the testbed example (``testbed``: 4 tiny models x 200 questions x 10 samples,
sampling seed 0, ``real_runs/testbed/example/samples.jsonl.gz``).

For each data set: fit every predictor (``--kinds``, :func:`muxsim.fit.fit`:
``auto``, ``latent``, ``classes``, ``shrinkage``) on the first m logged samples
per question (the pilot), predict SC (every model), MUX (both scores), vote,
union and contradiction for k = 1..K-m and every subset of 2 and 3 models, with
90% predictive intervals (``Fit.predict``, ``--draws`` draws); compare with the
exact evaluation of the held-out samples m+1..K of the same questions (never
the pilot).  The standard error of each observed value is that of the sampling
of the held-out answers: a within-question bootstrap (``--boot`` replicates).

Per predictor and data set: the MAE over every (subset, method, k); the MAE at
k <= m beside the pilot-noise floor (the pilot's own exact values at k <= m
against the held-out ones: no model at all, only the pilot's sampling noise);
and the coverage of the 90% intervals, each widened by the held-out value's own
sampling error (1.645 SE, in quadrature) since the held-out value is itself an
estimate: ``Fit.predict`` bounds the accuracy of the questions under their
laws (the pilot's uncertainty: parameters and each question's posterior), and
the held-out value adds its own sampling noise, so the widened interval is a
predictive interval for the value observed with K-m samples (like with like).
Beside it, the coverage floor: the pilot's own exact values at k <= m with
sampling-only 90% intervals (pilot and held-out bootstrap SEs in quadrature),
i.e. what an interval that knows only the sampling noise covers on this data.  The paper's binomial approximation fed with the pilot's per-sample
accuracies is scored on the methods it approximates (SC, MUX, vote).

Also per data set: the pilot's own values scored like a predictor at k <= m (MAE and mean signed
error by method: the part of a predictor's error that the pilot's sampling alone gives, e.g. a
contradiction the pilot under-counts), and per predictor the extrapolation signed error: the change
of the error from k = m to each k > m, pred(k) - pred(m) - (obs(k) - obs(m)), the bias of the
predicted growth with k net of the error already present at k = m.  And the exchangeability check
(:func:`muxsim.logs.exchangeable.position_check` on all K samples): whether the accuracies of the
sample positions vary more than draws of one law per question would, the one assumption of every fit
that a pilot cannot repair.

Models are in tie-break order by pilot accuracy (the pilot is the validation
split), the same order for prediction and observation.

Usage: python bench/calibration.py [--data jhu:0.7,jhu:0.3,jhu:1.0,testbed] [--sizes 2,3] [--m 3] [--boot 4]
       [--kinds auto,latent,classes,shrinkage]  (a kind may carry fit options: shrinkage:locked=1:cross_model=0,
       auto:classes.locked=1)
(``--sizes`` for the first data set; the others: pairs, and for the testbed's 4 models also triples.)
The last line is
``pilot-prediction MAE: <x> points (floor <f>); 90% interval coverage: <c>%; paper MAE: <z> points``
for the first data set and the first predictor (jhu T = 0.7 and auto by default).
"""

from __future__ import annotations

import argparse
import inspect
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from muxsim import paper  # noqa: E402
from muxsim.fit import KINDS_BY_NAME, fit  # noqa: E402
from muxsim.logs.evaluate import AnswerTable, answer_table, per_question_values  # noqa: E402
from muxsim.logs.exchangeable import position_check  # noqa: E402
from muxsim.calibrate_cli import read_logs  # noqa: E402
from muxsim.logs.importers import read_jhu_dir  # noqa: E402

JHU = ROOT / "real_runs" / "logs" / "jhu-llm-temperature"
TESTBED = ROOT / "real_runs" / "testbed" / "example" / "samples.jsonl.gz"


def load(name: str) -> AnswerTable:
    """``jhu:<T>`` or ``testbed`` (see module notes)."""
    if name == "testbed":
        return answer_table(read_logs([str(TESTBED)]))
    if name.startswith("jhu:"):
        return answer_table(read_jhu_dir(JHU, float(name[4:])))
    raise SystemExit(f"--data: unknown data set {name!r} (jhu:<T> or testbed)")
MULTI = ["mux", "mux_valid", "vote", "union", "contradiction"]
PAPER_METHODS = {"sc", "mux", "mux_valid", "vote"}


def observed(held: AnswerTable, subsets, ks, rng, boot: int):
    """{(subset, method): (values over ks, se over ks)}; subset (model,) with method 'sc' for single models.

    SE: within-question bootstrap of the held-out answers (each model's K-m
    answers resampled with replacement, ``boot`` replicates, one set of
    replicates shared by all subsets); SE^2 = sum over questions of the
    bootstrap variance of the question's exact value / Q^2, times K/(K - 1)
    (resampling K answers from K shrinks the variance of a mean by (K - 1)/K;
    the factor is exact for k = 1 and the usual correction otherwise).  Questions where
    every model of the subset logged K-m identical answers have bootstrap
    variance exactly 0 and are skipped.
    """
    Q = held.n_questions
    reps = []
    for _ in range(boot):
        j = rng.integers(0, held.K, size=held.codes.shape)
        reps.append(AnswerTable(held.question_ids, held.models, np.take_along_axis(held.codes, j, axis=2), held.labels))
    const = np.all(held.codes == held.codes[:, :, :1], axis=2)  # (Q, n)

    def one(models, meths):
        pq = per_question_values(held, models, ks, meths)
        idx = [held.models.index(x) for x in models]
        vary = np.flatnonzero(~const[:, idx].all(axis=1))
        out = {}
        if len(vary) and boot > 1:
            bs = [per_question_values(rp.select(questions=vary), models, ks, meths) for rp in reps]
        for m in meths:
            if len(vary) and boot > 1:
                var_q = np.var(np.stack([b[m] for b in bs]), axis=0, ddof=1)
                se = np.sqrt(var_q.sum(axis=1) * held.K / max(held.K - 1, 1)) / Q
            else:
                se = np.zeros(len(ks))
            out[m] = (pq[m].mean(axis=1), se)
        return out

    obs = {}
    for mdl in held.models:
        obs[((mdl,), "sc")] = one([mdl], [f"sc[{mdl}]"])[f"sc[{mdl}]"]
    for sub in subsets:
        for m, v in one(list(sub), MULTI).items():
            obs[(sub, m)] = v
    return obs


def predict(fit, subsets, ks, models, *, level=0.9, draws=20):
    """{(subset, method): (values, lower, upper)} through ``Fit.predict`` (intervals at ``level``)."""
    pred = {}
    lv = level if draws >= 2 else None
    for mdl in models:
        c = fit.predict(ks, models=[mdl], methods=[f"sc[{mdl}]"], with_paper=False, level=lv, draws=draws)
        pred[((mdl,), "sc")] = _triple(c, f"sc[{mdl}]")
    for sub in subsets:
        c = fit.predict(ks, models=list(sub), methods=MULTI, with_paper=False, level=lv, draws=draws)
        for m in MULTI:
            pred[(sub, m)] = _triple(c, m)
    return pred


def _triple(c, m):
    v = np.asarray(c.values[m], dtype=float)
    if c.level is None:
        return v, np.full(len(v), np.nan), np.full(len(v), np.nan)
    return v, np.asarray(c.lower[m], dtype=float), np.asarray(c.upper[m], dtype=float)


def predict_paper(pilot_acc: dict, subsets, ks, models):
    pred = {}
    for mdl in models:
        pred[((mdl,), "sc")] = np.array([paper.binomial_majority(int(k), pilot_acc[mdl]) for k in ks])
    for sub in subsets:
        ps = [pilot_acc[x] for x in sub]
        mx = np.array([paper.mux_approx(ps, int(k)) for k in ks])
        pred[(sub, "mux")] = mx
        pred[(sub, "mux_valid")] = mx
        pred[(sub, "vote")] = np.array([paper.agent_forest_approx(ps, int(k)) for k in ks])
    return pred


def pilot_itself(pilot: AnswerTable, subsets, models, m: int):
    """The exact evaluation of the pilot's own m samples for k <= m: no model at all, only sampling noise.

    Its error against the held-out evaluation is the floor that any prediction
    from an m-sample pilot faces at those k."""
    ks = list(range(1, m + 1))
    pred = {}
    for mdl in models:
        pred[((mdl,), "sc")] = per_question_values(pilot, [mdl], ks, [f"sc[{mdl}]"])[f"sc[{mdl}]"].mean(axis=1)
    for sub in subsets:
        for meth, v in per_question_values(pilot, list(sub), ks, MULTI).items():
            pred[(sub, meth)] = v.mean(axis=1)
    return pred


def _v(p):
    return p[0] if isinstance(p, tuple) else p


def score(obs, pred, keys=None, z=1.6449):
    """(MAE points, % within 2 observed SE, n, % inside the widened 90% interval or NaN).

    Coverage: the held-out value is itself a noisy estimate (SE from the
    bootstrap), so the interval is widened in quadrature on each side:
    ``v - sqrt((v - lo)^2 + (z se)^2)`` to ``v + sqrt((hi - v)^2 + (z se)^2)``, z = 1.645."""
    keys = [k for k in obs if k in pred] if keys is None else keys
    err = np.concatenate([np.abs(_v(pred[k]) - obs[k][0]) for k in keys])
    se = np.concatenate([obs[k][1] for k in keys])
    return 100 * float(err.mean()), 100 * float(np.mean(err <= 2 * se)), len(err), coverage(obs, pred, keys, z)


def coverage(obs, pred, keys, z=1.6449) -> float:
    """% of held-out values inside their predicted interval widened by the value's own sampling error (NaN
    without intervals); see :func:`score`."""
    if not all(isinstance(pred[k], tuple) and np.all(np.isfinite(pred[k][1])) for k in keys):
        return float("nan")
    ins = []
    for k in keys:
        v, lo, hi = pred[k]
        s = obs[k][1]
        lo2 = v - np.sqrt((v - lo) ** 2 + (z * s) ** 2)
        hi2 = v + np.sqrt((hi - v) ** 2 + (z * s) ** 2)
        ins.append((obs[k][0] >= lo2) & (obs[k][0] <= hi2))
    return 100 * float(np.mean(np.concatenate(ins)))


def breakdown(obs, pred, ks, label, m_pilot: int | None = None):
    ivs = all(isinstance(v, tuple) for v in pred.values())
    lines = [f"  {label}: MAE in points by method (rows) and k (columns); 'within' = share within 2 SE"
             + ("; 'cover' = coverage of the 90% intervals" if ivs else "")]
    lines.append("  " + f"{'method':<15}" + "".join(f"{'k=' + str(k):>7}" for k in ks) + f"{'all':>8}{'within':>8}"
                 + (f"{'cover':>8}" if ivs else ""))
    for m in ["sc"] + MULTI:
        keys = [k for k in obs if k[1] == m and k in pred]
        if not keys:
            continue
        E = np.stack([np.abs(_v(pred[k]) - obs[k][0]) for k in keys])
        S = np.stack([obs[k][1] for k in keys])
        lines.append("  " + f"{m:<15}" + "".join(f"{100 * e:>7.2f}" for e in E.mean(axis=0))
                     + f"{100 * E.mean():>8.2f}{100 * np.mean(E <= 2 * S):>7.0f}%"
                     + (f"{coverage(obs, pred, keys):>7.0f}%" if ivs else ""))
    meths = [m for m in ["sc"] + MULTI if any(k[1] == m and k in pred for k in obs)]
    bias = {m: 100 * float(np.mean([np.mean(_v(pred[k]) - obs[k][0]) for k in obs if k[1] == m and k in pred]))
            for m in meths}
    ses = np.concatenate([obs[k][1] for k in obs if k in pred])
    lines.append(f"  observed SE (points): median {100 * np.median(ses):.2f}, 90% quantile {100 * np.quantile(ses, 0.9):.2f}")
    lines.append("  mean signed error (pred - obs, points): " + ", ".join(f"{m} {b:+.2f}" for m, b in bias.items()))
    if m_pilot is not None and len(ks) > m_pilot:  # the error's change from k = m on: the extrapolation alone
        grow = {m: 100 * float(np.mean([np.mean((_v(pred[k])[m_pilot:] - _v(pred[k])[m_pilot - 1])
                                                - (obs[k][0][m_pilot:] - obs[k][0][m_pilot - 1]))
                                        for k in obs if k[1] == m and k in pred])) for m in meths}
        lines.append(f"  extrapolation signed error (change from k = {m_pilot}: pred(k) - pred({m_pilot}) - "
                     f"(obs(k) - obs({m_pilot})), k > {m_pilot}, points): "
                     + ", ".join(f"{m} {b:+.2f}" for m, b in grow.items()))
    return "\n".join(lines)


def kind_options(spec: str) -> tuple[str, dict]:
    """``kind[:option=value...]``, e.g. ``shrinkage:locked=1:cross_model=0`` -> ("shrinkage", {"locked": True,
    "cross_model": False}); for ``auto`` an option ``family.option=value`` goes to that family (e.g.
    ``auto:classes.locked=1``), a bare one to its shrinkage family.  A value is read by the type of the
    option's default in the family's fitting function: 0/1 for a boolean option, else an integer or a float
    (``classes:n_classes=1`` is one class)."""
    kind, *opts = spec.split(":")
    out = {}
    for o in opts:
        key, _, val = o.partition("=")
        family, _, opt = key.rpartition(".") if kind == "auto" else (kind, "", key)
        family = family or "shrinkage"
        params = inspect.signature(KINDS_BY_NAME[family]).parameters if family in KINDS_BY_NAME else {}
        if opt not in params:
            raise SystemExit(f"--kinds {spec}: {family!r} is not a family with an option {opt!r}")
        default = params[opt].default
        out[key] = (bool(int(val)) if isinstance(default, bool)
                    else float(val) if isinstance(default, float) or any(c in val for c in ".eE") else int(val))
    return kind, out


def run(name: str, m: int, boot: int, seed: int, sizes=(2, 3), kinds=("auto", "latent", "classes", "shrinkage"),
        draws: int = 20, max_labels: int | None = None, cache=None):
    """One data set: every predictor's MAE (all k, and k <= m beside the pilot-noise floor) and coverage."""
    t0 = time.time()
    tab = load(name)
    pilot_all = tab.select(samples=slice(0, m))
    acc = pilot_all.accuracy()
    order = [tab.models[i] for i in np.argsort(-acc, kind="stable")]
    tab = tab.select(order)
    pilot, held = tab.select(samples=slice(0, m)), tab.select(samples=slice(m, tab.K))
    ks = list(range(1, held.K + 1))
    subsets = [s for r in sizes for s in itertools.combinations(order, r)]  # combinations keep tie-break order
    rng = np.random.default_rng(seed)
    key = f"v3-{name}-m{m}-b{boot}-s{seed}-{'-'.join(map(str, sizes))}"
    if cache is not None and key in cache:
        obs = cache[key]
    else:
        obs = observed(held, subsets, ks, rng, boot)
        if cache is not None:
            cache[key] = obs
    t_obs = time.time() - t0
    obs_m = {k: (v[0][:m], v[1][:m]) for k, v in obs.items()}
    p_floor = pilot_itself(pilot, subsets, order, m)
    # with intervals from the sampling noise alone (pilot and held-out): the coverage floor
    obs_pilot = observed(pilot, subsets, list(range(1, m + 1)), np.random.default_rng([seed, 1]), boot)
    z = 1.6449
    p_floor_iv = {k: (v, v - z * obs_pilot[k][1], v + z * obs_pilot[k][1]) for k, v in p_floor.items()}
    floor, _, _, floor_cov = score(obs_m, p_floor_iv)
    pilot_acc = dict(zip(order, pilot.accuracy().tolist()))
    p_pap = predict_paper(pilot_acc, subsets, ks, order)
    paper_keys = [k for k in obs if k[1] in PAPER_METHODS]
    res = {"data": name, "floor_k<=m": floor, "floor_coverage_k<=m": floor_cov, "paper": score(obs, p_pap, paper_keys), "predictors": {}}
    text = [f"{name}: {len(order)} models, Q = {tab.n_questions}, pilot m = {m}, held-out K-m = {held.K}, "
            f"{len(subsets)} subsets, {boot} bootstrap replicates (observed {t_obs:.0f} s); "
            f"pilot-noise floor (the pilot's own exact values at k <= {m} against held-out): {floor:.2f} points; "
            f"their sampling-only 90% intervals (pilot SE and held-out SE in quadrature) cover {floor_cov:.0f}%"
            + (" (below 90%: the logged samples vary more than independent draws of one law per question would)"
               if floor_cov < 90 else "")]
    chk = position_check(tab)
    res["position_check"] = {"pooled": chk.pooled, "p_value": chk.p_value, "ratio": dict(zip(chk.models, chk.ratio.tolist()))}
    text.append(f"  exchangeability check on all {tab.K} samples (muxsim.logs.exchangeable): {chk.summary()}")
    text.append(breakdown(obs_m, p_floor_iv, ks[:m], f"the pilot's own values (k <= {m}; the floor; cover: of their sampling-only intervals)"))
    text.append(breakdown(obs, p_pap, ks, "paper binomial approximation (sc, mux, vote only)"))
    for kind in kinds:
        t1 = time.time()
        family, extra = kind_options(kind)
        shrink = {} if max_labels is None else {"max_labels": max_labels}
        if family == "auto":  # family.option=value goes to that family, a bare option to shrinkage
            fam = {"shrinkage": dict(shrink)}
            for key, val in extra.items():
                name, _, opt = key.rpartition(".")
                fam.setdefault(name or "shrinkage", {})[opt] = val
            opts = {"options": fam}
        else:
            opts = {**shrink, **extra} if family == "shrinkage" else extra
        f = fit(pilot, family, **opts)
        t_fit = time.time() - t1
        pred = predict(f, subsets, ks, order, draws=draws)
        t_pred = time.time() - t1 - t_fit
        pred_m = {k: tuple(x[:m] for x in v) for k, v in pred.items()}
        sc_all, sc_m = score(obs, pred), score(obs_m, pred_m)
        res["predictors"][kind] = {"all": sc_all, f"k<={m}": sc_m, "on_paper_methods": score(obs, pred, paper_keys),
                                   "diagnostics": list(f.diagnostics), "fit_s": t_fit, "predict_s": t_pred}
        chosen = getattr(f, "selection", None)
        label = kind + (" (" + ", ".join(f"{k} {w:.2f}" for k, w in chosen["weights"].items() if w > 0) + ")"
                        if chosen else "")
        text.append(f"  {label}: MAE {sc_all[0]:.2f} points (k <= {m}: {sc_m[0]:.2f}, floor {floor:.2f}); "
                    f"{100 * 0.9:.0f}% interval coverage {sc_all[3]:.0f}% (k <= {m}: {sc_m[3]:.0f}%, "
                    f"sampling-only floor {floor_cov:.0f}%); n = {sc_all[2]}; "
                    f"fit {t_fit:.0f} s, predict {t_pred:.0f} s; {len(f.diagnostics)} diagnostic(s)")
        for d in f.diagnostics:
            text.append(f"    ! {d}")
        text.append(breakdown(obs, pred, ks, kind, m_pilot=m))
    text.append("  summary (MAE points, k<=m MAE, floor, coverage %): " + "; ".join(
        f"{k} {v['all'][0]:.2f}, {v[f'k<={m}'][0]:.2f}, {floor:.2f}, {v['all'][3]:.0f}%"
        for k, v in res["predictors"].items()) + f"; paper {res['paper'][0]:.2f}")
    return res, "\n".join(text)


def _strict(x):
    """``x`` with every NaN float as None, so the file is strict JSON (null)."""
    if isinstance(x, float) and x != x:
        return None
    if isinstance(x, dict):
        return {k: _strict(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_strict(v) for v in x]
    return x


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data", default="jhu:0.7,jhu:0.3,jhu:1.0,testbed",
                    help="data sets (jhu:<T>, testbed); the first one gives the last line")
    ap.add_argument("--m", type=int, default=3)
    ap.add_argument("--boot", type=int, default=4, help="bootstrap replicates for the observed SEs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--kinds", default="auto,latent,classes,shrinkage",
                    help="predictors (muxsim.fit kinds, each with options as kind:option=value:...); the first one "
                         "gives the last line")
    ap.add_argument("--max-labels", type=int, default=None,
                    help="the shrinkage fit's named wrong answers per question (default: the fit's own, 3; "
                         "results saved before 2026-12-06 used 2)")
    ap.add_argument("--draws", type=int, default=20, help="draws for the 90%% predictive intervals (0: none)")
    ap.add_argument("--sizes", default="2,3", help="subset sizes of the first data set (later ones: see Usage)")
    ap.add_argument("--json", help="write the scores to this file")
    ap.add_argument("--cache", default=str(ROOT / "out" / "calibration_observed.pkl"),
                    help="pickle of the observed (held-out) values and SEs, reused when present ('' to disable)")
    a = ap.parse_args(argv)
    names = [x.strip() for x in a.data.split(",") if x.strip()]
    kinds = tuple(x.strip() for x in a.kinds.split(",") if x.strip())
    results = []
    cache = {}
    if a.cache and Path(a.cache).exists():
        import pickle

        cache = pickle.loads(Path(a.cache).read_bytes())
    for j, name in enumerate(names):
        sizes = tuple(int(x) for x in a.sizes.split(",")) if j == 0 else (2, 3) if name == "testbed" else (2,)
        res, text = run(name, a.m, a.boot, a.seed, sizes, kinds=kinds, draws=a.draws, max_labels=a.max_labels,
                        cache=cache)
        if a.cache:
            import pickle

            Path(a.cache).parent.mkdir(parents=True, exist_ok=True)
            Path(a.cache).write_bytes(pickle.dumps(cache))
        print(text, flush=True)
        results.append(res)
    if a.json:
        Path(a.json).write_text(json.dumps(_strict(results), indent=1, allow_nan=False))
    first = results[0]
    x, _, _, c = first["predictors"][kinds[0]]["all"]
    z = first["paper"][0]
    print(f"pilot-prediction MAE: {x:.2f} points (floor {first['floor_k<=m']:.2f}); 90% interval coverage: "
          f"{c:.0f}%; paper MAE: {z:.2f} points")


if __name__ == "__main__":
    main()
