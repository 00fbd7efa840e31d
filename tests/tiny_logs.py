"""A small muxsim sample log for CLI tests: each model answers right with its skill, else a wrong answer."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_log(path: Path, skills: dict[str, float], *, questions: int = 20, samples: int = 3, seed: int = 0,
                   wrong: str = "two") -> Path:
    """Write ``path``: ``wrong="two"`` draws a wrong answer from two shared strings, ``"unique"`` makes every
    wrong answer its own string (no wrong answer ever repeats)."""
    from muxsim.logs.format import Sample, write_samples

    rng = np.random.default_rng(seed)
    out = []
    for q in range(questions):
        for m, skill in skills.items():
            for j in range(samples):
                ok = bool(rng.random() < skill)
                bad = f"W{q}{m}{j}" if wrong == "unique" else f"W{rng.integers(0, 2)}"
                out.append(Sample(f"q{q}", m, j, "R" if ok else bad, ok, reference="R"))
    write_samples(path, out)
    return path
