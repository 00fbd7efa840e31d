"""Fits of answer models to a pilot log, and their predictions with intervals.

One interface for every family::

    f = fit(table)                           # kind="auto": a MixtureFit of the families, weighted on the pilot
    f = fit(table, kind="classes")          # -> Fit (LatentFit, ClassFit, ShrinkageFit, MixtureFit)
    print(f.summary())                       # parameters and diagnostics (bounds, NaNs, fallbacks)
    pred = f.predict([1, 3, 5], models=["a", "b"])   # -> Prediction: Curves with intervals
    pred.conf_int("mux")                     # (len(k), 2) 90% predictive interval
    save(f, "FIT.json"); f = load("FIT.json")

Families (one module each): :mod:`~muxsim.fit.latent` (LatentDifficulty by
maximum marginal likelihood, questions like the logged ones),
:mod:`~muxsim.fit.classes` (latent classes, the logged questions given their
pilot), :mod:`~muxsim.fit.shrinkage` (empirical Bayes with a Polya urn, the
logged questions); shared helpers in :mod:`~muxsim.fit.common`; intervals in
:mod:`~muxsim.fit.intervals`; the file format in :mod:`~muxsim.fit.io`;
weighted mixtures of families (``kind="auto"``) in :mod:`~muxsim.fit.mixture`.

>>> from muxsim.fit import KINDS_BY_NAME
>>> sorted(KINDS_BY_NAME)
['classes', 'latent', 'shrinkage']
"""

from __future__ import annotations

from typing import Sequence

from muxsim.errors import MuxsimError
from muxsim.fit.classes import ClassFit, ClassPosteriorPopulation, fit_classes
from muxsim.fit.common import Fit, shared_share
from muxsim.fit.intervals import Prediction
from muxsim.fit.io import from_dict, load, save
from muxsim.fit.latent import LatentFit, fit_latent, goodness_of_fit
from muxsim.fit.mixture import MixtureFit, MixturePopulation
from muxsim.fit.shrinkage import PosteriorPopulation, ShrinkageFit, fit_shrinkage
from muxsim.logs.exchangeable import position_check

__all__ = ["fit", "Fit", "Prediction", "load", "save", "from_dict", "evaluate_fit", "LatentFit", "ClassFit",
           "ShrinkageFit", "MixtureFit", "MixturePopulation", "fit_latent", "fit_classes", "fit_shrinkage", "goodness_of_fit", "PosteriorPopulation",
           "ClassPosteriorPopulation", "shared_share", "KINDS_BY_NAME"]

#: ``kind`` name -> fitting function (``"auto"`` chooses among them: :mod:`muxsim.fit.auto`)
KINDS_BY_NAME = {"latent": fit_latent, "classes": fit_classes, "shrinkage": fit_shrinkage}


def fit(table, kind: str = "auto", **options) -> Fit:
    """Fit the answer model ``kind`` to a pilot :class:`~muxsim.logs.evaluate.AnswerTable`.

    ``options`` go to the family's fitting function (:func:`fit_latent`,
    :func:`fit_classes`, :func:`fit_shrinkage`); ``kind="auto"`` (the default)
    weights the families by the pilot's own checks (leave one sample out, and a
    predictive check at k <= m) and
    returns their mixture, or one family where it takes all the weight
    (:func:`muxsim.fit.auto.fit_auto`; its options: ``kinds``, ``max_pairs``,
    ``options``, ``mix``).  Where the pilot's sample positions differ more than
    exchangeable draws would (:func:`muxsim.logs.exchangeable.position_check`,
    p < 0.01; 1% of exchangeable pilots), the fit's diagnostics say so."""
    if kind == "auto":
        from muxsim.fit.auto import fit_auto

        f = fit_auto(table, **options)
    elif kind not in KINDS_BY_NAME:
        raise MuxsimError(f"kind={kind!r} must be one of {sorted(KINDS_BY_NAME) + ['auto']}")
    else:
        f = KINDS_BY_NAME[kind](table, **options)
    if not table.ragged and table.K >= 2:  # every family assumes exchangeable draws: say where the pilot doubts it
        chk = position_check(table)
        if chk.p_value < 0.01:
            f.diagnostics = list(f.diagnostics) + [
                f"the pilot's {chk.summary()}: its samples are not like exchangeable draws of one law per "
                "question (e.g. taken in runs that differ), which every fit assumes; later samples may differ "
                "from the pilot by more than the intervals allow"]
    return f


def evaluate_fit(fit: Fit, k, *, models: Sequence[str] | None = None, methods: Sequence[str] | None = None,
                 r: int = 1, chunk: int = 20, with_paper: bool = True) -> Prediction:
    """Point predictions of a fit (no intervals): ``fit.predict(k, ..., level=None)``.

    Kept for the callers of the former ``muxsim.calibrate.evaluate_fit``;
    ``chunk`` is the fit's own (shrinkage: 20 questions at a time)."""
    return fit.predict(k, models=models, methods=methods, r=r, level=None, with_paper=with_paper)
