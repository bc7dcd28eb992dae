#!/usr/bin/env bash
# Fetches llama.cpp at the pinned commit from the node-llama-cpp npm package (which ships
# the upstream source as a git bundle), verifies the commit and builds the static CPU
# libraries (and, with --tools, llama-server / llama-bench / llama-batched-bench).
# The result is cached outside the checkout, keyed by commit, so reruns cost nothing.
#
#   tools/deps/llama.sh            -> prints the install prefix (use as CMAKE_PREFIX_PATH)
#   tools/deps/llama.sh --tools    -> also builds the reference tools, prints their bin dir
#   tools/deps/llama.sh --cached   -> prints the install prefix if it is built; else fails
set -euo pipefail

NPM_PKG="node-llama-cpp@3.22.1"
COMMIT="de3ff815ea7d559ee917f063901b8986f038abc6"
CACHE_ROOT="${TOKKI_CACHE_DIR:-${XDG_CACHE_HOME:-$HOME/.cache}/tokki}"
BASE="$CACHE_ROOT/llama-$COMMIT"
SRC="$BASE/src"
PREFIX="$BASE/install"
JOBS="${JOBS:-$(nproc)}"
want_tools=0
[ "${1:-}" = "--tools" ] && want_tools=1
if [ "${1:-}" = "--cached" ]; then
  [ -f "$PREFIX/.tokki-built" ] || exit 1
  echo "$PREFIX"
  exit 0
fi

log() { echo "[llama.cpp] $*" >&2; }

fetch_source() {
  [ -f "$SRC/.tokki-verified" ] && return 0
  log "fetching $NPM_PKG from the npm registry"
  rm -rf "$SRC" "$BASE/tmp"
  mkdir -p "$BASE/tmp"
  (cd "$BASE/tmp" && npm pack --silent "$NPM_PKG" >/dev/null)
  tar -xzf "$BASE"/tmp/node-llama-cpp-*.tgz -C "$BASE/tmp" package/llama/gitRelease.bundle
  git clone --quiet --no-checkout "$BASE/tmp/package/llama/gitRelease.bundle" "$SRC"
  (cd "$SRC" && git -c advice.detachedHead=false checkout --quiet "$COMMIT")
  local head
  head=$(git -C "$SRC" rev-parse HEAD)
  if [ "$head" != "$COMMIT" ]; then
    log "commit mismatch: expected $COMMIT, got $head"; exit 1
  fi
  rm -rf "$BASE/tmp"
  touch "$SRC/.tokki-verified"
  log "source verified at $COMMIT"
}

common_flags=(-DCMAKE_BUILD_TYPE=Release -DBUILD_SHARED_LIBS=OFF -DGGML_NATIVE=ON
  -DLLAMA_OPENSSL=OFF -DLLAMA_CURL=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF
  -DGGML_CUDA=OFF -DGGML_METAL=OFF -DGGML_VULKAN=OFF -DCMAKE_POSITION_INDEPENDENT_CODE=ON
  -DLLAMA_BUILD_APP=OFF -DLLAMA_BUILD_UI=OFF -DLLAMA_USE_PREBUILT_UI=OFF)

build_libs() {
  [ -f "$PREFIX/.tokki-built" ] && return 0
  fetch_source
  log "building static libraries ($JOBS jobs, a few minutes once)"
  cmake -S "$SRC" -B "$BASE/build" "${common_flags[@]}" -DLLAMA_BUILD_TOOLS=OFF \
    -DLLAMA_BUILD_SERVER=OFF -DCMAKE_INSTALL_PREFIX="$PREFIX" >"$BASE/configure.log" 2>&1 \
    || { tail -30 "$BASE/configure.log" >&2; exit 1; }
  cmake --build "$BASE/build" -j "$JOBS" >"$BASE/build.log" 2>&1 || { tail -40 "$BASE/build.log" >&2; exit 1; }
  cmake --install "$BASE/build" >/dev/null
  touch "$PREFIX/.tokki-built"
  log "installed to $PREFIX"
}

build_tools() {
  [ -f "$BASE/tools/.tokki-built" ] && return 0
  fetch_source
  log "building llama-server, llama-bench, llama-batched-bench (once)"
  cmake -S "$SRC" -B "$BASE/build-tools" "${common_flags[@]}" -DLLAMA_BUILD_TOOLS=ON \
    -DLLAMA_BUILD_EXAMPLES=ON -DLLAMA_BUILD_SERVER=ON >"$BASE/configure-tools.log" 2>&1 \
    || { tail -30 "$BASE/configure-tools.log" >&2; exit 1; }
  cmake --build "$BASE/build-tools" -j "$JOBS" --target llama-server llama-bench llama-batched-bench \
    >"$BASE/build-tools.log" 2>&1 || { tail -40 "$BASE/build-tools.log" >&2; exit 1; }
  mkdir -p "$BASE/tools"
  cp "$BASE"/build-tools/bin/llama-{server,bench,batched-bench} "$BASE/tools/"
  touch "$BASE/tools/.tokki-built"
}

mkdir -p "$BASE"
exec 9>"$BASE/.lock"
flock 9
build_libs
if [ $want_tools = 1 ]; then build_tools; echo "$BASE/tools"; else echo "$PREFIX"; fi
