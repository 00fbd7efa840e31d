"""Former home of the latent-class fit; it now lives in :mod:`muxsim.fit.classes` (thin re-export)."""

from muxsim.fit.classes import ClassFit, ClassPosteriorPopulation, fit_classes

__all__ = ["ClassFit", "fit_classes", "ClassPosteriorPopulation"]
