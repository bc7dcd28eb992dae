#!/usr/bin/env bash
# Web app: gzipped size of the initial JavaScript and CSS (target <= 150 KB).
set -euo pipefail
cd "$(dirname "$0")/../../web"
[ -d dist ] || npm run build >/dev/null
node scripts/size.mjs
