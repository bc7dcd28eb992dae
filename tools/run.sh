#!/usr/bin/env bash
# `make run`: serves Tokki with the embedded defaults (SQLite in the data dir).
set -euo pipefail
host=$1 port=$2 data_dir=$3
shift 3
mkdir -p "$data_dir"
exec ./build/bin/tokki serve --host "$host" --port "$port" --data-dir "$data_dir" "$@"
