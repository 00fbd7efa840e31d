"""The SLM-MUX paper's binomial approximations (Wang et al., ICLR 2026, arXiv 2510.05077).

These treat each answer as binary (right/wrong) and count ties as wins; muxsim
reports them beside the exact values to show where they hold.
"""

from __future__ import annotations

import math
from typing import Sequence

import numpy as np
from scipy.stats import binom

from muxsim.errors import MuxsimError


def _check(N: int, p) -> np.ndarray:
    if isinstance(N, bool) or not isinstance(N, (int, np.integer)) or N < 1:
        raise MuxsimError(f"N={N!r} must be an integer >= 1")
    p = np.asarray(p, dtype=float)
    if np.any(~np.isfinite(p)) or np.any((p < 0) | (p > 1)):
        raise MuxsimError(f"p={p!r} must lie in [0, 1]")
    return p


def binomial_majority(N: int, p):
    """A(N, p) = sum_{j >= ceil(N/2)} C(N, j) p^j (1 - p)^(N - j).

    Probability that at least half of N independent binary answers with
    accuracy p are right (a tie at N/2 counts as a win).
    """
    p = _check(N, p)
    out = binom.sf(math.ceil(N / 2) - 1, N, p)
    return float(out) if out.ndim == 0 else out


def mux_approx(accuracies: Sequence[float], N: int) -> float:
    """The paper's MUX approximation A(N, p_max)."""
    return binomial_majority(N, max(accuracies))


def agent_forest_approx(accuracies: Sequence[float], N: int) -> float:
    """The paper's Agent Forest (pooled vote) approximation A(N, mean p)."""
    return binomial_majority(N, float(np.mean(accuracies)))
