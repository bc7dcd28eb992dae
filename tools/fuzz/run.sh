#!/usr/bin/env bash
# Builds a persona fuzzer with clang (libFuzzer + ASan + UBSan), separately from the CMake
# build, and runs it for SECONDS (default 60). Two targets (TARGET, default card):
#   card   ImportCard/ExportCard and what consumes them (card_fuzz.cc). Seeds:
#          tests/persona/fixtures and, when present, ../shared/cards (or $SHARED_CARDS).
#          Output in build-fuzz/: corpus/, artifacts/ (crashes), fuzz.log.
#   image  SanitizeImage (image_fuzz.cc). Seeds: written by image_seeds.cc, plus the
#          fixture PNGs. Output in build-fuzz/image/: the same layout.
#   bash tools/fuzz/run.sh 600
#   bash tools/fuzz/run.sh 180 image
# Extra libFuzzer flags: FUZZ_ARGS="-malloc_limit_mb=256".
# Needs clang-14 and libclang-rt-14-dev (tools/deps/apt/persona.txt).
set -euo pipefail
seconds=${1:-60}
target=${2:-${TARGET:-card}}
root=$(cd "$(dirname "$0")/../.." && pwd)
base=${FUZZ_OUT:-$root/build-fuzz}
cxx=${CXX_FUZZ:-clang++-14}
libs="libpng libjpeg libwebp libwebpdemux libzip re2 zlib"
case "$target" in
  card) out=$base ;;
  image) out=$base/image ;;
  *) echo "[fuzz] unknown target '$target' (card or image)" >&2; exit 2 ;;
esac
mkdir -p "$out/corpus" "$out/seeds" "$out/artifacts"

echo "[fuzz] building $out/${target}_fuzz with $cxx" >&2
# shellcheck disable=SC2086
"$cxx" -std=c++20 -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
  -I"$root/src" \
  "$root/tools/fuzz/${target}_fuzz.cc" "$root"/src/persona/*.cc \
  "$root/src/core/status.cc" "$root/src/core/text.cc" \
  $(pkg-config --cflags --libs $libs) \
  -o "$out/${target}_fuzz"

# Seeds are copied or written into the build folder (never into the repository).
if [ "$target" = card ]; then
  cp -f "$root"/tests/persona/fixtures/*.{json,png,charx} "$out/seeds/" 2>/dev/null || true
  shared=${SHARED_CARDS:-$root/../shared/cards}
  if [ -d "$shared" ]; then
    for f in "$shared"/*.json "$shared"/*.png "$shared"/*.charx; do
      [ -f "$f" ] || continue
      # Large files only slow the fuzzer down; their structure is covered by small ones.
      [ "$(stat -c %s "$f")" -le 262144 ] && cp -f "$f" "$out/seeds/"
    done
  fi
else
  "$cxx" -std=c++20 -O1 -I"$root/tests/persona" "$root/tools/fuzz/image_seeds.cc" \
    $(pkg-config --cflags --libs libjpeg libwebp libwebpmux zlib) -o "$out/image_seeds"
  "$out/image_seeds" "$out/seeds"
  cp -f "$root"/tests/persona/fixtures/*.png "$out/seeds/"
fi

echo "[fuzz] running for ${seconds}s; seeds: $(ls "$out/seeds" | wc -l)" >&2
set +e
"$out/${target}_fuzz" "$out/corpus" "$out/seeds" \
  -dict="$root/tools/fuzz/${target}.dict" \
  -max_total_time="$seconds" -max_len=262144 -timeout=20 -rss_limit_mb=2560 \
  -artifact_prefix="$out/artifacts/" -print_final_stats=1 ${FUZZ_ARGS:-} 2>&1 | tee "$out/fuzz.log" | \
  grep -E "^#[0-9]+ +(pulse|NEW|REDUCE|DONE)|ERROR|SUMMARY|stat::|contract violation" | \
  awk 'NR % 20 == 1 || /ERROR|SUMMARY|stat::|DONE|contract/'
rc=${PIPESTATUS[0]}
set -e
n_crash=$(ls "$out/artifacts" | wc -l)
echo "[fuzz] exit=$rc artifacts=$n_crash (in $out/artifacts)" >&2
exit "$rc"
