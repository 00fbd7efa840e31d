"""Pilot prediction vs held-out exact evaluation on the bundled jhu-llm-temperature logs.

For each temperature: fit on the first m logged samples per question (the
pilot), predict SC (every model), MUX (both scores), vote, union and
contradiction for k = 1..K-m and every subset of 2 and 3 models; compare with
the exact evaluation of the held-out samples m+1..K of the same questions
(never the pilot).  The standard error of each observed value is that of the
sampling of the held-out answers: a within-question bootstrap (resample each
model's K-m held-out answers with replacement, ``--boot`` replicates) on a
every question where the held-out answers vary.

Models are in tie-break order by pilot accuracy (the pilot is the validation
split), the same order for prediction and observation.  The paper's binomial
approximation fed with the pilot's per-sample accuracies is scored on the
methods it approximates: SC (A(k, p_i)), MUX both scores (A(k, p_max)) and
vote (A(k, mean p)).

Usage: python bench/calibration.py [--temps 0.7,0.3,1.0] [--m 3] [--boot 10]
The last line is
``pilot-prediction MAE: <x> points; within 2 SE: <y>%; paper MAE: <z> points``
for the first temperature (T = 0.7 by default).
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from muxsim import paper  # noqa: E402
from muxsim.calibrate import evaluate_fit, fit_latent, fit_shrinkage  # noqa: E402
from muxsim.logs.evaluate import AnswerTable, answer_table, per_question_values  # noqa: E402
from muxsim.logs.importers import read_jhu_dir  # noqa: E402

JHU = ROOT / "real_runs" / "logs" / "jhu-llm-temperature"
MULTI = ["mux", "mux_valid", "vote", "union", "contradiction"]
PAPER_METHODS = {"sc", "mux", "mux_valid", "vote"}


def observed(held: AnswerTable, subsets, ks, rng, boot: int):
    """{(subset, method): (values over ks, se over ks)}; subset (model,) with method 'sc' for single models.

    SE: within-question bootstrap of the held-out answers (each model's K-m
    answers resampled with replacement, ``boot`` replicates, one set of
    replicates shared by all subsets); SE^2 = sum over questions of the
    bootstrap variance of the question's exact value / Q^2.  Questions where
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
                se = np.sqrt(var_q.sum(axis=1)) / Q
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


def predict(fit, subsets, ks, models):
    pred = {}
    for mdl in models:
        c = evaluate_fit(fit, ks, models=[mdl], methods=[f"sc[{mdl}]"], with_paper=False)
        pred[((mdl,), "sc")] = c.values[f"sc[{mdl}]"]
    for sub in subsets:
        c = evaluate_fit(fit, ks, models=list(sub), methods=MULTI, with_paper=False)
        for m in MULTI:
            pred[(sub, m)] = c.values[m]
    return pred


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


def score(obs, pred, keys=None):
    keys = [k for k in obs if k in pred] if keys is None else keys
    err = np.concatenate([np.abs(pred[k] - obs[k][0]) for k in keys])
    se = np.concatenate([obs[k][1] for k in keys])
    return 100 * float(err.mean()), 100 * float(np.mean(err <= 2 * se)), len(err)


def breakdown(obs, pred, ks, label):
    lines = [f"  {label}: MAE in points by method (rows) and k (columns); 'within' = share within 2 SE"]
    lines.append("  " + f"{'method':<15}" + "".join(f"{'k=' + str(k):>7}" for k in ks) + f"{'all':>8}{'within':>8}")
    for m in ["sc"] + MULTI:
        keys = [k for k in obs if k[1] == m and k in pred]
        if not keys:
            continue
        E = np.stack([np.abs(pred[k] - obs[k][0]) for k in keys])
        S = np.stack([obs[k][1] for k in keys])
        lines.append("  " + f"{m:<15}" + "".join(f"{100 * e:>7.2f}" for e in E.mean(axis=0))
                     + f"{100 * E.mean():>8.2f}{100 * np.mean(E <= 2 * S):>7.0f}%")
    bias = {m: 100 * float(np.mean([np.mean(pred[k] - obs[k][0]) for k in obs if k[1] == m and k in pred]))
            for m in ["sc"] + MULTI if any(k[1] == m and k in pred for k in obs)}
    ses = np.concatenate([obs[k][1] for k in obs if k in pred])
    lines.append(f"  observed SE (points): median {100 * np.median(ses):.2f}, 90% quantile {100 * np.quantile(ses, 0.9):.2f}")
    lines.append("  mean signed error (pred - obs, points): " + ", ".join(f"{m} {b:+.2f}" for m, b in bias.items()))
    return "\n".join(lines)


def run(temp: float, m: int, boot: int, seed: int, sizes=(2, 3), latent=True, nodes=16, max_labels=2,
        cross_model=True, cache=None):
    t0 = time.time()
    tab = answer_table(read_jhu_dir(JHU, temp))
    pilot_all = tab.select(samples=slice(0, m))
    acc = pilot_all.accuracy()
    order = [tab.models[i] for i in np.argsort(-acc, kind="stable")]
    tab = tab.select(order)
    pilot, held = tab.select(samples=slice(0, m)), tab.select(samples=slice(m, tab.K))
    ks = list(range(1, held.K + 1))
    subsets = [s for r in sizes for s in itertools.combinations(order, r)]  # combinations keep tie-break order
    rng = np.random.default_rng(seed)
    key = f"T{temp}-m{m}-b{boot}-s{seed}-{'-'.join(map(str, sizes))}"
    if cache is not None and key in cache:
        obs = cache[key]
    else:
        obs = observed(held, subsets, ks, rng, boot)
        if cache is not None:
            cache[key] = obs
    t_obs = time.time() - t0
    sf = fit_shrinkage(pilot, nodes=nodes, max_labels=max_labels, cross_model=cross_model)
    p_shr = predict(sf, subsets, ks, order)
    t_shr = time.time() - t0 - t_obs
    pilot_acc = dict(zip(order, pilot.accuracy().tolist()))
    p_pap = predict_paper(pilot_acc, subsets, ks, order)
    p_floor = pilot_itself(pilot, subsets, order, m)
    obs_m = {k: (v[0][:m], v[1][:m]) for k, v in obs.items()}
    p_shr_m = {k: v[:m] for k, v in p_shr.items()}
    res = {"T": temp, "shrinkage": score(obs, p_shr), "paper": score(obs, p_pap),
           f"shrinkage_k<={m}": score(obs_m, p_shr_m), f"pilot_itself_k<={m}": score(obs_m, p_floor)}
    paper_keys = [k for k in obs if k[1] in PAPER_METHODS]
    res["shrinkage_on_paper_methods"] = score(obs, p_shr, paper_keys)
    text = [f"T = {temp}: {len(order)} models, Q = {tab.n_questions}, pilot m = {m}, held-out K-m = {held.K}, "
            f"{len(subsets)} subsets, {boot} bootstrap replicates "
            f"(observed {t_obs:.0f} s, shrinkage prediction {t_shr:.0f} s)"]
    text.append(f"  shrinkage fit: " + sf.table().splitlines()[-1])
    text.append(breakdown(obs, p_shr, ks, "empirical-Bayes shrinkage"))
    text.append(breakdown(obs, p_pap, ks, "paper binomial approximation (sc, mux, vote only)"))
    if latent:
        t1 = time.time()
        lf = fit_latent(pilot)
        p_lat = predict(lf, subsets, ks, order)
        res["latent"] = score(obs, p_lat)
        text.append(breakdown(obs, p_lat, ks, f"parametric LatentDifficulty ({time.time() - t1:.0f} s)"))
    text.append("  summary (MAE points, within 2 SE %, n): " + "; ".join(
        f"{k} {v[0]:.2f}, {v[1]:.0f}%, {v[2]}" for k, v in res.items() if k != "T"))
    return res, "\n".join(text)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--temps", default="0.7,0.3,1.0", help="temperatures; the first one gives the last line")
    ap.add_argument("--m", type=int, default=3)
    ap.add_argument("--boot", type=int, default=4, help="bootstrap replicates for the observed SEs")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--pairs-only-after-first", action="store_true", default=True)
    ap.add_argument("--no-latent", action="store_true")
    ap.add_argument("--sizes", default="2,3", help="subset sizes at the first temperature (later ones: pairs)")
    ap.add_argument("--json", help="write the scores to this file")
    ap.add_argument("--cache", default=str(ROOT / "out" / "calibration_observed.pkl"),
                    help="pickle of the observed (held-out) values and SEs, reused when present ('' to disable)")
    a = ap.parse_args(argv)
    temps = [float(t) for t in a.temps.split(",")]
    results = []
    cache = {}
    if a.cache and Path(a.cache).exists():
        import pickle

        cache = pickle.loads(Path(a.cache).read_bytes())
    for j, t in enumerate(temps):
        first = tuple(int(x) for x in a.sizes.split(","))
        sizes = first if j == 0 or not a.pairs_only_after_first else (2,)
        res, text = run(t, a.m, a.boot, a.seed, sizes, latent=not a.no_latent, cache=cache)
        if a.cache:
            import pickle

            Path(a.cache).parent.mkdir(parents=True, exist_ok=True)
            Path(a.cache).write_bytes(pickle.dumps(cache))
        print(text, flush=True)
        results.append(res)
    if a.json:
        Path(a.json).write_text(json.dumps(results, indent=1))
    first = results[0]
    x, y, _ = first["shrinkage"]
    z = first["paper"][0]
    print(f"pilot-prediction MAE: {x:.2f} points; within 2 SE: {y:.1f}%; paper MAE: {z:.2f} points")


if __name__ == "__main__":
    main()
