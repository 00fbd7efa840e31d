"""muxsim: exact theory, simulation and calibration for orchestrating small language models.

>>> from muxsim import AnswerLaw, exact
>>> round(exact.self_consistency(AnswerLaw(0.4, {"W": 0.6}), 4), 4)
0.352
"""

from muxsim import exact, paper, rules, simulate
from muxsim.errors import LogFormatError, MuxsimError
from muxsim.laws import AnswerLaw, LoggedPool
from muxsim.population import Curves, Empirical, LatentDifficulty, ModelParams, evaluate

__version__ = "0.1.0"
__all__ = [
    "AnswerLaw", "LoggedPool", "Empirical", "LatentDifficulty", "ModelParams", "Curves", "evaluate",
    "exact", "simulate", "paper", "rules", "MuxsimError", "LogFormatError",
]
