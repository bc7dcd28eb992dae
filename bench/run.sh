#!/usr/bin/env bash
# `make bench`: every benchmark, printing figures. Not a pass/fail test.
set -euo pipefail
cd "$(dirname "$0")/.."
for b in bench/*/run.sh; do
  [ -f "$b" ] || continue
  echo "==> $b"
  bash "$b" || echo "(benchmark $b failed)"
done
