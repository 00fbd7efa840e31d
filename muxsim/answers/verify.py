"""math-verify with a timeout that holds in any thread and any process.

math-verify (sympy underneath) can run for minutes on some answers (a power
tower such as ``2^{30}3^65^37^21113``), and its own timeout uses SIGALRM,
which only the main thread of a process may set: called from a worker thread
it is silently disabled. So every comparison runs in a helper process that is
killed when it overruns:

* a small pool of helper processes (``_verify_helper.py`` started with
  :mod:`subprocess`, so daemonic multiprocessing workers may use it too), one
  per comparison in flight; each is started once, reports ready, and is reused;
* a comparison is one JSON line out, one JSON line back; the caller waits at
  most ``timeout_s`` seconds (wall clock, parsing both answers and verifying)
  and then kills the helper and raises :class:`GradingTimeout`; the next
  comparison starts a fresh helper;
* a helper that dies or reports an exception raises :class:`GradingError`;
* a process that forks leaves its parent's helpers to the parent.

The helpers exit when the caller exits (end of input) and are killed at
interpreter exit. Starting one costs about a second (importing sympy); that
start-up is not counted in ``timeout_s``.
"""

from __future__ import annotations

import atexit
import json
import os
import select
import subprocess
import sys
import threading
import time
from pathlib import Path

from muxsim.errors import MuxsimError

#: seconds allowed for one comparison (both parses and the verification)
DEFAULT_TIMEOUT_S = 5.0
#: seconds allowed for a helper to import math-verify and report ready
STARTUP_TIMEOUT_S = 120.0

#: the helper is a standalone script (it imports nothing of muxsim), run with neither the
#: working directory nor its own folder on sys.path (muxsim/answers/math.py would shadow math)
_HELPER = str(Path(__file__).resolve().with_name("_verify_helper.py"))
_BOOT = (
    "import sys; sys.path = [p for p in sys.path if p not in ('', '.')]; "
    f"import runpy; runpy.run_path({_HELPER!r}, run_name='__main__')"
)


class GradingError(MuxsimError):
    """A comparison that could not be decided (the helper failed)."""


class GradingTimeout(GradingError):
    """A comparison that ran past its time limit; it is undecided, neither right nor wrong."""


class _Overrun(Exception):
    pass


class _Helper:
    """One helper process speaking JSON lines on stdin/stdout."""

    def __init__(self) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-c", _BOOT],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            close_fds=True,
        )
        self._buf = b""
        try:
            ready = self._readline(STARTUP_TIMEOUT_S)
        except _Overrun:
            self.kill()
            raise GradingError(f"the math-verify helper did not start within {STARTUP_TIMEOUT_S:g} s") from None
        if ready != {"ready": True}:
            self.kill()
            raise GradingError(f"the math-verify helper failed to start: {ready}")

    def _readline(self, timeout_s: float) -> dict:
        assert self.proc.stdout is not None
        fd = self.proc.stdout.fileno()
        deadline = time.monotonic() + timeout_s
        while b"\n" not in self._buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise _Overrun
            r, _, _ = select.select([fd], [], [], left)
            if not r:
                continue
            chunk = os.read(fd, 65536)
            if not chunk:
                code = self.proc.wait()
                raise GradingError(f"the math-verify helper exited with code {code}")
            self._buf += chunk
        line, self._buf = self._buf.split(b"\n", 1)
        return json.loads(line)

    def ask(self, answer: str, reference: str, timeout_s: float) -> bool:
        assert self.proc.stdin is not None
        try:
            self.proc.stdin.write((json.dumps({"a": answer, "r": reference}) + "\n").encode())
            self.proc.stdin.flush()
        except OSError as e:
            raise GradingError(f"the math-verify helper is gone: {e}") from None
        out = self._readline(timeout_s)
        if "eq" not in out:
            raise GradingError(f"math-verify failed on answer={answer!r}, reference={reference!r}: {out.get('err')}")
        return bool(out["eq"])

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()
        for f in (self.proc.stdin, self.proc.stdout):
            if f is not None:
                f.close()


class _Pool:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.idle: list[_Helper] = []
        self.pid = os.getpid()

    def take(self) -> _Helper:
        with self.lock:
            if self.pid != os.getpid():  # forked: those helpers are the parent's
                self.idle, self.pid = [], os.getpid()
            if self.idle:
                return self.idle.pop()
        return _Helper()

    def give(self, h: _Helper) -> None:
        with self.lock:
            if self.pid == os.getpid():
                self.idle.append(h)
                return
        h.kill()

    def close(self) -> None:
        with self.lock:
            helpers, self.idle = self.idle, []
            mine = self.pid == os.getpid()
        if mine:
            for h in helpers:
                h.kill()


_POOL = _Pool()
atexit.register(_POOL.close)


def verify_latex(answer: str, reference: str, *, timeout_s: float = DEFAULT_TIMEOUT_S) -> bool:
    """math-verify's equivalence of two LaTeX answers, decided within ``timeout_s`` seconds.

    Raises :class:`GradingTimeout` when the comparison runs longer (the helper
    is killed), :class:`GradingError` when the helper fails.
    """
    if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
        raise MuxsimError(f"timeout_s={timeout_s!r} must be a number > 0")
    h = _POOL.take()
    try:
        eq = h.ask(answer, reference, timeout_s)
    except _Overrun:
        h.kill()
        raise GradingTimeout(
            f"grading timed out after {timeout_s:g} s (math-verify: answer={answer[:80]!r}, reference={reference[:80]!r})"
        ) from None
    except BaseException:
        h.kill()
        raise
    _POOL.give(h)
    return eq
