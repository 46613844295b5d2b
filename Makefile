# ipdesk — see README.md.

.PHONY: run test build bench

# Runs ipdesk on its embedded default: an SQLite file in the current directory.
run:
	go run ./cmd/ipdesk serve

# Runs the whole test suite (installs the system packages it needs when run
# as root on Debian; see scripts/test.sh).
test:
	./scripts/test.sh

build:
	go build -o ipdesk ./cmd/ipdesk

# Go benchmarks of every package; the load scripts are in bench/.
bench:
	go test -run='^$$' -bench=. -benchmem ./...
