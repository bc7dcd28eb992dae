#!/usr/bin/env bash
# Embedding throughput of LlamaEmbedder (in process) and of llama-server --embeddings
# through RemoteEmbedder, on the generated `smol` model (f16) with mean pooling.
set -euo pipefail
cd "$(dirname "$0")/../.."
model=build/models/smol-f16.gguf
mkdir -p build/models
[ -f "$model" ] || build/bin/tokki model gen --preset smol --type f16 -o "$model" >/dev/null
exec build/bin/embed_bench --model "$model" "$@"
