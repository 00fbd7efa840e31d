"""Output attribution of SLM-MUX as bars (bundled logs, a fitted population).

Thin script: the data come from the `attribution` entry of `muxsim.report.figure_specs`, the drawing from `muxsim.plots`.
Writes paper_figures/out/attribution.png and .pdf (or OUT.png / OUT.pdf).

    python paper_figures/fig_attribution.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from muxsim.report import figure_script


def main(out: str | None = None) -> list[Path]:
    return figure_script("attribution", __file__, out)


if __name__ == "__main__":
    print(*main(sys.argv[1] if len(sys.argv) > 1 else None))
