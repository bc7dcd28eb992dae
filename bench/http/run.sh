#!/usr/bin/env bash
# HTTP benchmark: wrk against 127.0.0.1 for the character list (1,000 characters stored)
# and /healthz; then 1,000 concurrent SSE streams on /api/events with resident memory per
# stream. Targets on a 2-core machine: list >= 5,000 req/s with p99 <= 10 ms.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/bin
PORT=${BENCH_PORT:-18931}
DATA=$(mktemp -d)
ulimit -n 8192 || true
# One benchmark user holds all 1,000 streams from one address: lift the per-user and
# per-address caps for this run (they are what the abuse benchmark measures).
$BIN/tokki serve --port "$PORT" --data-dir "$DATA" --log-level warn --max-connections 4096 \
  --max-connections-per-address 0 --max-streams-per-user 0 --max-characters-per-user 0 \
  --heartbeat-ms 15000 >"$DATA/server.log" 2>&1 &
PID=$!
trap 'kill $PID 2>/dev/null; wait $PID 2>/dev/null; rm -rf "$DATA"' EXIT
for _ in $(seq 50); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
TOKEN=$($BIN/http_load seed "$PORT" 1000)
echo "seeded 1000 characters"
run_wrk() {
  local name=$1 url=$2 script=${3:-}
  local out
  out=$(wrk -t1 -c16 -d10s --latency -H "Authorization: Bearer $TOKEN" ${script:+-s "$script"} "$url")
  local rps p99
  rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
  p99=$(echo "$out" | awk '$1=="99%" {print $2}')
  p50=$(echo "$out" | awk '$1=="50%" {print $2}')
  printf '%-40s %10s req/s   p50 %8s   p99 %8s\n' "$name" "$rps" "$p50" "$p99"
}
echo "== 1000 concurrent SSE streams on /api/events"
$BIN/http_load sse "$PORT" "$TOKEN" 1000 "$PID"
echo "== wrk: 1 thread, 16 connections, 10 s each (server: 2 I/O threads)"
run_wrk "GET /healthz" "http://127.0.0.1:$PORT/healthz"
run_wrk "GET /api/characters?limit=20" "http://127.0.0.1:$PORT/api/characters?limit=20"
# Every request a new cache key: the list computed from the database each time.
miss=$DATA/miss.lua
cat >"$miss" <<'LUA'
counter = 0
request = function()
  counter = counter + 1
  return wrk.format(nil, "/api/characters?limit=20&nocache=" .. counter)
end
LUA
run_wrk "GET /api/characters?limit=20 (uncached)" "http://127.0.0.1:$PORT" "$miss"
echo "target: /api/characters >= 5000 req/s, p99 <= 10 ms (list pages are cached until a character changes)"
