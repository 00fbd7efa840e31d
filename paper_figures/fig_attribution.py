"""Output attribution of SLM-MUX as bars (bundled logs, a fitted population).

Thin script: the data come from the `attribution` entry of `muxsim.report.figure_specs`, the drawing from `muxsim.plots`.
Writes paper_figures/out/attribution.png and .pdf (or OUT.png / OUT.pdf).

    python paper_figures/fig_attribution.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from muxsim.plots import save
from muxsim.report import make_figure


def main(out: str | None = None) -> list[Path]:
    _, fig = make_figure("attribution")
    return save(fig, out or Path(__file__).parent / "out" / "attribution")


if __name__ == "__main__":
    print(*main(sys.argv[1] if len(sys.argv) > 1 else None))
