#!/usr/bin/env bash
# Memory: recall@prompt of facts planted early in 10,000-message conversations (Korean,
# English, Chinese), probed through the prompt inspector's code path with BM25 recall and
# with an embedding model on the engine ("hybrid"); then `tokki serve` over HTTP with
# --memory true and false: prompt-cache hit rate and TTFT. Prints figures; not a test.
# Models: the generated `smol` Q8_0 (chat, tokenizer; as bench/charchat) and the generated
# `tiny` f16 with mean pooling (embeddings: random weights, so what it finds is chance; the
# figures are of the code path, and tiny keeps embedding 30,000 messages short).
# BENCH_QUICK=1: a short pass (2,000 messages, 3 users x 12 turns). Extra arguments go to
# memory_bench.
set -euo pipefail
cd "$(dirname "$0")/../.."
[ -x build/bin/memory_bench ] && [ -x build/bin/tokki ] || {
  echo "build first: make build (or cmake --build build --target memory_bench tokki)" >&2
  exit 1
}
model=build/models/smol-q8_0.gguf
embed=build/models/tiny-f16-mean.gguf
mkdir -p build/models
[ -f "$model" ] || build/bin/tokki model gen --preset smol --type q8_0 -o "$model" >/dev/null
[ -f "$embed" ] || build/bin/tokki model gen --preset tiny --type f16 --pooling mean -o "$embed" >/dev/null
if [ "${BENCH_QUICK:-0}" = 1 ]; then
  exec timeout 600 build/bin/memory_bench --model "$model" --embed-model "$embed" --quick "$@"
fi
exec timeout 3600 build/bin/memory_bench --model "$model" --embed-model "$embed" "$@"
