#!/usr/bin/env bash
# Builds ipdesk, starts it on a fresh database (SQLite by default, or the
# postgres:// URL given as $1), imports 100,000 generated hosts through the
# CLI (timed), then runs the API load test and reports the server's resident
# memory. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
db=${1:-$work/bench.db}
port=${PORT:-18090}
export IPDESK_DB=$db IPDESK_ADMIN_PASSWORD=bench-password-123
go build -o "$work/ipdesk" ./cmd/ipdesk
go run ./bench/gen -n 100000 > "$work/hosts.csv"
"$work/ipdesk" serve --listen 127.0.0.1:$port --log-level error &
server=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token=$("$work/ipdesk" token create --user admin)
api() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@" >/dev/null; }
api -X POST "http://127.0.0.1:$port/api/v1/spaces" -d '{"name":"bench"}'
api -X POST "http://127.0.0.1:$port/api/v1/prefixes" -d '{"space_id":1,"prefix":"10.0.0.0/15"}'
api -X POST "http://127.0.0.1:$port/api/v1/prefixes" -d '{"space_id":1,"prefix":"10.9.0.0/16"}'
start=$(date +%s%N)
"$work/ipdesk" import hosts "$work/hosts.csv"
end=$(date +%s%N)
echo "import of 100,000 hosts from CSV: $(( (end - start) / 1000000 )) ms"
go run ./bench/load -url "http://127.0.0.1:$port" -token "$token" -subnet 2 -creates 2000 -clients 32 -duration 10s
echo "server resident memory: $(grep VmRSS /proc/$server/status | awk '{print $2/1024 " MB"}') (peak $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MB"}'))"
