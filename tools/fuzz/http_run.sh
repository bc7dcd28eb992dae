#!/usr/bin/env bash
# Builds the HTTP request-path fuzzer (tools/fuzz/http_fuzz.cc) with clang-14, libFuzzer,
# ASan and UBSan in build-fuzz-http/, and runs it for SECONDS (default 60) against a real
# in-process server on 127.0.0.1. Output: build-fuzz-http/{corpus,artifacts,fuzz.log}.
#   bash tools/fuzz/http_run.sh 600
set -euo pipefail
seconds=${1:-60}
root=$(cd "$(dirname "$0")/../.." && pwd)
out=${FUZZ_OUT:-$root/build-fuzz-http}
mkdir -p "$out/corpus" "$out/artifacts"
launcher=""
command -v ccache >/dev/null && launcher="-DCMAKE_CXX_COMPILER_LAUNCHER=ccache"
echo "[fuzz] building $out/bin/http_fuzz" >&2
cmake -S "$root" -B "$out" -DCMAKE_BUILD_TYPE=Debug -DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14 \
  -DTOKKI_FUZZ=ON -DTOKKI_WITH_LLAMA=OFF -DTOKKI_BUILD_TESTS=OFF -DTOKKI_BUILD_BENCH=OFF $launcher >/dev/null
cmake --build "$out" --target http_fuzz -j "$(nproc)" >/dev/null
echo "[fuzz] running for ${seconds}s" >&2
set +e
"$out/bin/http_fuzz" "$out/corpus" "$root/tools/fuzz/http_seeds" \
  -dict="$root/tools/fuzz/http.dict" -max_total_time="$seconds" -max_len=65536 -timeout=30 \
  -rss_limit_mb=4096 -artifact_prefix="$out/artifacts/" -print_final_stats=1 ${FUZZ_ARGS:-} 2>&1 |
  tee "$out/fuzz.log" | grep -E "^#[0-9]+ +(pulse|DONE)|ERROR|SUMMARY|stat::" | awk 'NR % 10 == 1 || /ERROR|SUMMARY|stat::|DONE/'
rc=${PIPESTATUS[0]}
set -e
echo "[fuzz] exit=$rc artifacts=$(ls "$out/artifacts" | wc -l) (in $out/artifacts)" >&2
exit "$rc"
