#!/usr/bin/env bash
# Discover: likes in the first 20 cards for tokki / popularity / random on a simulated
# population (targets: >= 2x popularity, >= 5x random), next-cards latency at 100,000
# characters and 10,000 users' histories (target p99 <= 20 ms), training time, memory.
set -euo pipefail
cd "$(dirname "$0")/../.."
exec build/bin/bench_discover "$@"
