package main

import (
	"io"
	"log/slog"
	"strings"
	"testing"
)

// TestProfilesOnLoopbackOnly: the runtime profiles are served on a
// loopback address and refused on any address other machines could reach.
func TestProfilesOnLoopbackOnly(t *testing.T) {
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	for _, addr := range []string{":6061", "0.0.0.0:6061", "[::]:6061", "192.168.1.5:6061", "example.org:6061", "6061"} {
		if stop, err := serveProfiles(addr, log); err == nil {
			stop()
			t.Errorf("IPDESK_PPROF_LISTEN=%q was accepted", addr)
		} else if !strings.Contains(err.Error(), "IPDESK_PPROF_LISTEN") {
			t.Errorf("%q: the error does not name the variable: %v", addr, err)
		}
	}
	for _, addr := range []string{"127.0.0.1:0", "[::1]:0", "localhost:0"} {
		stop, err := serveProfiles(addr, log)
		if err != nil {
			if strings.Contains(addr, "::1") && strings.Contains(err.Error(), "listen") {
				continue // no IPv6 loopback here
			}
			t.Errorf("%q: %v", addr, err)
			continue
		}
		stop()
	}
}
