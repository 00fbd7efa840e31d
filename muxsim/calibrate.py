"""Former home of the fits; they now live in :mod:`muxsim.fit` (one module per family).

Thin re-exports so that existing imports keep working::

    from muxsim.calibrate import fit_latent, fit_shrinkage, evaluate_fit, load_fit, save_fit

New code should use ``muxsim.fit`` (``fit(table, kind=...) -> Fit``,
``Fit.predict(...) -> Prediction`` with intervals).
"""

from muxsim.fit import evaluate_fit
from muxsim.fit.common import check_table as _check_table
from muxsim.fit.common import counts as _counts
from muxsim.fit.common import fit_selection, num_hessian as _num_hessian, shared_share
from muxsim.fit.io import load as load_fit
from muxsim.fit.io import save as save_fit
from muxsim.fit.latent import LatentFit, fit_latent, goodness_of_fit
from muxsim.fit.shrinkage import (
    DIFFICULTY_SCALE,
    PosteriorPopulation,
    ShrinkageFit,
    _difficulty,
    _model_prior,
    dirichlet_multinomial_fit,
    fit_shrinkage,
    fit_urn,
    urn_split,
)

__all__ = [
    "LatentFit", "fit_latent", "goodness_of_fit", "ShrinkageFit", "fit_shrinkage", "PosteriorPopulation",
    "dirichlet_multinomial_fit", "fit_urn", "urn_split", "shared_share", "fit_selection", "save_fit", "load_fit",
    "evaluate_fit", "DIFFICULTY_SCALE", "_counts", "_check_table", "_num_hessian", "_difficulty", "_model_prior",
]
