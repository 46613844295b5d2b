# ipdesk — see README.md.

.PHONY: run test build bench package

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

# Packages: a static binary, the .deb (nfpm, run as a pinned Go tool so it
# stays out of ipdesk's own dependencies) and the container definition, in
# dist/. VERSION must start with a digit (Debian version).
NFPM_VERSION := v2.48.0
VERSION ?= 0.1.0+git$(shell git rev-parse --short HEAD 2>/dev/null || echo unknown)
COMMIT ?= $(shell git rev-parse HEAD 2>/dev/null || echo unknown)

package:
	mkdir -p dist
	CGO_ENABLED=0 go build -trimpath -ldflags "-s -w -X main.version=$(VERSION) -X main.commit=$(COMMIT)" -o dist/ipdesk ./cmd/ipdesk
	VERSION=$(VERSION) go run github.com/goreleaser/nfpm/v2/cmd/nfpm@$(NFPM_VERSION) package --config packaging/nfpm.yaml --packager deb --target dist/ipdesk.deb
	cp packaging/Containerfile dist/Containerfile
	@ls -l dist
