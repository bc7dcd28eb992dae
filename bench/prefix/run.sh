#!/usr/bin/env bash
# What a persona prefix copy across KV streams costs against prefilling it again, and the
# same with the unified cache (docs/engine.md, "KV layout").
set -euo pipefail
cd "$(dirname "$0")/../.."
model=build/models/smol-q8_0.gguf
mkdir -p build/models
[ -f "$model" ] || build/bin/tokki model gen --preset smol --type q8_0 -o "$model" >/dev/null
runs=7
[ "${BENCH_QUICK:-0}" = 1 ] && runs=3
exec build/bin/prefix_copy --model "$model" --runs "$runs" "$@"
