"""The math-verify helper process of :mod:`muxsim.answers.verify` (run as a script).

Reads one JSON object ``{"a": answer, "r": reference}`` per input line and
writes ``{"eq": bool}`` (or ``{"err": message}``) per output line, after a first
``{"ready": true}``. math-verify's own SIGALRM timeouts are off: the caller
kills this process when a comparison overruns. Exits at end of input.
"""

import json
import logging
import sys


def main() -> None:
    """The helper's loop: one comparison per input line, until end of input."""
    logging.disable(logging.WARNING)  # math-verify warns that its own timeout is off
    from math_verify import parse, verify

    out = sys.stdout
    out.write(json.dumps({"ready": True}) + "\n")
    out.flush()
    for line in sys.stdin:
        try:
            job = json.loads(line)
            gold = parse(f"${job['r']}$", parsing_timeout=None)
            pred = parse(f"${job['a']}$", parsing_timeout=None)
            eq = bool(gold) and bool(pred) and bool(verify(gold, pred, timeout_seconds=None))
            reply = {"eq": eq}
        except Exception as e:  # reported to the caller, who raises GradingError
            reply = {"err": f"{type(e).__name__}: {e}"[:300]}
        out.write(json.dumps(reply) + "\n")
        out.flush()


if __name__ == "__main__":
    main()
