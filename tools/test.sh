#!/usr/bin/env bash
# `make test`: every test CI runs.
#  1. CTest: unit tests, the store conformance suite, HTTP tests against real servers on
#     127.0.0.1 (label "server"), engine tests on generated models (label "model"), the
#     remote-backend tests against a real llama-server, the kill -9 crash test.
#  2. The web app's unit tests (Vitest).
#  3. The browser suite (playwright-core driving Debian's Chromium) against a real
#     `tokki serve` with the generated tiny model. Screenshots: build/screenshots/.
#  4. Clang's thread-safety analysis: every TOKKI_GUARDED_BY member is touched only with
#     its lock held (tools/check/thread_safety.sh, a clang-14 build in build-tsa/).
set -uo pipefail
cd "$(dirname "$0")/.."
status=0
ctest --test-dir build --output-on-failure -j 2 --timeout 600 || status=1

if [ -f web/package.json ]; then
  (cd web && npm test) || status=1

  models=build/models
  mkdir -p "$models"
  model=$models/tiny-f16.gguf
  [ -f "$model" ] || build/bin/tokki model gen --preset tiny --type f16 -o "$model" >/dev/null || status=1
  data=$(mktemp -d)
  port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
  # The operator's account for the admin steps, made the way an operator makes it.
  export E2E_ADMIN_USER=e2e-admin E2E_ADMIN_PASS=e2e-admin-password
  build/bin/tokki admin create-user --data-dir "$data" --username "$E2E_ADMIN_USER" \
    --password "$E2E_ADMIN_PASS" --role admin >/dev/null || status=1
  # Every browser test signs up from 127.0.0.1: lift the per-address sign-up limit.
  build/bin/tokki serve --port "$port" --data-dir "$data" --model "$model" --ctx-size 2048 \
    --parallel 8 --log-level warn --max-signups-per-hour 0 >"$data/server.log" 2>&1 &
  server=$!
  for _ in $(seq 300); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.1; done
  export SCREENSHOT_DIR=$PWD/build/screenshots
  rm -rf "$SCREENSHOT_DIR"
  (cd web && BASE_URL="http://127.0.0.1:$port" npm run e2e) || { status=1; tail -50 "$data/server.log"; }
  kill -TERM "$server" 2>/dev/null
  wait "$server" 2>/dev/null
  rm -rf "$data"
fi

echo "[thread-safety] checking that guarded members are only used under their locks (clang -Wthread-safety)"
bash tools/check/thread_safety.sh || status=1
exit $status
