package outputs

import (
	"context"
	"fmt"
	"math"
	"path/filepath"
	"slices"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestHostCacheFollowsChanges: the cache of hosts the renders read takes
// every change, made by this handle or another process's, when a render
// asks for the state after it: changed hosts anew, deleted ones and those
// no longer active or reserved gone, new ones added; and it reads every
// host again when the audit log is behind it, as after a restore.
func TestHostCacheFollowsChanges(t *testing.T) {
	path := filepath.Join(t.TempDir(), "ipdesk.db")
	db, err := sqldb.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	p := newPlan(t, db)
	a := p.host(t, p.school, "10.0.0.10", "02:00:00:00:00:0a", "a", nil)
	b := p.host(t, p.school, "10.0.0.11", "02:00:00:00:00:0b", "b", func(x *ipdesk.Address) { x.Status = ipdesk.StatusReserved })
	c := p.host(t, p.school, "10.0.0.12", "", "c", func(x *ipdesk.Address) { x.Status = ipdesk.StatusDeprecated })

	var cache hostCache
	look := func(when string, want ...string) {
		t.Helper()
		_, newest, err := db.ChangesSince(context.Background(), -1)
		if err != nil {
			t.Fatal(err)
		}
		hosts, covered, err := cache.current(context.Background(), db, newest)
		if err != nil {
			t.Fatal(err)
		}
		if covered < newest {
			t.Errorf("%s: the hosts cover entry %d, the log is at %d", when, covered, newest)
		}
		var got []string
		for _, h := range hosts {
			got = append(got, h.Hostname)
		}
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Errorf("%s: hosts %v, want %v", when, got, want)
		}
	}
	look("first look", "a", "b")

	// Changes through this handle.
	if _, _, err := db.UpdateAddress(admin, a.ID, ipdesk.AddressUpdate{Hostname: ptr("a2")}); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteAddress(admin, b.ID, ipdesk.DeleteOptions{}); err != nil {
		t.Fatal(err)
	}
	active := ipdesk.StatusActive
	if _, _, err := db.UpdateAddress(admin, c.ID, ipdesk.AddressUpdate{Status: &active}); err != nil {
		t.Fatal(err)
	}
	p.host(t, p.lab, "10.0.0.20", "02:00:00:00:00:14", "d", nil)
	look("after changes", "a2", "c", "d")

	// Changes of another process on the same database.
	other, err := sqldb.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	deprecated := ipdesk.StatusDeprecated
	if _, _, err := other.UpdateAddress(admin, c.ID, ipdesk.AddressUpdate{Status: &deprecated}); err != nil {
		t.Fatal(err)
	}
	look("after another process's change", "a2", "d")

	// A cursor ahead of the log (a restored backup) reads everything.
	cache.mu.Lock()
	cache.cursor += 1000
	delete(cache.hosts, a.ID)
	cache.list = nil
	cache.mu.Unlock()
	hosts, _, err := cache.current(context.Background(), db, math.MaxInt64)
	if err != nil || len(hosts) != 2 {
		t.Fatalf("after the log went back: %d hosts, %v", len(hosts), err)
	}
}

// scanCounter counts the reads of every host and of changed hosts.
type scanCounter struct {
	Store
	full, changed int
}

func (s *scanCounter) ScanHosts(ctx context.Context, f ipdesk.HostFilter, fn func(*ipdesk.Address) error) error {
	if f.IDs != nil {
		s.changed++
	} else {
		s.full++
	}
	return s.Store.ScanHosts(ctx, f, fn)
}

// TestHostCacheFollowsManyChanges: the cache reads only the changed hosts
// for up to a quarter of its hosts' worth of audit entries (at least
// minReads), and every host beyond that.
func TestHostCacheFollowsManyChanges(t *testing.T) {
	db := sqldbtest.SQLite(t)
	p := newPlan(t, db)
	var hosts []*ipdesk.Address
	for i := range 40 {
		hosts = append(hosts, p.host(t, p.school, fmt.Sprintf("10.0.0.%d", 10+i), fmt.Sprintf("02:00:00:00:01:%02x", i), fmt.Sprintf("h%d", i), nil))
	}
	store := &scanCounter{Store: db}
	cache := hostCache{minReads: 2}
	look := func() int {
		t.Helper()
		_, newest, err := db.ChangesSince(context.Background(), -1)
		if err != nil {
			t.Fatal(err)
		}
		got, _, err := cache.current(context.Background(), store, newest)
		if err != nil {
			t.Fatal(err)
		}
		return len(got)
	}
	rename := func(n int) {
		t.Helper()
		for _, h := range hosts[:n] {
			h.Hostname += "x"
			if _, _, err := db.UpdateAddress(admin, h.ID, ipdesk.AddressUpdate{Hostname: &h.Hostname}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if n := look(); n != 40 || store.full != 1 {
		t.Fatalf("first look: %d hosts, %d full reads", n, store.full)
	}
	rename(10) // a quarter of 40: followed
	if n := look(); n != 40 || store.full != 1 || store.changed != 1 {
		t.Errorf("after 10 changes: %d hosts, %d full reads, %d reads of changed hosts", n, store.full, store.changed)
	}
	rename(11) // more than a quarter: every host read again
	if n := look(); n != 40 || store.full != 2 || store.changed != 1 {
		t.Errorf("after 11 changes: %d hosts, %d full reads, %d reads of changed hosts", n, store.full, store.changed)
	}
	for _, h := range hosts[:11] {
		if got := cache.hosts[h.ID].Hostname; got != h.Hostname {
			t.Errorf("host %d is %q in the cache, %q stored", h.ID, got, h.Hostname)
		}
	}
}
