#!/usr/bin/env bash
# Benchmarks ipdesk as it runs in production: the server with a config file
# whose targets (ISC dhcpd, Kea, dnsmasq, squid access levels, squid blocked
# rooms) are rendered and applied after every change (their validate and
# reload commands are /bin/true, so no daemon is needed), and the timetable
# switcher running on a bell schedule with rooms and lessons today.
#
#   bench/run.sh [postgres://…/postgres]          100,000 hosts
#   bench/run.sh --scale [postgres://…/postgres]  10,000 against 500,000 hosts
#   bench/run.sh --prefixes [postgres://…/postgres]  20,000 next free /24s
#
# Default: a fresh SQLite file. Given a PostgreSQL URL, a fresh database
# ipdesk_bench_PID is created beside the one the URL names (with psql) and
# dropped at the end. Reports the import time, creates per second with one
# and with eight clients (short rounds, and a sustained one of 25 s into
# which the applies of the outputs fall), GETs per second at 32 clients and
# the server's resident memory; --scale reports the create rates at 10,000
# and at 500,000 hosts; --prefixes the rate of taking the next free /24 of
# a /8 container, for each 5,000 of 20,000 in turn (in a space of its own).
# Everything stays on 127.0.0.1.
#
# PROFILE=DIR also writes CPU profiles of the server during each create
# round, the GETs and the import into DIR (see IPDESK_PPROF_LISTEN and
# IPDESK_CPUPROFILE in the README); read
# them with "go tool pprof -top DIR/<round>.pprof".
set -euo pipefail
cd "$(dirname "$0")/.."
scale=false
prefixes=false
if [[ ${1:-} == --scale ]]; then scale=true; shift; fi
if [[ ${1:-} == --prefixes ]]; then prefixes=true; shift; fi
work=$(mktemp -d)
server=
pgdb=
url=${1:-}
cleanup() {
	if [[ -n $server ]]; then kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true; fi
	if [[ -n $pgdb ]]; then psql -q "$url" -c "DROP DATABASE IF EXISTS $pgdb" >/dev/null 2>&1 || true; fi
	rm -rf "$work"
}
trap cleanup EXIT
if [[ -n $url ]]; then
	pgdb=ipdesk_bench_$$
	psql -q "$url" -c "CREATE DATABASE $pgdb" >/dev/null
	db=$(sed -E "s#^(postgres(ql)?://[^/]*)/[^?]*#\1/$pgdb#" <<<"$url")
else
	db=$work/bench.db
fi
port=${PORT:-18090}
base=http://127.0.0.1:$port
export IPDESK_DB=$db IPDESK_ADMIN_PASSWORD=bench-password-123 IPDESK_CONFIG=$work/config.json
profile=${PROFILE:-}
if [[ -n $profile ]]; then
	mkdir -p "$profile"
	profile=$(cd "$profile" && pwd)
	export IPDESK_PPROF_LISTEN=127.0.0.1:$((port + 1))
fi
mkdir -p "$work/out"
o=$work/out
validate='["/bin/true", "{candidate}"]'
cat >"$work/config.json" <<JSON
{
  "log_level": "error",
  "timetable": {"school_days": ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]},
  "targets": [
    {"name": "dhcpd", "kind": "isc-dhcp", "path": "$o/dhcpd.hosts", "validate": $validate, "reload": ["/bin/true"]},
    {"name": "kea", "kind": "kea", "path": "$o/kea.json", "validate": $validate, "reload": ["/bin/true"]},
    {"name": "dnsmasq", "kind": "dnsmasq", "path": "$o/dnsmasq.hosts", "validate": $validate, "reload": ["/bin/true"]},
    {"name": "proxy", "kind": "squid-levels", "level_files": {"1": "$o/level1", "2": "$o/level2", "3": "$o/level3"},
     "validate": $validate, "reload": ["/bin/true"]},
    {"name": "rooms", "kind": "squid-rooms", "hosts_file": "$o/blocked-hosts", "names_file": "$o/blocked-names",
     "validate": $validate, "reload": ["/bin/true"]}
  ]
}
JSON
go build -o "$work/ipdesk" ./cmd/ipdesk
go build -o "$work/gen" ./bench/gen
go build -o "$work/load" ./bench/load
ipdesk() { "$work/ipdesk" "$@"; }
# A bell schedule over the whole day, so that lessons run whenever this runs.
ipdesk periods set 1=00:00-03:59 2=04:00-07:59 3=08:00-11:59 4=12:00-15:59 5=16:00-19:59 6=20:00-23:59 >/dev/null
"$work/ipdesk" serve --listen 127.0.0.1:$port &
server=$!
for i in $(seq 1 600); do
	curl -fsS "$base/healthz" >/dev/null 2>&1 && break
	kill -0 "$server" || { echo "bench: the server did not start" >&2; exit 1; }
	sleep 0.2
done
token=$(ipdesk token create --user admin)
api() { curl -sS --fail-with-body -H "Authorization: Bearer $token" -H 'Content-Type: application/json' "$@"; }
id() { sed -E 's/^\{"id":([0-9]+).*/\1/'; }
api -X POST "$base/api/v1/spaces" -d '{"name":"bench"}' >/dev/null
if $scale; then
	api -X POST "$base/api/v1/prefixes" -d '{"space_id":1,"prefix":"10.0.0.0/13"}' >/dev/null
else
	api -X POST "$base/api/v1/prefixes" -d '{"space_id":1,"prefix":"10.0.0.0/15"}' >/dev/null
fi
# The subnets of the create rounds: prefix 2 for the short rounds, 3 to 5
# for the sustained ones.
for p in 10.9.0.0/16 10.10.0.0/16 10.11.0.0/16 10.12.0.0/16; do
	api -X POST "$base/api/v1/prefixes" -d "{\"space_id\":1,\"prefix\":\"$p\"}" >/dev/null
done
site=$(api -X POST "$base/api/v1/locations" -d '{"kind":"site","name":"School"}' | id)
building=$(api -X POST "$base/api/v1/locations" -d "{\"kind\":\"building\",\"name\":\"Main\",\"parent_id\":$site}" | id)
today=$(date +%F)
tomorrow=$(date -d tomorrow +%F)
for r in $(seq 1 20); do
	room=$(api -X POST "$base/api/v1/locations" -d "{\"kind\":\"room\",\"name\":\"R$r\",\"parent_id\":$building}" | id)
	for d in $today $tomorrow; do
		api -X POST "$base/api/v1/lessons" -d "{\"room_id\":$room,\"date\":\"$d\",\"period\":$((r % 3 + 1)),\"last_period\":$((r % 3 + 4)),\"course\":\"Course $r\",\"teacher\":\"T$r\"}" >/dev/null
	done
done
rss() { echo "server resident memory: $(awk '/VmRSS/ {print $2/1024 " MB"}' /proc/$server/status) (peak $(awk '/VmHWM/ {print $2/1024 " MB"}' /proc/$server/status))"; }
import() { # N SKIP
	"$work/gen" -n "$1" -skip "$2" >"$work/hosts.csv"
	local t real user sys
	local prof=
	[[ -n $profile ]] && prof=$profile/import-$1.pprof
	t=$( { TIMEFORMAT='%R %U %S'; time IPDESK_CPUPROFILE=$prof "$work/ipdesk" import hosts "$work/hosts.csv" >/dev/null 2>"$work/import.err"; } 2>&1 ) ||
		{ cat "$work/import.err" >&2; return 1; }
	read -r real user sys <<<"$t"
	echo "import of $1 hosts from CSV (after $2): $real s (the import's CPU: $user s user + $sys s system)"
}
# Waits for the outputs to be applied after an import: the watcher notices
# the import within its poll interval (2 s), and an apply of 500,000 hosts
# takes longer than any fixed pause would allow for, so this waits until
# two looks a second apart find no output dirty or running.
settle() {
	sleep 3
	# On PostgreSQL the server also moves the imported hosts into the
	# search index (RunSearchIndexer); the rounds start after that too.
	if [[ -n $pgdb ]]; then
		for _ in $(seq 1 600); do
			[[ $(psql -qtA "$db" -c "SELECT COUNT(*) FROM address_search_pending") == 0 ]] && break
			sleep 1
		done
		# And it vacuums the database, as after any bulk load: otherwise
		# PostgreSQL's autovacuum takes up the imported rows at a moment of
		# its choosing (within its one-minute nap), often in the middle of
		# a round, which it then slows down many times over (at 500,000
		# hosts once 83 creates per second, PostgreSQL's CPU 10 ms each).
		# (The shared catalogs, which only a superuser may vacuum, are left
		# out without a warning for each.)
		PGOPTIONS="-c client_min_messages=error" psql -q "$db" -c "VACUUM (ANALYZE)" >/dev/null
		# And it ends with a checkpoint: the WAL of a bulk load calls for
		# checkpoints, which otherwise write the loaded pages out during
		# the rounds (at 490,000 hosts three of 10-20 s each, the create
		# rate down by up to half). CHECKPOINT needs the pg_checkpoint
		# role (PostgreSQL 15) or a superuser.
		psql -q "$db" -c CHECKPOINT >/dev/null 2>&1 ||
			echo "bench: no CHECKPOINT (GRANT pg_checkpoint TO the user of the URL): checkpoints the import calls for may fall into the rounds" >&2
	fi
	local clean=0
	for _ in $(seq 1 600); do
		local state
		state=$(api "$base/api/v1/outputs?diff=false") || return 1
		if grep -q '"dirty":true\|"running":true' <<<"$state"; then
			clean=0
		else
			clean=$((clean + 1))
			[[ $clean -ge 2 ]] && return 0
		fi
		sleep 1
	done
	echo "the outputs were still being applied after 10 minutes" >&2
	return 1
}
# The server's CPU time so far in ms: on a shared machine the CPU a request
# costs is steadier than the requests a second.
cpu() { awk '{print ($14 + $15) * 10}' "/proc/$server/stat"; }
# The CPU time in ms that the PostgreSQL server's processes on this machine
# spent so far (0 on SQLite): with one client, a create's time is the
# server's, PostgreSQL's and the client's, one after the other.
pgcpu() {
	[[ -n $pgdb ]] || { echo 0; return; }
	local f s=0
	for f in /proc/[0-9]*/comm; do
		[[ $(cat "$f" 2>/dev/null) == postgres ]] || continue
		s=$((s + $(awk '{print $14 + $15}' "${f%comm}stat" 2>/dev/null || echo 0)))
	done
	echo $((s * 10))
}
# profiled NAME SECONDS: a CPU profile of the server into $profile/NAME.pprof.
profiled() { curl -sS -o "$profile/$1.pprof" "http://$IPDESK_PPROF_LISTEN/debug/pprof/profile?seconds=$2"; }
# creates N CLIENTS TAG [SUBNET [FOR]]: a create round of N creates (or as
# many as fit in FOR, such as 20s) in the prefix SUBNET (default 2), with
# the server's CPU per create.
creates() {
	local before pgbefore prof= since out n
	before=$(cpu)
	pgbefore=$(pgcpu)
	since=$(date -u +%FT%T.%NZ)
	# (a sustained round is profiled for 20 s, so that its applies are in)
	[[ -n $profile ]] && { profiled "$3" "$([[ -n ${5:-} ]] && echo 20 || echo 4)" & prof=$!; }
	out=$("$work/load" -url "$base" -token "$token" -subnet "${4:-2}" -creates "$1" -create-for "${5:-0}" -create-clients "$2" -tag "$3" -duration 0)
	echo "$out"
	n=$(sed -E 's/^[^:]*: ([0-9]+) in .*/\1/' <<<"$out")
	[[ -n $prof ]] && wait "$prof"
	echo "  server CPU: $(( ($(cpu) - before) * 1000 / n )) µs per create (with the applies the creates cause)"
	[[ -z $pgdb ]] || echo "  PostgreSQL CPU: $(( ($(pgcpu) - pgbefore) * 1000 / n )) µs per create (all its processes on this machine)"
	applies "$since"
}
# sustained CLIENTS TAG SUBNET: creates for 25 s, longer than the outputs'
# longest wait (10 s), so that the applies they cause fall into the round,
# as under a steady stream of changes in production. SUBNET is a /16 of
# its own, so that the hosts imported later keep their addresses.
sustained() { creates 65000 "$1" "$2" "$3" 25s; }
# applies SINCE: the applies of the outputs that started since SINCE (RFC
# 3339), and their time (render, write, validate and reload of a target)
# in all: an apply renders every host, so whether one falls into a round
# moves its figure, the more so with more hosts.
applies() {
	local runs
	runs=$(api "$base/api/v1/apply-runs?since=$1&limit=500") || return 1
	{ grep -o '"duration":[0-9]*' <<<"$runs" || true; } | awk -F: '{n++; s += $2} END {printf "  applies that started during the round: %d, %.2f s in all\n", n, s / 1e9}'
}
label=SQLite
[[ -n $url ]] && label=PostgreSQL
echo "database: $label; $(nproc) cores; load average $(cut -d' ' -f1-3 /proc/loadavg); $(date -u +%FT%TZ)"
if $prefixes; then
	space=$(api -X POST "$base/api/v1/spaces" -d '{"name":"prefixes"}' | id)
	container=$(api -X POST "$base/api/v1/prefixes" -d "{\"space_id\":$space,\"prefix\":\"10.0.0.0/8\",\"kind\":\"container\"}" | id)
	"$work/load" -url "$base" -token "$token" -prefixes 20000 -container "$container" -creates 0 -duration 0
	rss
	exit 0
fi
if $scale; then
	import 10000 0
	settle
	creates 3000 1 small1
	creates 3000 8 small8
	sustained 8 small-sustained 3
	import 490000 16000
	settle
	creates 3000 1 big1
	creates 3000 8 big8
	settle
	sustained 8 big-sustained 4
	[[ -n $profile ]] && curl -sS -o "$profile/allocs-scale.pprof" "http://$IPDESK_PPROF_LISTEN/debug/pprof/allocs"
	rss
	exit 0
fi
import 100000 0
settle
# The memory the applies after the import allocated (go tool pprof
# -sample_index=alloc_space).
[[ -n $profile ]] && curl -sS -o "$profile/allocs-import.pprof" "http://$IPDESK_PPROF_LISTEN/debug/pprof/allocs"
creates 3000 1 one
creates 3000 8 eight
before=$(cpu)
pgbefore=$(pgcpu)
prof=
[[ -n $profile ]] && { profiled gets 6 & prof=$!; }
"$work/load" -url "$base" -token "$token" -creates 0 -clients 32 -duration 10s
[[ -n $prof ]] && wait "$prof"
echo "  server CPU: $(( ($(cpu) - before) / 10 )) ms per second of GETs"
[[ -z $pgdb ]] || echo "  PostgreSQL CPU: $(( ($(pgcpu) - pgbefore) / 10 )) ms per second of GETs (all its processes on this machine)"
[[ -n $profile ]] && cp /proc/$server/smaps "$profile/smaps" && curl -sS -o "$profile/heap.pprof" "http://$IPDESK_PPROF_LISTEN/debug/pprof/heap" && curl -sS -o "$profile/heap.txt" "http://$IPDESK_PPROF_LISTEN/debug/pprof/heap?debug=1"
rss
# Then sustained rounds with one and with eight clients (which add up to
# 130,000 hosts) and the memory after them.
settle
sustained 1 sustained1 5
settle
sustained 8 sustained8 3
rss
