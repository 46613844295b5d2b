#!/usr/bin/env bash
# Caller-ID load test: builds ipdesk, starts it on a fresh database (SQLite
# by default, or the postgres:// URL given as $1) with caller-ID configured,
# imports generated hosts whose phones the calls match, opens STREAMS
# (default 1000) live event streams and runs bench/calls: the latency from
# GET /set_call to the event in every stream, and the intake rate with the
# streams open. Everything stays on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
work=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$work"' EXIT
db=${1:-$work/bench.db}
port=${PORT:-18091}
streams=${STREAMS:-1000}
pbx=bench-pbx-token-0123456789
cat > "$work/ipdesk.json" <<JSON
{"callerid": {"pbx_tokens": ["$pbx"], "allowed_sources": ["127.0.0.0/8"],
  "country_code": "49", "international_prefix": "00", "trunk_prefix": "0", "extension_digits": 4,
  "rate_limit": 1000000, "rate_burst": 1000000, "max_streams_per_user": $((streams + 10))}}
JSON
export IPDESK_DB=$db IPDESK_CONFIG=$work/ipdesk.json IPDESK_ADMIN_PASSWORD=bench-password-123
go build -o "$work/ipdesk" ./cmd/ipdesk
go build -o "$work/calls" ./bench/calls
go run ./bench/gen -n 5000 > "$work/hosts.csv"
"$work/ipdesk" serve --listen 127.0.0.1:$port --log-level error &
server=$!
for _ in $(seq 1 50); do curl -fsS "http://127.0.0.1:$port/healthz" >/dev/null 2>&1 && break; sleep 0.2; done
token=$("$work/ipdesk" token create --user admin)
api() { curl -fsS -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@" >/dev/null; }
api -X POST "http://127.0.0.1:$port/api/v1/spaces" -d '{"name":"bench"}'
api -X POST "http://127.0.0.1:$port/api/v1/prefixes" -d '{"space_id":1,"prefix":"10.0.0.0/15"}'
"$work/ipdesk" import hosts "$work/hosts.csv" >/dev/null
"$work/calls" -url "http://127.0.0.1:$port" -token "$token" -pbx-token "$pbx" -streams "$streams" -pid "$server" "${@:2}"
echo "server resident memory: $(grep VmRSS /proc/$server/status | awk '{print $2/1024 " MB"}') (peak $(grep VmHWM /proc/$server/status | awk '{print $2/1024 " MB"}'))"
