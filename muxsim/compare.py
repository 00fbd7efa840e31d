"""Predicted against observed accuracy curves: the error of a prediction, over the methods where it means something.

A fit's prediction (:func:`muxsim.calibrate.evaluate_fit`) and the exact
evaluation of held-out logs (:func:`muxsim.logs.evaluate.evaluate_logs`) are
both :class:`~muxsim.population.Curves` with the same k.  Their mean absolute
error is taken over the methods that are predictions of the fit compared with
observations:

* ``sc[...]``, ``mux``, ``mux_valid``, ``vote``, ``union``, ``contradiction``
  (whichever both curves hold) — included;
* ``single[...]`` — left out: one value repeated at every k (the model's
  accuracy, which the fit is built from), it would weigh each model's
  accuracy len(k) times and dilute the methods the prediction is for;
* ``paper_*`` — left out: the paper's binomial approximation, computed on each
  side from that side's single accuracies, is not the fit's prediction.

MAE = mean over the included methods m and the k values of
|pred[m](k) - obs[m](k)|.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.population import Curves

__all__ = ["PredictionError", "prediction_error", "compared_methods"]


def compared_methods(names) -> tuple[list[str], list[str]]:
    """``(included, left out)`` of method names, by the rule of the module notes."""
    inc = [m for m in names if not m.startswith("single[") and not m.startswith("paper_")]
    out = [m for m in names if m not in inc]
    return inc, out


@dataclass(frozen=True)
class PredictionError:
    """Mean absolute error (accuracy units) of a prediction over ``methods`` x ``k``."""

    mae: float
    methods: tuple[str, ...]
    k: tuple[int, ...]
    left_out: tuple[str, ...]

    @property
    def n_values(self) -> int:
        return len(self.methods) * len(self.k)

    def line(self) -> str:
        """One line for the CLI: the value in points, and which methods it covers and leaves out."""
        ks = ",".join(str(k) for k in self.k)
        s = (f"mean absolute error: {100 * self.mae:.2f} points over {self.n_values} values "
             f"({', '.join(self.methods)} at k={ks})")
        if self.left_out:
            s += f"; left out: {', '.join(self.left_out)} (single: constant in k; paper_*: not the fit's prediction)"
        return s

    def to_dict(self) -> dict:
        return {"mae": self.mae, "methods": list(self.methods), "k": list(self.k), "left_out": list(self.left_out),
                "n_values": self.n_values}


def prediction_error(pred: Curves, obs: Curves) -> PredictionError:
    """MAE of ``pred`` against ``obs`` over the methods both hold, by the rule of the module notes.

    >>> import numpy as np
    >>> from muxsim.population import Curves
    >>> k = np.array([1, 2])
    >>> p = Curves(k, {"single[a]": np.array([.5, .5]), "mux": np.array([.5, .6])}, {}, "fit", ("a",))
    >>> o = Curves(k, {"single[a]": np.array([.9, .9]), "mux": np.array([.6, .6])}, {}, "logs", ("a",))
    >>> e = prediction_error(p, o)
    >>> round(e.mae, 12), e.methods, e.left_out
    (0.05, ('mux',), ('single[a]',))
    """
    if list(pred.k) != list(obs.k):
        raise MuxsimError(f"predicted k={[int(k) for k in pred.k]} and observed k={[int(k) for k in obs.k]} differ")
    common = [m for m in pred.values if m in obs.values]
    inc, out = compared_methods(common)
    if not inc:
        raise MuxsimError(f"no method to compare: predicted and observed share only {common} "
                          "(single[...] and paper_* rows are not compared)")
    err = np.array([np.abs(np.asarray(pred.values[m]) - np.asarray(obs.values[m])) for m in inc])
    return PredictionError(float(err.mean()), tuple(inc), tuple(int(k) for k in pred.k), tuple(out))
