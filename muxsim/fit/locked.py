"""Models locked on one wrong answer: the pilot's evidence, per question and model.

Model.  On each question, independently per model given the question, model i is *locked* with probability
``pi_i``: it never answers correctly and every valid draw is one and the same wrong answer (it abstains at
its pilot rate ``a_i``).  Otherwise it answers by a regular law: a Beta-binomial correct count, a binomial
abstention count and the latent classes' attractor pattern for the wrong draws (one class:
:func:`muxsim.fit.classes._component_ll`).  A question can be locked only where its pilot has no correct
draw and its valid draws are all one answer.

:func:`locked_posterior` fits ``pi_i`` and the regular law by EM on the pilot, model by model, and returns
each question's posterior probability of being locked, ``post[q, i] = pi_i L_lock / (pi_i L_lock + (1 -
pi_i) L_regular)``.  The real logs have such states: on the jhu logs at T = 0.7, of the (question, model)
cells whose 3 pilot draws were one wrong answer, 64% gave that answer in all 7 held-out draws; a per-question
Beta of the correct share with an attractor share below 1 lets the probability of k identical wrong draws
fall with k far faster (``bench/consistently_wrong.py``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import gammaln

from muxsim.fit.classes import _component_ll, _m_step, _pilot_counts

__all__ = ["LockedState", "locked_posterior"]


@dataclass(frozen=True)
class LockedState:
    """``share[i]`` = pi_i, ``post[q, i]`` = P(locked | pilot), ``abstain[i]`` = the pilot's abstention rate."""

    share: np.ndarray
    post: np.ndarray
    abstain: np.ndarray


def locked_posterior(codes: np.ndarray, iters: int = 60) -> LockedState:
    """Fit the locked state on pilot answer codes ``(Q, n, m)`` (module notes): EM per model, ``iters`` rounds
    (a fixed number: the result does not depend on a tolerance), pi_i started at 0.1."""
    d = _pilot_counts(codes)
    Q, n = d["c"].shape
    m = d["m"]
    compatible = (d["c"] == 0) & ((d["r"] <= 1) | (d["j"] == d["r"]))
    abstain = d["a"].sum(axis=0) / (Q * m)
    share, post = np.full(n, 0.1), np.zeros((Q, n))
    for i in range(n):
        di = {key: (v[:, i : i + 1] if isinstance(v, np.ndarray) else v) for key, v in d.items()}
        a, b, g = np.ones((1, 1)), np.ones((1, 1)), np.ones((Q, 1))
        ac = di["a"][:, 0]
        for _ in range(iters):
            a, b, ab, s = _m_step(di, g, a, b)
            regular = _component_ll(di, a, b, ab, s)[:, 0, 0]
            p_ab = float(np.clip(ab[0, 0], 1e-9, 1 - 1e-9))
            lock = gammaln(m + 1) - gammaln(ac + 1) - gammaln(m - ac + 1) + ac * np.log(p_ab) + (m - ac) * np.log1p(-p_ab)
            num = np.log(share[i]) + np.where(compatible[:, i], lock, -np.inf)
            t = np.exp(num - np.logaddexp(num, np.log1p(-share[i]) + regular))
            share[i] = max(float(t.mean()), 1e-6)
            g = (1 - t)[:, None]
        post[:, i] = t
    return LockedState(share, post, abstain)
