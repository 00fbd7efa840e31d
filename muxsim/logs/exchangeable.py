"""Whether logged samples behave like exchangeable draws: a check of the sample positions.

Every closed form in muxsim, and every fit, treats a model's samples of a question as independent draws
of one law per question, so the order in which they were logged carries no information.  Real logs can
break this: samples taken in separate runs (another day, another server state, a changed API model) share
a run-level shift across questions.  Then a pilot of the first m samples differs from later samples by
more than sampling noise, and intervals built on exchangeable draws are too narrow.

The check, per model i: the accuracy of each sample position j (the mean over questions of whether the
j-th sample is correct), ``acc_j = (1/Q) sum_q y_qj``.  With exchangeable draws given each question's
accuracy p_q, the K position accuracies are independent with variance ``s2 = (1/Q^2) sum_q p_q (1 - p_q)``
(abstentions count as not correct), so their sample variance divided by ``s2`` (estimated unbiasedly,
``p_hat (1 - p_hat) K / (K - 1)`` per question) is about 1, and ``(K - 1)`` times it is about chi-square
with K - 1 degrees of freedom (normal approximation of each position's mean over Q questions).  Pooled
over models (treated as independent): the sum is about chi-square with ``n (K - 1)`` degrees of freedom,
which gives the p-value.  A ratio well above 1 says the positions differ more than draws of one law per
question would.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.stats import chi2

from muxsim.errors import MuxsimError
from muxsim.logs.evaluate import AnswerTable

__all__ = ["PositionCheck", "position_check"]


@dataclass(frozen=True)
class PositionCheck:
    """Result of :func:`position_check`: per model the variance ratio, pooled ratio and p-value."""

    models: tuple[str, ...]
    ratio: np.ndarray  # (n,) variance of the position accuracies / its exchangeable expectation (nan: no variance)
    pooled: float  # mean ratio over the models with a finite one
    dof: int  # degrees of freedom of the pooled chi-square
    p_value: float  # P(chi-square >= observed) under exchangeable draws
    K: int  # sample positions

    def summary(self) -> str:
        per = ", ".join(f"{m} {r:.2f}" for m, r in zip(self.models, self.ratio) if np.isfinite(r))
        return (f"sample positions: their accuracies vary {self.pooled:.2f} times what exchangeable draws give "
                f"(K = {self.K} positions, chi-square {self.dof} dof, p = {self.p_value:.3g}); per model: {per}")


def position_check(table: AnswerTable) -> PositionCheck:
    """The sample-position check of the module notes on a rectangular table with K >= 2 samples per pool."""
    if table.ragged:
        raise MuxsimError(f"position_check needs the same number of samples in every pool; this table holds "
                          f"{table.size_range()} (select a rectangular part, e.g. table.select(samples=slice(0, m)))")
    Q, n, K = table.codes.shape
    if K < 2 or Q < 2:
        raise MuxsimError(f"position_check needs >= 2 samples per pool and >= 2 questions (got K = {K}, Q = {Q})")
    y = (table.codes == 0).astype(float)  # (Q, n, K)
    pos = y.mean(axis=0)  # (n, K)
    p = y.mean(axis=2)  # (Q, n)
    expected = (p * (1 - p)).sum(axis=0) * K / (K - 1) / Q**2  # (n,)
    observed = pos.var(axis=1, ddof=1)
    ok = expected > 0
    ratio = np.where(ok, observed / np.where(ok, expected, 1.0), np.nan)
    dof = int(ok.sum()) * (K - 1)
    stat = float((K - 1) * ratio[ok].sum())
    return PositionCheck(table.models, ratio, float(np.mean(ratio[ok])) if ok.any() else float("nan"), dof,
                         float(chi2.sf(stat, dof)) if dof else float("nan"), K)
