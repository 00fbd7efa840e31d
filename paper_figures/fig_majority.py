"""SC accuracy against p: the paper's A(N, p) beside exact plurality for 1, 2, 3 wrong answers and a tail (closed forms, no data).

Thin script: the data come from the `majority` entry of `muxsim.report.figure_specs`, the drawing from `muxsim.plots`.
Writes paper_figures/out/majority.png and .pdf (or OUT.png / OUT.pdf).

    python paper_figures/fig_majority.py [OUT]
"""

from __future__ import annotations

import sys
from pathlib import Path

from muxsim.report import figure_script


def main(out: str | None = None) -> list[Path]:
    return figure_script("majority", __file__, out)


if __name__ == "__main__":
    print(*main(sys.argv[1] if len(sys.argv) > 1 else None))
