"""Fit files: one writer (:func:`save`), one reader (:func:`load`).

A fit file is JSON with ``kind`` (``muxsim.fit/latent-1``,
``muxsim.fit/latent-class-1``, ``muxsim.fit/shrinkage-1``, ``muxsim.fit/mixture-1``: its
components' files inside) and ``format``
(the file version, :data:`muxsim.fit.common.FIT_FORMAT`; absent in files of
format 1, which still load and predict as before).  A file of a newer format
is refused with one line.
"""

from __future__ import annotations

import json

from muxsim.errors import MuxsimError
from muxsim.fit.classes import ClassFit
from muxsim.fit.common import FIT_FORMAT, Fit
from muxsim.fit.latent import LatentFit
from muxsim.fit.mixture import MixtureFit
from muxsim.fit.shrinkage import ShrinkageFit

__all__ = ["save", "load", "from_dict", "KINDS"]

#: file kind -> class
KINDS = {c.kind: c for c in (LatentFit, ClassFit, ShrinkageFit, MixtureFit)}


def save(fit: Fit, path) -> None:
    """Write ``fit`` to ``path`` (JSON)."""
    with open(path, "w", encoding="utf-8") as fh:
        json.dump(fit.to_dict(), fh, indent=1)


def from_dict(d, source: str = "fit") -> Fit:
    """The fit of a decoded fit file (``source`` names it in errors)."""
    kind = d.get("kind") if isinstance(d, dict) else None
    if kind not in KINDS:
        raise MuxsimError(f"{source}: kind={kind!r} is not a muxsim fit")
    fmt = d.get("format", 1)
    if isinstance(fmt, bool) or not isinstance(fmt, int) or fmt < 1:
        raise MuxsimError(f"{source}: format={fmt!r} must be an integer >= 1")
    if fmt > FIT_FORMAT:
        raise MuxsimError(f"{source}: fit file format {fmt} is newer than this muxsim reads (up to {FIT_FORMAT}); "
                          f"upgrade muxsim or refit")
    body = {k: v for k, v in d.items() if k != "selection"}
    try:
        f = KINDS[kind].from_dict(body)
    except (KeyError, TypeError, ValueError) as e:
        raise MuxsimError(f"{source}: a {kind} file with missing or bad fields ({type(e).__name__}: {e})") from None
    if "selection" in d:
        f.selection = d["selection"]
    return f


def load(path) -> Fit:
    """Read a fit written by :func:`save` (any format up to the current one)."""
    try:
        with open(path, encoding="utf-8") as fh:
            d = json.load(fh)
    except (OSError, json.JSONDecodeError) as e:
        raise MuxsimError(f"{path}: cannot read a fit ({e})") from None
    return from_dict(d, str(path))
