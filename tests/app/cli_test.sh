#!/usr/bin/env bash
# The `tokki` command line: help texts name every documented flag, and a config file,
# environment variables and flags are applied with flags > file > environment.
set -euo pipefail
bin=$1
fail() { echo "FAIL: $*"; exit 1; }
help=$("$bin" --help)
for cmd in serve admin; do grep -q "$cmd" <<<"$help" || fail "tokki --help does not list $cmd"; done
shelp=$("$bin" serve --help)
for flag in --host --port --data-dir --model --backend-url --backend-model --backend-key --embed-model \
  --embed-url --embed-backend-model --embed-key --config; do
  grep -q -- "$flag" <<<"$shelp$help" || fail "serve --help lacks $flag"
done
dir=$(mktemp -d)
trap 'kill $(jobs -p) 2>/dev/null || true; rm -rf "$dir"' EXIT
free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_up() { for _ in $(seq 100); do curl -sf "http://127.0.0.1:$1/healthz" >/dev/null && return 0; sleep 0.1; done; return 1; }
p1=$(free_port); p2=$(free_port)
printf '[serve]\nport = %s\ndata-dir = "%s/a"\ncatalog-dir = "none"\n' "$p1" "$dir" >"$dir/tokki.toml"
TOKKI_PORT=1 "$bin" serve --config "$dir/tokki.toml" >"$dir/a.log" 2>&1 &
wait_up "$p1" || { cat "$dir/a.log"; fail "config file port $p1 not used"; }
[ -f "$dir/a/tokki.db" ] || fail "config file data-dir not used"
"$bin" serve --config "$dir/tokki.toml" --port "$p2" >"$dir/b.log" 2>&1 &
wait_up "$p2" || { cat "$dir/b.log"; fail "flag did not win over the config file"; }
p3=$(free_port)
TOKKI_PORT=$p3 TOKKI_DATA_DIR="$dir/c" TOKKI_CATALOG_DIR=none "$bin" serve >"$dir/c.log" 2>&1 &
wait_up "$p3" || { cat "$dir/c.log"; fail "TOKKI_PORT not used"; }
[ -f "$dir/c/tokki.db" ] || fail "TOKKI_DATA_DIR not used"
"$bin" serve --port "$p3" --data-dir "$dir/d" --catalog-dir none >"$dir/d.log" 2>&1 && fail "a busy port must fail"
grep -q "cannot listen" "$dir/d.log" || fail "no clear error for a busy port"
# tokki admin: the first admin signs in with the admin role; bad roles and names are clear errors.
"$bin" admin create-user --data-dir "$dir/c" --username root --password 'admin-password' --role admin \
  | grep -q "created admin root" || fail "admin create-user"
token=$(curl -sf -H 'Content-Type: application/json' -d '{"username":"root","password":"admin-password"}' \
  "http://127.0.0.1:$p3/api/auth/login" | python3 -c 'import json,sys; print(json.load(sys.stdin)["token"])')
curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$p3/api/me" | grep -q '"role":"admin"' \
  || fail "the admin made by tokki admin is not an admin"
metrics=$(curl -sf -H "Authorization: Bearer $token" "http://127.0.0.1:$p3/metrics") || fail "an admin cannot read /metrics"
grep -q tokki_db_queries_total <<<"$metrics" || fail "/metrics lacks the store figures"
"$bin" admin set-role --data-dir "$dir/c" --username root --role wizard 2>"$dir/e.log" && fail "a bad role must fail"
grep -q "role must be" "$dir/e.log" || fail "no clear error for a bad role"
"$bin" admin set-role --data-dir "$dir/c" --username nobody --role moderator 2>"$dir/e.log" && fail "an unknown user must fail"
"$bin" admin set-role --data-dir "$dir/c" --username root --role moderator | grep -q "now moderator" || fail "set-role"
# Embeddings: they need a chat engine, a bad embedding model is a clear start-up error, and
# a good one is reported by /api/server.
"$bin" serve --port "$(free_port)" --data-dir "$dir/e" --catalog-dir none --embed-model "$dir/none.gguf" \
  2>"$dir/f.log" && fail "--embed-model without a chat model must fail"
grep -q "need a chat engine" "$dir/f.log" || fail "no clear error for --embed-model without a chat model"
"$bin" model gen --preset tiny -o "$dir/tiny.gguf" >/dev/null || fail "model gen"
"$bin" serve --port "$(free_port)" --data-dir "$dir/e" --catalog-dir none --model "$dir/tiny.gguf" \
  --embed-model "$dir/none.gguf" 2>"$dir/f.log" && fail "a missing embedding model must fail"
grep -q "embedding model.*not found" "$dir/f.log" || { cat "$dir/f.log"; fail "no clear error for a missing embedding model"; }
p4=$(free_port)
"$bin" serve --port "$p4" --data-dir "$dir/e" --catalog-dir none --model "$dir/tiny.gguf" --ctx-size 1024 \
  --parallel 2 --embed-model "$dir/tiny.gguf" >"$dir/g.log" 2>&1 &
wait_up "$p4" || { cat "$dir/g.log"; fail "serve with --embed-model did not start"; }
curl -sf "http://127.0.0.1:$p4/api/server" | grep -q '"embeddings":true' || fail "/api/server does not report embeddings"
echo "cli: 1 passed, 0 failed"
