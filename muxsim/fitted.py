"""The one adapter between search/scaling and the fits (:mod:`muxsim.fit`): a fitted population of some models."""

from __future__ import annotations

from typing import Sequence

from muxsim.population import check_names

__all__ = ["population_of_fit", "fit_logs", "load"]


def load(path: str):
    """A fit written by ``muxsim fit``."""
    from muxsim.fit import load as load_fit

    return load_fit(path)


def fit_logs(table, kind: str = "latent"):
    """A fit of an AnswerTable for predictions (default: the parametric latent-difficulty fit)."""
    from muxsim.fit import fit

    return fit(table, kind)


def population_of_fit(fit, models: Sequence[str] | None = None):
    """The fit's population of ``models`` (in that order, the tie-break order), ready for the exact engine.

    ``LatentFit`` -> ``LatentDifficulty``; ``ClassFit`` and ``ShrinkageFit`` -> their posterior
    populations of the logged questions.
    """
    return fit.population(check_names(fit.models, models, "fit"))
