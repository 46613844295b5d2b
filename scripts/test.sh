#!/usr/bin/env bash
# Runs ipdesk's whole test suite: gofmt, go vet, and go test -race over every
# package, with the storage suite against SQLite and PostgreSQL and the
# integration tests against the real daemons.
#
# On a Debian machine where it runs as root it first installs the system
# packages the tests need. Elsewhere it names what is missing and runs what
# it can. Under CI (CI=true) anything missing is a failure, never a skip.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(postgresql isc-dhcp-server isc-dhcp-client kea-dhcp4-server kea-dhcp6-server dnsmasq squid chromium iproute2 curl busybox udhcpc sudo adduser slapd ldap-utils)
# Commands that tell whether each package is there.
declare -A probe=(
	[postgresql]=/usr/lib/postgresql
	[isc-dhcp-server]=/usr/sbin/dhcpd
	[isc-dhcp-client]=/usr/sbin/dhclient
	[kea-dhcp4-server]=/usr/sbin/kea-dhcp4
	[kea-dhcp6-server]=/usr/sbin/kea-dhcp6
	[dnsmasq]=/usr/sbin/dnsmasq
	[squid]=/usr/sbin/squid
	[chromium]=/usr/bin/chromium
	[iproute2]=/usr/sbin/ip
	[curl]=/usr/bin/curl
	[busybox]=/bin/busybox
	[udhcpc]=/usr/sbin/udhcpc
	[sudo]=/usr/bin/sudo
	[adduser]=/usr/sbin/adduser
	[slapd]=/usr/sbin/slapd
	[ldap-utils]=/usr/bin/ldapadd
)
missing=()
for p in "${packages[@]}"; do
	[ -e "${probe[$p]}" ] || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
	if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
		echo "== installing ${missing[*]}"
		export DEBIAN_FRONTEND=noninteractive
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
	elif [ "${CI:-}" = true ]; then
		echo "missing packages under CI: ${missing[*]}" >&2
		exit 1
	else
		echo "== not installed (tests that need them will be skipped): ${missing[*]}"
	fi
fi

# PostgreSQL for the storage suite: start the local cluster if needed.
if [ -z "${IPDESK_TEST_POSTGRES:-}" ] && ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1 && [ "$(id -u)" = 0 ]; then
	ver=$(ls /usr/lib/postgresql | sort -n | tail -1)
	if ! pg_lsclusters -h 2>/dev/null | grep -q online; then
		pg_lsclusters -h | grep -q "^$ver main" || pg_createcluster "$ver" main >/dev/null
		pg_ctlcluster "$ver" main start
	fi
	for _ in $(seq 1 30); do
		su postgres -c "psql -qAtc 'select 1'" >/dev/null 2>&1 && break
		sleep 1
	done
	# A role of the test suite's own, so no existing password is touched.
	su postgres -c "psql -q -v ON_ERROR_STOP=1" >/dev/null <<'SQL'
DO $$
BEGIN
	IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = 'ipdesk_test') THEN
		CREATE ROLE ipdesk_test LOGIN SUPERUSER PASSWORD 'ipdesk-test';
	END IF;
END
$$;
SQL
	export IPDESK_TEST_POSTGRES="postgres://ipdesk_test:ipdesk-test@127.0.0.1:5432/postgres?sslmode=disable"
fi
if [ -z "${IPDESK_TEST_POSTGRES:-}" ]; then
	if [ "${CI:-}" = true ]; then
		echo "no PostgreSQL for the storage suite under CI" >&2
		exit 1
	fi
	echo "== no PostgreSQL: the storage suite runs on SQLite only"
fi

echo "== gofmt"
unformatted=$(gofmt -l $(git ls-files '*.go' 2>/dev/null || find . -name '*.go'))
if [ -n "$unformatted" ]; then
	echo "gofmt would change: $unformatted" >&2
	exit 1
fi
echo "== go vet"
go vet ./...
echo "== go test -race"
go test -race -count=1 -timeout 30m "$@" ./...
