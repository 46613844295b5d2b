package outputs

import (
	"context"
	"math"
	"net/netip"
	"testing"

	"ipdesk"
)

// gatedStore answers ScanHosts with the hosts it holds at the moment the
// scan starts, and holds the first scan until release is closed.
type gatedStore struct {
	Store
	started chan string // the first host of each scan, as it starts
	release chan struct{}
	hosts   []string
	scans   int
}

func (s *gatedStore) ScanHosts(ctx context.Context, f ipdesk.HostFilter, fn func(*ipdesk.Address) error) error {
	hosts := append([]string(nil), s.hosts...)
	s.scans++
	first := s.scans == 1
	s.started <- hosts[0]
	if first {
		<-s.release
	}
	for _, h := range hosts {
		if err := fn(&ipdesk.Address{Addr: netip.MustParseAddr(h)}); err != nil {
			return err
		}
	}
	return nil
}

// TestSharedScanNeverOlderThanTheChange: a render started after a change
// does not take the hosts of a scan that began before that change, even
// while that scan still runs; a render that knows no newer change shares
// it.
func TestSharedScanNeverOlderThanTheChange(t *testing.T) {
	st := &gatedStore{started: make(chan string, 4), release: make(chan struct{}), hosts: []string{"10.0.0.1"}}
	var h hostShare
	type result struct {
		hosts  []*ipdesk.Address
		newest int64
	}
	scan := func(since int64) chan result {
		ch := make(chan result, 1)
		go func() {
			hosts, newest, err := h.scan(context.Background(), st, ipdesk.HostFilter{}, since)
			if err != nil {
				t.Error(err)
			}
			ch <- result{hosts, newest}
		}()
		return ch
	}
	old := scan(5)
	<-st.started // the old scan read its hosts and waits
	// A change (audit entry 6) moves the host; a render for it begins.
	st.hosts = []string{"10.0.0.2"}
	fresh := scan(6)
	if first := <-st.started; first != "10.0.0.2" {
		t.Fatalf("the render after the change scanned %s", first)
	}
	// A render that knows only entry 5 may share the newest scan.
	same := scan(5)
	r := <-fresh
	if len(r.hosts) != 1 || r.hosts[0].Addr.String() != "10.0.0.2" || r.newest != 6 {
		t.Fatalf("the render after the change got %v (newest %d)", r.hosts, r.newest)
	}
	close(st.release)
	if r := <-old; r.hosts[0].Addr.String() != "10.0.0.1" || r.newest != 5 {
		t.Fatalf("the older render got %v (newest %d)", r.hosts, r.newest)
	}
	<-same
	// An unknown position (a failed read of the log) never shares.
	unknown := scan(math.MaxInt64)
	<-st.started
	if r := <-unknown; r.newest != -1 {
		t.Fatalf("a scan from an unknown position says it covers %d", r.newest)
	}
	if st.scans != 3 && st.scans != 4 {
		t.Fatalf("%d scans", st.scans)
	}
}
