#!/usr/bin/env bash
# CharChat-MT (../shared/docs/bench.md beside the repository). Prints figures; not a test.
#  1. `charchat http` — the mode the targets are judged on: a real `tokki serve` (child on
#     127.0.0.1, temporary data dir) driven over its HTTP API with streamed sends, against
#     llama-server on the same generated `smol` Q8_0 model, alternating in one run.
#  2. `charchat fairness` — through tokki serve with its default per-user limits: users B-D
#     alone, then while user A floods 64 concurrent streamed sends.
# `charchat inproc` (Tokki's engine inside the benchmark process) is a diagnostic and is not
# run here. BENCH_QUICK=1: a short pass, the http mode only (4 users x 2 turns x 16 tokens).
# Extra arguments go to the http mode (e.g. --best-of 2, --mix distinct, --users 8).
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/bin/charchat ] && [ -x build/bin/tokki ] || {
  echo "build first: make build (or cmake --build build --target charchat tokki)" >&2
  exit 1
}
model=build/models/smol-q8_0.gguf
mkdir -p build/models
[ -f "$model" ] || build/bin/tokki model gen --preset smol --type q8_0 -o "$model" >/dev/null
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  exec timeout 300 build/bin/charchat http --model "$model" --quick "$@"
fi
# Each measured run stops by --timeout-s (1800 s); these bound the whole mode.
status=0
timeout 8000 build/bin/charchat http --model "$model" "$@" || status=$?
echo
timeout 4000 build/bin/charchat fairness --model "$model" || status=$?
exit $status
