"""A weighted mixture of fits of one pilot (what ``kind="auto"`` returns when it mixes families).

The mixture's predictive law is: with probability ``w_j`` the answers follow
component fit j.  Every method's accuracy is a mean over questions of an
exact per-question value, so its expectation under the mixture is

    E[M] = sum_j w_j E_j[M]

(exact: each component's own exact expectation, weighted).  The predictive
interval draws come from the same mixture: each draw picks component j with
probability ``w_j`` and takes one draw of every question's laws from it
(:meth:`Fit.draw_laws`), so the interval holds both the components' own
uncertainty and their disagreement.

Components are fits of the same models on the same pilot.  A component that
predicts fresh questions like the logged ones (the latent-difficulty fit)
gives the same value whichever logged questions a call names
(``questions=``); the components of the logged questions average over those.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import ClassVar, Sequence

import numpy as np

from muxsim.errors import MuxsimError
from muxsim.fit.common import Fit

__all__ = ["MixtureFit", "MixturePopulation"]


@dataclass
class MixturePopulation:
    """The populations of the components of a :class:`MixtureFit` for one model set, with their weights.

    :func:`muxsim.population.evaluate` and :mod:`muxsim.scaling` evaluate each part and
    weight the results (there is no single layout: the parts differ in their quadrature)."""

    parts: tuple[tuple[float, object], ...]  # (weight, population)
    models: tuple[str, ...]


@dataclass
class MixtureFit(Fit):
    """Fits of one pilot mixed with ``weights`` (non-negative, summing to 1); see module notes."""

    kind: ClassVar[str] = "muxsim.fit/mixture-1"

    components: tuple[Fit, ...]
    weights: np.ndarray
    diagnostics: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.weights = np.asarray(self.weights, dtype=float)
        if not self.components or len(self.weights) != len(self.components):
            raise MuxsimError(f"a mixture needs one weight per component, got {len(self.weights)} for "
                              f"{len(self.components)}")
        if np.any(self.weights < 0) or abs(float(self.weights.sum()) - 1) > 1e-9:
            raise MuxsimError(f"mixture weights {self.weights.tolist()} must be >= 0 and sum to 1")
        first = tuple(self.components[0].models)
        for c in self.components[1:]:
            if tuple(c.models) != first:
                raise MuxsimError(f"mixture components must fit the same models: {first} vs {tuple(c.models)}")

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(self.components[0].models)

    @property
    def question_ids(self):
        """The logged questions of the first component that has them (None if none has)."""
        return next((c.question_ids for c in self.components if getattr(c, "question_ids", None) is not None), None)

    @property
    def joint_dependent(self) -> bool:  # type: ignore[override]
        return any(c.joint_dependent for c in self.components)

    @property
    def interval_kind(self) -> str:
        return "draws from the mixture: a component by its weight, then that component's draw (" + "; ".join(
            f"{c.family}: {getattr(c, 'interval_kind', '')}" for c in self.components) + ")"

    @property
    def pool_form_kind(self) -> str:  # type: ignore[override]
        return "; ".join(f"{c.family}: {c.pool_form_kind}" for c in self.components if c.pool_form_kind)

    def pool_form(self) -> "MixtureFit":
        return MixtureFit(tuple(c.pool_form() for c in self.components), self.weights, list(self.diagnostics))

    def population(self, models: Sequence[str] | None = None, *, questions: Sequence[int] | None = None
                   ) -> MixturePopulation:
        names = list(self.models) if models is None else list(models)
        parts = []
        for w, c in zip(self.weights, self.components):
            logged = getattr(c, "question_ids", None) is not None
            pop = c.population(names, questions=questions) if logged and questions is not None else c.population(names)
            parts.append((float(w), pop))
        return MixturePopulation(tuple(parts), tuple(names))

    def draw_laws(self, models: Sequence[str], rng: np.random.Generator) -> np.ndarray:
        """One draw: component j with probability ``weights[j]``, then its own draw of every question's laws."""
        j = int(rng.choice(len(self.components), p=self.weights))
        return self.components[j].draw_laws(models, rng)

    def table(self) -> str:
        lines = [f"mixture of {len(self.components)} fits: " + ", ".join(
            f"{c.family} {w:.2f}" for c, w in zip(self.components, self.weights))]
        for c, w in zip(self.components, self.weights):
            lines += [f"--- {c.family} (weight {w:.2f})", c.table()]
        return "\n".join(lines)

    def __repr__(self) -> str:
        return self.table()

    def to_dict(self) -> dict:
        return {"kind": self.kind, "models": list(self.models), "weights": self.weights.tolist(),
                "components": [c.to_dict() for c in self.components], **self._diagnostics_dict()}

    @classmethod
    def from_dict(cls, d: dict) -> "MixtureFit":
        from muxsim.fit.io import from_dict

        if d.get("kind") != cls.kind:
            raise MuxsimError(f"fit kind={d.get('kind')!r} is not {cls.kind!r}")
        comps = tuple(from_dict(c, f"mixture component {j}") for j, c in enumerate(d["components"]))
        return cls(comps, np.asarray(d["weights"], dtype=float), list(d.get("diagnostics", [])))

