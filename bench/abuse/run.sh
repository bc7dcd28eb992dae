#!/usr/bin/env bash
# Abuse benchmark: does a normal user stay served while an abusive client attacks?
# Starts a real `tokki serve` with the default limits (only the per-address sign-up limit is
# lifted: every account here signs up from loopback) and the generated tiny model, then
# bench/abuse/abuse.cc measures a normal user from 127.0.0.1 on the idle server and while an
# attacker on 127.0.0.2–250 holds thousands of idle connections, floods messages, sends
# 15 MB bodies and opens event streams. Target: under attack p50 <= 2x idle p50.
# Prints figures; exits 0 unless something broke. Extra arguments go to the driver
# (e.g. --rounds 8, --idle-conns 0 to leave a part out); BENCH_KEEP_LOG=FILE keeps the
# server's log.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=build/bin
PORT=${BENCH_PORT:-18941}
[ -x "$BIN/abuse" ] || { echo "build the driver first: cmake --build build --target abuse" >&2; exit 1; }
models=build/models
mkdir -p "$models"
model=$models/tiny-f16.gguf
[ -f "$model" ] || "$BIN/tokki" model gen --preset tiny --type f16 -o "$model" >/dev/null
# The attacker holds ~3,200 sockets and so does the server: both need the file descriptors.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 16384 2>/dev/null || true
DATA=$(mktemp -d)
PID=
cleanup() {
  if [ -n "$PID" ]; then
    kill -TERM "$PID" 2>/dev/null || true
    wait "$PID" 2>/dev/null || true
  fi
  rm -rf "$DATA"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
"$BIN/tokki" serve --port "$PORT" --data-dir "$DATA" --model "$model" \
  --max-signups-per-hour 0 >"$DATA/server.log" 2>&1 &
PID=$!
for _ in $(seq 300); do curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null && break; sleep 0.1; done
curl -sf "http://127.0.0.1:$PORT/healthz" >/dev/null || { echo "server did not start" >&2; tail -20 "$DATA/server.log" >&2; exit 1; }
echo "server: tokki serve, default limits (--max-signups-per-hour 0), tiny model, pid $PID, ulimit -n $(ulimit -n)"
status=0
"$BIN/abuse" "$PORT" "$PID" "$@" || status=$?
if ! kill -0 "$PID" 2>/dev/null; then
  echo "the server died during the run" >&2
  tail -20 "$DATA/server.log" >&2
  status=1
fi
errors=$(grep -c 'level=error' "$DATA/server.log" || true)
echo "server log: $(wc -l <"$DATA/server.log") lines, $errors at level=error"
if [ -n "${BENCH_KEEP_LOG:-}" ]; then cp "$DATA/server.log" "$BENCH_KEEP_LOG"; fi
exit $status
