"""Models locked on one wrong answer: the pieces of the shrinkage fit's locked state.

Model.  On each question, independently per model given the question, model i is *locked* with probability
``pi_i``: it never answers correctly and every valid draw is one and the same wrong answer (it abstains at
its pilot rate ``a_i``).  Otherwise it answers by the fit's regular law.  A question can be locked only where
its pilot has no correct draw and its valid draws are all one answer (:func:`compatible`).

The posterior of a cell is ``pi_i L_lock / (pi_i L_lock + (1 - pi_i) L_regular)`` (:func:`posterior`), where
both likelihoods leave out what they share: which wrong answer the first wrong draw is, and the binomial
coefficient of the abstentions.  The shrinkage fit (:func:`muxsim.fit.shrinkage.fit_shrinkage` with
``locked=True``) alternates these posteriors with its own regular law refitted with each cell weighted by
its probability of not being locked (EM), so the regular law's priors and urn are not pulled towards "wrong"
by the locked cells they no longer have to explain.  The real logs have such states: on the jhu logs at
T = 0.7, of the (question, model) cells whose 3 pilot draws were one wrong answer, 64% gave that answer in
all 7 held-out draws (``bench/contradiction_bias.py``).
"""

from __future__ import annotations

import numpy as np
from scipy.special import xlogy

__all__ = ["compatible", "lock_loglik", "repeat_loglik", "posterior"]


def _wrong_answer(codes: np.ndarray) -> np.ndarray:
    """``(Q, n)``: each cell's smallest wrong answer code (its only one on :func:`compatible` cells)."""
    return np.where(codes > 0, codes, np.iinfo(np.int64).max).min(axis=2)


def compatible(codes: np.ndarray) -> np.ndarray:
    """``(Q, n)``: no correct draw and at most one distinct wrong answer among the pilot draws ``codes`` (Q, n, m)."""
    return ~(codes == 0).any(axis=2) & ((codes <= 0) | (codes == _wrong_answer(codes)[:, :, None])).all(axis=2)


def lock_loglik(codes: np.ndarray) -> np.ndarray:
    """``(Q, n)``: log P(the pilot's abstentions | locked), each model abstaining at its pilot rate (no
    binomial coefficient; the answer repeated is not scored)."""
    a = (codes < 0).sum(axis=2)
    m = codes.shape[2]
    rate = a.sum(axis=0) / (a.shape[0] * m)  # per model
    return xlogy(a, rate[None, :]) + xlogy(m - a, 1 - rate[None, :])


def repeat_loglik(codes: np.ndarray, beta: float, tau: float) -> np.ndarray:
    """``(Q, n)``: log P(every wrong draw after the first repeats it) under the wrong-answer urn (``beta``,
    ``tau``; :func:`muxsim.fit.shrinkage.urn_split`): the j-th repeat has probability
    ``(j + beta pi) / (j + beta)``, ``pi`` = the other models' count of the answer over (their wrong total +
    ``tau``), 0 where no other model gives it.  0 where fewer than two wrong draws and off the
    :func:`compatible` cells."""
    Q, n, m = codes.shape
    w = (codes > 0).sum(axis=2)
    given = (codes[:, None, :, :] == _wrong_answer(codes)[:, :, None, None]).sum(axis=(2, 3))  # over all models
    oth = given - w  # the other models' count (a compatible cell's wrong draws are all that answer)
    others_wrong = w.sum(axis=1, keepdims=True) - w
    pi = np.where(oth > 0, oth / (others_wrong + tau), 0.0)
    j = np.arange(1, m)[None, None, :]
    terms = np.log((j + beta * pi[:, :, None]) / (j + beta))
    return np.where(compatible(codes)[:, :, None] & (j < w[:, :, None]), terms, 0.0).sum(axis=2)


def posterior(share: np.ndarray, log_lock: np.ndarray, log_regular: np.ndarray, ok: np.ndarray) -> np.ndarray:
    """``(Q, n)``: P(locked | pilot) = pi L_lock / (pi L_lock + (1 - pi) L_regular) on the compatible cells
    ``ok``, 0 elsewhere (``share`` = pi per model)."""
    num = np.log(share)[None, :] + log_lock
    den = np.logaddexp(num, np.log1p(-share)[None, :] + log_regular)
    return np.where(ok, np.exp(num - den), 0.0)
