#!/usr/bin/env bash
# `make run`: serves Tokki with the embedded defaults (SQLite in the data dir, embedded
# llama.cpp engine). With no model configured it generates the demo model once: random
# weights, so its replies are noise — the log (and the web app) say so, and how to point
# Tokki at a real GGUF model or an OpenAI-compatible server.
set -euo pipefail
host=$1 port=$2 data_dir=$3
shift 3
mkdir -p "$data_dir"
args=("$@")
has_engine=0
for a in "${args[@]}"; do
  case "$a" in --model|--model=*|--backend-url|--backend-url=*) has_engine=1 ;; esac
done
[ -n "${TOKKI_MODEL:-}" ] || [ -n "${TOKKI_BACKEND_URL:-}" ] && has_engine=1
if [ $has_engine = 0 ]; then
  demo="$data_dir/models/tokki-demo-smol-q8_0.gguf"
  if [ ! -f "$demo" ]; then
    mkdir -p "$data_dir/models"
    echo "No model configured: generating the demo model (random weights, SmolLM2-135M shape) at $demo ..."
    ./build/bin/tokki model gen --preset smol --type q8_0 -o "$demo"
  fi
  echo "Serving the demo model: replies are random noise. For real replies run"
  echo "  make run SERVE_FLAGS='--model /path/to/chat-model.gguf'   or   SERVE_FLAGS='--backend-url http://host:port'"
  args+=(--model "$demo")
fi
exec ./build/bin/tokki serve --host "$host" --port "$port" --data-dir "$data_dir" "${args[@]}"
