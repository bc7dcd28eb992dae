#!/usr/bin/env bash
# Clang's thread-safety analysis over Tokki's libraries: every TOKKI_GUARDED_BY member is
# read and written only with its tokki::Mutex held, TOKKI_REQUIRES functions are called
# with it, TOKKI_EXCLUDES ones without (src/core/mutex.h). Builds tokki_app and every
# library under it with clang-14 in build-tsa/ and fails on any thread-safety warning.
# With llama.cpp when its cache exists (tools/deps/llama.sh), so the engine is checked too.
# Uses ccache when installed; reruns rebuild only what changed.
#
#   tools/check/thread_safety.sh    (run by `make test`; JOBS=N to change parallelism)
set -uo pipefail
cd "$(dirname "$0")/../.."
dir=build-tsa
jobs=${JOBS:-2}
start=$(date +%s)

for tool in clang-14 clang++-14 cmake; do
  command -v "$tool" >/dev/null || { echo "[thread-safety] $tool is not installed (tools/deps/apt.sh)" >&2; exit 1; }
done

args=(-DCMAKE_C_COMPILER=clang-14 -DCMAKE_CXX_COMPILER=clang++-14
  "-DCMAKE_CXX_FLAGS=-Wthread-safety -Werror=thread-safety" -DCMAKE_BUILD_TYPE=
  -DTOKKI_BUILD_TESTS=OFF -DTOKKI_BUILD_BENCH=OFF)
if prefix=$(bash tools/deps/llama.sh --cached); then
  args+=(-DTOKKI_WITH_LLAMA=ON "-DCMAKE_PREFIX_PATH=$prefix")
else
  args+=(-DTOKKI_WITH_LLAMA=OFF)
  echo "[thread-safety] llama.cpp is not built yet: the embedded engine is not checked" >&2
fi
launcher=
command -v ccache >/dev/null && launcher=ccache
args+=("-DCMAKE_C_COMPILER_LAUNCHER=$launcher" "-DCMAKE_CXX_COMPILER_LAUNCHER=$launcher")
generator=()
command -v ninja >/dev/null && generator=(-G Ninja)

# Configure when the directory is new or the settings changed.
cmake_gen=()
stamp="$dir/.tokki-thread-safety-args"
if [ ! -f "$dir/CMakeCache.txt" ] || [ "$(cat "$stamp" 2>/dev/null)" != "${args[*]}" ]; then
  [ -f "$dir/CMakeCache.txt" ] || cmake_gen=("${generator[@]}")
  mkdir -p "$dir"
  if ! cmake -S . -B "$dir" "${cmake_gen[@]}" "${args[@]}" >"$dir/configure.log" 2>&1; then
    tail -30 "$dir/configure.log" >&2
    echo "[thread-safety] FAILED: cannot configure $dir (log: $dir/configure.log)" >&2
    exit 1
  fi
  printf '%s' "${args[*]}" >"$stamp"
fi

log="$dir/thread_safety.log"
# Keep going after a failed file, so one run reports every finding.
keep_going=(-k)
grep -q '^CMAKE_GENERATOR:INTERNAL=Ninja' "$dir/CMakeCache.txt" && keep_going=(-k 0)
cmake --build "$dir" -j "$jobs" --target tokki_app -- "${keep_going[@]}" >"$log" 2>&1
rc=$?
finding='(warning|error): .*\[-W(error,-W)?thread-safety'
n_warnings=$(grep -cE "$finding" "$log")
if [ $rc -ne 0 ] || [ "$n_warnings" -ne 0 ]; then
  if [ "$n_warnings" -ne 0 ]; then
    grep -E -A3 "$finding" "$log" | grep -v '^--$' >&2
    echo "[thread-safety] FAILED: $n_warnings thread-safety finding(s) (log: $log)" >&2
  else
    tail -40 "$log" >&2
    echo "[thread-safety] FAILED: the clang build failed (log: $log)" >&2
  fi
  exit 1
fi
echo "[thread-safety] ok: no thread-safety findings in tokki_app and its libraries ($(($(date +%s) - start)) s)"
