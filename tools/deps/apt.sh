#!/usr/bin/env bash
# Installs the Debian packages listed in tools/deps/apt/*.txt that are not installed yet.
# Checks with dpkg-query first, so a machine that has everything does nothing.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
missing=()
for pkg in $(cat "$here"/apt/*.txt | sed 's/#.*//' | tr -s ' \t' '\n' | sort -u); do
  if ! dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$pkg")
  fi
done
# Node.js and npm: the machine's own install is used when present; otherwise Debian's
# (checked for version below).
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
if [ ${#missing[@]} -gt 0 ]; then
  echo "[deps] installing: ${missing[*]}" >&2
  SUDO=""
  [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
fi

# The web app's build tools (Vite 8, Vitest 4) need Node.js 20.19 or newer.
node_version=$(node -p 'process.versions.node' 2>/dev/null || echo 0)
node_major=${node_version%%.*}
node_minor=$(echo "$node_version" | cut -d. -f2)
if [ "$node_major" -lt 20 ] || { [ "$node_major" -eq 20 ] && [ "$node_minor" -lt 19 ]; }; then
  echo "[deps] Node.js $node_version is too old for the web app: install Node.js 20.19 or newer" >&2
  exit 1
fi
