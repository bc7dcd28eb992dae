#!/usr/bin/env bash
# CharChat-MT (../shared/docs/bench.md): Tokki's embedded engine against llama-server on
# the same generated `smol` model, alternating in one run. BENCH_QUICK=1 for a short run.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=build/models/smol-q8_0.gguf
mkdir -p build/models
[ -f "$model" ] || build/bin/tokki model gen --preset smol --type q8_0 -o "$model" >/dev/null
args=(--model "$model")
[ "${BENCH_QUICK:-0}" = 1 ] && args+=(--quick)
exec build/bin/charchat "${args[@]}" "$@"
