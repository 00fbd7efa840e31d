"""Speed of ``muxsim search`` on synthetic pools, and which objective picks subsets that do best held out.

Part 1 (speed).  Synthetic pools (not real logs): n models x 500 questions x K = 10
samples; model i answers question q correctly with probability
sigmoid(theta_i - d_q), else one of the question's three shared wrong answers
(attractor weights differ by model) or no answer.  Every subset of sizes 2-5 is
scored by the ``reference`` (bit sets) and ``exact`` (k = 3 of 10, chunked products)
objectives; for the 40-model pool sizes 6-8 go through branch and bound.  Lines
``search: <n> subsets in <t> s``.  For scale, the plain Python loop over subsets
and questions (the public reference code's structure) is timed on a sample of
subsets and extrapolated.

Part 2 (pilot -> held out).  On the bundled jhu-llm-temperature logs (9 models x
100 questions x 10 samples, T = 0.7): the questions are split at random into a
pilot half and a held-out half (``SPLITS`` splits).  Each objective picks the best
subset of each size on the pilot; the pick is scored by its exact SLM-MUX (per_k)
accuracy at k = 3 on the held-out half (tie-break order by pilot accuracy).
Objectives: ``reference`` (robust 2, lambda 1, all samples), ``exact`` (k = 3, r = 1,
lambda 1, per question), ``mux@pilot`` (the pilot's exact MUX accuracy at k = 3
itself), and on the first ``PRED_SPLITS`` splits ``predicted`` (MUX at k = 3 predicted by
a latent-difficulty fit of the pilot).  Reported: mean held-out accuracy of the pick, its regret against the best
held-out subset of that size, and the mean over all subsets (a random pick).
The same on the testbed example (real_runs/testbed/example/samples.jsonl.gz:
4 tiny models x 200 questions x 10 samples, seed 0), sizes 2-4.

Then the ``predicted`` objective (MUX and the vote) on fits (latent, classes, shrinkage and their mixture)
of a 3-sample pilot of the 20-model pool, and the screen of the shrinkage fit against scoring every subset
with the fit (``screen=None``) on the jhu logs: ``--fitted-only`` runs these parts alone, ``--speed-only`` the
synthetic pools' lines before them, ``--held-out-only`` part 2.

Timings are wall-clock on a shared machine and noisy.
"""

from __future__ import annotations

import glob
import itertools
import math
import time

import numpy as np

from muxsim import search as S
from muxsim.exact.engine import Engine
from muxsim.logs.evaluate import AnswerTable

K = 10
SIZES = [2, 3, 4, 5]
SPLITS = 20
PRED_SPLITS = 5  # the latent fit of each pilot takes about a minute here: predicted on the first 5 splits only
KSEL = 3


def synthetic_table(n_models: int, n_questions: int = 500, seed: int = 0) -> AnswerTable:
    rng = np.random.default_rng(seed)
    theta = rng.normal(0.5, 1.0, n_models)
    d = rng.normal(0.0, 1.5, n_questions)
    pc = 1 / (1 + np.exp(-(theta[None, :] - d[:, None])))  # (Q, n)
    pab = 0.05 * rng.random(n_models)
    att = rng.dirichlet(np.ones(3) * 0.7, size=(n_questions, n_models))  # wrong-answer weights
    u = rng.random((n_questions, n_models, K))
    codes = np.where(u < pc[:, :, None], 0, -1)
    wrong = (u >= pc[:, :, None]) & (u < pc[:, :, None] + (1 - pc[:, :, None]) * (1 - pab[None, :, None]))
    cum = np.cumsum(att, axis=2)
    v = rng.random((n_questions, n_models, K))
    lab = 1 + (v[..., None] > cum[:, :, None, :2]).sum(axis=3)
    codes = np.where(wrong, lab, codes).astype(np.int64)
    labels = tuple(("a", "b", "c") for _ in range(n_questions))
    return AnswerTable(tuple(f"q{q}" for q in range(n_questions)), tuple(f"model{i:02d}" for i in range(n_models)), codes, labels)


def python_loop_seconds(table: AnswerTable, sizes, sample: int = 300, robust: int = 2, lam: float = 1.0) -> float:
    """Seconds per subset of the plain loop (questions x models, as the reference code), timed on ``sample`` subsets."""
    ans = [[list(table.codes[q, i]) for q in range(table.n_questions)] for i in range(len(table.models))]
    rng = np.random.default_rng(0)
    combos = []
    for s in sizes:
        allc = list(itertools.combinations(range(len(table.models)), s))
        combos += [allc[j] for j in rng.choice(len(allc), size=min(sample // len(sizes), len(allc)), replace=False)]
    t0 = time.perf_counter()
    for combo in combos:
        uc = cc = 0
        for q in range(table.n_questions):
            anyc = anyw = False
            for i in combo:
                a = ans[i][q]
                nc = sum(1 for x in a if x == 0)
                if nc >= robust:
                    anyc = True
                if len(a) > 1 and len(set(a)) == 1 and nc == 0:
                    anyw = True
            if anyc:
                uc += 1
                if anyw:
                    cc += 1
        _ = uc / table.n_questions - lam * (cc / uc if uc else 0.0)
    return (time.perf_counter() - t0) / len(combos)


def speed() -> None:
    for n in (20, 40):
        tab = synthetic_table(n, seed=n)
        total = sum(math.comb(n, s) for s in SIZES)
        for name in ("reference", "exact"):
            t0 = time.perf_counter()
            st = S.reference_stats(tab, 2) if name == "reference" else S.exact_stats(tab, KSEL, 1)
            t1 = time.perf_counter()
            res = S.search(st, SIZES, lam=1.0, norm="union" if name == "reference" else "questions", top=5,
                           strategy="exhaustive")
            t2 = time.perf_counter()
            print(f"search: {total} subsets in {t2 - t1:.3f} s  ({n}-model synthetic pool, 500 questions, K={K}, "
                  f"objective {name}, sizes 2-5; per-model stats {t1 - t0:.3f} s)")
            if n == 20 and name == "reference":
                per = python_loop_seconds(tab, SIZES)
                print(f"  plain Python loop over subsets and questions: {per * total:.1f} s extrapolated "
                      f"({per * 1e3:.2f} ms/subset on 300 sampled subsets); ratio {per * total / (t2 - t1):.0f}x")
            if n == 40:
                best = {s.size: s.top[0] for s in res.sizes}
                t3 = time.perf_counter()
                bb = S.search(st, SIZES, lam=1.0, norm="union" if name == "reference" else "questions", top=5,
                              strategy="branch-and-bound")
                t4 = time.perf_counter()
                same = all(b.top[0].idx == best[b.size].idx for b in bb.sizes)
                scored = sum(b.scored for b in bb.sizes)
                print(f"  branch and bound, sizes 2-5: {t4 - t3:.3f} s, {scored} subset evaluations, all proven: "
                      f"{all(b.proven for b in bb.sizes)}, same best as exhaustive: {same}")
                big = [6, 7, 8]
                t5 = time.perf_counter()
                bb = S.search(st, big, lam=1.0, norm="union" if name == "reference" else "questions", top=1,
                              strategy="branch-and-bound", node_limit=200_000)
                t6 = time.perf_counter()
                for b in bb.sizes:
                    print(f"  size {b.size}: {b.n_subsets:,} subsets; branch and bound scored {b.scored:,}, "
                          f"optimum {'proven' if b.proven else 'not proven'}, objective {b.top[0].objective:.4f}")
                print(f"  sizes 6-8 in {t6 - t5:.2f} s")
    # predicted: a latent-difficulty population of 20 models (parametric: the cost does not depend on the questions)
    from muxsim.population import LatentDifficulty, ModelParams
    from muxsim.predicted import predicted_search

    rng = np.random.default_rng(20)
    pop = LatentDifficulty(tuple(ModelParams(f"model{i:02d}", a=float(rng.uniform(0.5, 3)), b=float(rng.uniform(0.5, 2)),
                                             abstain=0.05, attractor=float(rng.uniform(0.2, 0.8)),
                                             loading=float(rng.uniform(0.3, 0.8))) for i in range(20)))
    t0 = time.perf_counter()
    predicted_search(pop, SIZES, KSEL, method="mux", top=5)
    t1 = time.perf_counter()
    print(f"search: {sum(math.comb(20, s) for s in SIZES)} subsets in {t1 - t0:.3f} s  (20-model LatentDifficulty "
          f"population, objective predicted MUX at k={KSEL} with union and contradiction, sizes 2-5)")


def fitted_pilot() -> None:
    """The predicted objective (MUX, then the vote) on fits of a 3-sample pilot of the 20-model synthetic pool
    (500 questions): each fit family with ``auto``'s options for it (``AUTO_OPTIONS``), and their
    equal-weight mixture (what ``kind="auto"`` returns when it mixes)."""
    from muxsim.fit import MixtureFit, fit
    from muxsim.fit.auto import AUTO_OPTIONS
    from muxsim.predicted import predicted_search

    pilot = synthetic_table(20, seed=20).select(samples=slice(0, 3))
    total = sum(math.comb(20, s) for s in SIZES)
    fits, fit_s = {}, {}
    for kind in ("latent", "classes", "shrinkage"):
        t0 = time.perf_counter()
        fits[kind] = fit(pilot, kind, **AUTO_OPTIONS.get(kind, {}))
        fit_s[kind] = time.perf_counter() - t0
    fits["mixed"] = MixtureFit(tuple(fits.values()), np.full(3, 1 / 3))
    for method in ("mux", "vote"):
        for kind, f in fits.items():
            t1 = time.perf_counter()
            res = predicted_search(f, SIZES, KSEL, method=method, top=5, intervals="none")
            t2 = time.perf_counter()
            how = res.sizes[-1].strategy
            opts = "".join(f", {k}={v}" for k, v in AUTO_OPTIONS.get(kind, {}).items())
            what = (f"fit '{kind}'{opts} of a 3-sample pilot of the 20-model synthetic pool, 500 questions; "
                    f"fit {fit_s[kind]:.1f} s"
                    if kind in fit_s else "the three fits mixed 1/3 each, as kind='auto' may return")
            print(f"search: {total} subsets in {t2 - t1:.3f} s  (predicted {method} at k={KSEL} with union and "
                  f"contradiction, sizes 2-5; {what}; size 5: {how})", flush=True)


def screen_check() -> None:
    """The screen against scoring every subset with the fit itself (``screen=None``): the shrinkage fit of a
    3-sample pilot of the bundled jhu logs (T = 0.7, 9 models x 100 questions), sizes 2-4, k = 3, MUX and the vote;
    the pool form's rank of each size's true best subset, and the times."""
    from muxsim.calibrate_cli import read_logs
    from muxsim.fit import fit
    from muxsim.logs.evaluate import answer_table
    from muxsim.predicted import predicted_search

    jhu = answer_table(read_logs(sorted(glob.glob("real_runs/logs/jhu-llm-temperature/*temp-0.7.csv.gz"))))
    f = fit(jhu.select(samples=slice(0, 3)), "shrinkage")
    sizes = [2, 3, 4]
    for method in ("mux", "vote"):
        t0 = time.perf_counter()
        scr = predicted_search(f, sizes, KSEL, method=method, top=1, intervals="none")
        t1 = time.perf_counter()
        full = predicted_search(f, sizes, KSEL, method=method, top=1, intervals="none", screen=None)
        t2 = time.perf_counter()
        pool = predicted_search(f.pool_form(), sizes, KSEL, method="mux", top=200, intervals="none")
        ranks = []
        for a, b, p in zip(scr.sizes, full.sizes, pool.sizes):
            best = tuple(sorted(full.models[i] for i in b.top[0].idx))
            order = [tuple(sorted(pool.models[i] for i in r.idx)) for r in p.top]
            ranks.append(f"size {b.size}: {'same' if a.top[0].idx == b.top[0].idx else 'DIFFERENT'} best "
                         f"(its rank by the screen {order.index(best) + 1} of {b.n_subsets})")
        print(f"screen (shrinkage fit of a 3-sample jhu T=0.7 pilot, predicted {method} at k={KSEL}, sizes 2-4, "
              f"{sum(b.n_subsets for b in full.sizes)} subsets): screened {t1 - t0:.1f} s, every subset {t2 - t1:.1f} s; "
              + "; ".join(ranks), flush=True)


# ---------------------------------------------------------------------------------------------------------------


def _mux_all(table: AnswerTable, order_acc: np.ndarray, k: int, sizes) -> dict[tuple[int, ...], float]:
    """Exact MUX (per_k) accuracy at k of every subset of ``sizes`` on this table; tie-break by order_acc (desc)."""
    eng = Engine(table.empirical().layout()[0], k)
    out = {}
    for s in sizes:
        for combo in itertools.combinations(range(len(table.models)), s):
            ordered = sorted(combo, key=lambda i: (-order_acc[i], i))
            out[combo] = float(eng.mux(ordered, [k] * s, "per_k")[0].mean())
    return out


def held_out(tab: AnswerTable, label: str, sizes: list[int], splits: int = SPLITS, pred_splits: int = PRED_SPLITS) -> None:
    """Pilot -> held out on one data set: each objective's pick on a random half, scored on the other half."""
    Q = tab.n_questions
    rng = np.random.default_rng(0)
    from muxsim import fitted
    from muxsim.predicted import predicted_search

    names = ("reference", "exact", "mux@pilot", "predicted")
    got = {(o, s): [] for o in names + ("oracle", "random") for s in sizes}
    t0 = time.perf_counter()
    for split in range(splits):
        perm = rng.permutation(Q)
        pilot, held = tab.select(questions=np.sort(perm[: Q // 2])), tab.select(questions=np.sort(perm[Q // 2:]))
        acc = pilot.accuracy()
        held_mux = _mux_all(held, acc, KSEL, sizes)
        pilot_mux = _mux_all(pilot, acc, KSEL, sizes)
        picks = {
            "reference": S.search(S.reference_stats(pilot, 2), sizes, lam=1.0, norm="union", top=1),
            "exact": S.search(S.exact_stats(pilot, KSEL, 1), sizes, lam=1.0, norm="questions", top=1),
        }
        if split < pred_splits:
            pr = predicted_search(fitted.population_of_fit(fitted.fit_logs(pilot)), sizes, KSEL, top=1, intervals="none")
            for s in sizes:  # back to pool indices
                ms = [pr.models[i] for i in pr.sizes[sizes.index(s)].top[0].idx]
                got["predicted", s].append(tuple(sorted(pilot.models.index(m) for m in ms)))
        for s in sizes:
            combos = [c for c in held_mux if len(c) == s]
            for o in ("reference", "exact"):
                got[o, s].append(held_mux[picks[o].sizes[sizes.index(s)].top[0].idx])
            best_pilot = max(combos, key=lambda c: (pilot_mux[c], -combos.index(c)))
            got["mux@pilot", s].append(held_mux[best_pilot])
            got["oracle", s].append(max(held_mux[c] for c in combos))
            got["random", s].append(float(np.mean([held_mux[c] for c in combos])))
            if split < pred_splits:
                got["predicted", s][-1] = held_mux[got["predicted", s][-1]]
    t1 = time.perf_counter()
    print(f"\npilot -> held out: {label}, {len(tab.models)} models, {splits} random 50/50 question splits; "
          f"held-out exact MUX (per_k) accuracy at k={KSEL} of each objective's pick (mean over splits; "
          f"regret = best held-out subset of the size minus the pick, points) [{t1 - t0:.1f} s]")
    for n_splits, objs in ((splits, names[:3]), (pred_splits, names)):
        print(f"{n_splits} splits:")
        print(f"{'size':>4}  " + "  ".join(f"{o:>22}" for o in objs) + f"  {'best (oracle)':>13}  {'random':>7}")
        for s in sizes:
            orc = np.array(got["oracle", s][:n_splits])
            cells = [f"{100 * np.mean(got[o, s][:n_splits]):6.2f} (regret {100 * np.mean(orc - np.array(got[o, s][:n_splits])):4.2f})"
                     for o in objs]
            print(f"{s:>4}  " + "  ".join(f"{c:>22}" for c in cells)
                  + f"  {100 * orc.mean():13.2f}  {100 * np.mean(got['random', s][:n_splits]):7.2f}")
        mean_regret = {o: float(np.mean([np.mean(np.array(got['oracle', s][:n_splits]) - np.array(got[o, s][:n_splits]))
                                         for s in sizes])) for o in objs}
        print("mean regret over sizes (points): " + ", ".join(f"{o} {100 * v:.2f}" for o, v in mean_regret.items()))


def held_out_all() -> None:
    from muxsim.calibrate_cli import read_logs
    from muxsim.logs.evaluate import answer_table

    jhu = answer_table(read_logs(sorted(glob.glob("real_runs/logs/jhu-llm-temperature/*temp-0.7.csv.gz"))))
    held_out(jhu, "jhu-llm-temperature T=0.7", SIZES)
    testbed = answer_table(read_logs(["real_runs/testbed/example/samples.jsonl.gz"]))
    held_out(testbed, "testbed example (4 tiny models x 200 questions x 10 samples, seed 0)", [2, 3, 4])


if __name__ == "__main__":
    import sys

    parts = {"--speed-only": (speed,), "--fitted-only": (fitted_pilot, screen_check), "--held-out-only": (held_out_all,)}
    only = [a for a in sys.argv[1:] if a in parts]
    for flag, fns in parts.items():
        if not only or flag in only:
            for fn in fns:
                fn()
