#!/usr/bin/env bash
# `make test`: every test CI runs. The C++ suites run under CTest (labels: model, server,
# e2e mark the ones that need a model, a server or a browser); the web app's unit tests
# and its browser suite run through npm.
set -euo pipefail
cd "$(dirname "$0")/.."
status=0
ctest --test-dir build --output-on-failure -j 2 --timeout 600 || status=1
if [ -f web/package.json ]; then
  (cd web && npm test) || status=1
fi
exit $status
