package leases

import (
	"net/netip"
	"os"
	"path/filepath"
	"testing"
	"time"

	"ipdesk"
)

func TestCompare(t *testing.T) {
	now := utc("2026-12-06T00:00:00Z")
	subnet := netip.MustParsePrefix("10.77.0.0/24")
	host := func(id int64, addr, m string, reserved bool) *ipdesk.Address {
		a := &ipdesk.Address{ID: id, Addr: netip.MustParseAddr(addr), DHCPReservation: reserved}
		if m != "" {
			a.MAC = mac(m)
		}
		return a
	}
	hosts := []*ipdesk.Address{
		host(1, "10.77.0.50", "02:00:00:00:00:0a", true),  // leased as reserved
		host(2, "10.77.0.51", "02:00:00:00:00:0b", true),  // its MAC leases .101
		host(3, "10.77.0.52", "02:00:00:00:00:0c", true),  // .52 leased by another MAC
		host(4, "10.77.0.53", "", false),                  // recorded without a MAC
		host(5, "10.77.0.54", "02:00:00:00:00:0e", false), // recorded, not reserved
	}
	elsewhere := map[ipdesk.MAC]*ipdesk.Address{mac("02:00:00:00:00:0f"): host(9, "10.88.0.5", "02:00:00:00:00:0f", true)}
	lease := func(addr, m string, st State, ends time.Time) Lease {
		return Lease{Addr: netip.MustParseAddr(addr), MAC: mac(m), State: st, Ends: ends}
	}
	later := now.Add(time.Hour)
	sets := []Set{
		{Source: Source{Name: "kea"}, File: File{Leases: []Lease{
			lease("10.77.0.50", "02:00:00:00:00:0a", StateActive, later),
			lease("10.77.0.101", "02:00:00:00:00:0b", StateActive, later),
			lease("10.77.0.52", "02:00:00:00:00:99", StateActive, later),
			lease("10.77.0.53", "02:00:00:00:00:0d", StateActive, later),
			lease("10.77.0.54", "02:00:00:00:00:0e", StateActive, later),
			lease("10.77.0.100", "02:00:00:00:00:77", StateActive, later),
			lease("10.77.0.102", "02:00:00:00:00:0f", StateActive, later),
			lease("10.77.0.110", "02:00:00:00:00:78", StateActive, now),       // just ended
			lease("10.77.0.111", "02:00:00:00:00:79", StateFree, later),       // free
			lease("10.99.0.1", "02:00:00:00:00:80", StateActive, time.Time{}), // other subnet
		}}},
		{Source: Source{Name: "dhcpd"}, File: File{Leases: []Lease{
			lease("10.77.0.100", "02:00:00:00:00:77", StateActive, time.Time{}),
		}}},
	}
	if got := NeedsLookup(subnet, hosts, sets, now); len(got) != 5 {
		t.Errorf("NeedsLookup: %v", got)
	}
	rows := Compare(subnet, hosts, elsewhere, sets, now)
	type want struct {
		server, addr string
		status       Status
		host, res    int64
	}
	wants := []want{
		{"kea", "10.77.0.50", StatusReserved, 1, 0},
		{"kea", "10.77.0.52", StatusOtherMAC, 3, 0},
		{"kea", "10.77.0.53", StatusKnown, 4, 0},
		{"kea", "10.77.0.54", StatusKnown, 5, 0},
		{"kea", "10.77.0.100", StatusUnknown, 0, 0},
		{"dhcpd", "10.77.0.100", StatusUnknown, 0, 0},
		{"kea", "10.77.0.101", StatusMoved, 0, 2},
		{"kea", "10.77.0.102", StatusMoved, 0, 9},
	}
	if len(rows) != len(wants) {
		t.Fatalf("%d rows: %+v", len(rows), rows)
	}
	for i, w := range wants {
		r := rows[i]
		var hid, rid int64
		if r.Host != nil {
			hid = r.Host.ID
		}
		if r.Reservation != nil {
			rid = r.Reservation.ID
		}
		if r.Server != w.server || r.Lease.Addr.String() != w.addr || r.Status != w.status || hid != w.host || rid != w.res {
			t.Errorf("row %d: %s %s %s host %d reservation %d, want %+v", i, r.Server, r.Lease.Addr, r.Status, hid, rid, w)
		}
	}
}

func TestLastSeen(t *testing.T) {
	subnet := netip.MustParsePrefix("10.77.0.0/24")
	sets := []Set{
		{Source: Source{Name: "kea"}, File: File{Leases: []Lease{
			{Addr: netip.MustParseAddr("10.77.0.50"), MAC: mac("02:00:00:00:00:0a"), State: StateFree, Seen: utc("2026-12-06T01:00:00Z")},
			{Addr: netip.MustParseAddr("10.88.0.50"), MAC: mac("02:00:00:00:00:0a"), Seen: utc("2026-12-06T05:00:00Z")},
			{Addr: netip.MustParseAddr("10.77.0.60"), MAC: mac("02:00:00:00:00:0c"), Seen: utc("2026-12-06T04:00:00Z")},
		}}},
		{Source: Source{Name: "dnsmasq"}, File: File{Leases: []Lease{
			{Addr: netip.MustParseAddr("10.77.0.70"), MAC: mac("02:00:00:00:00:0a"), Seen: utc("2026-12-06T02:00:00Z")},
		}}},
	}
	seen, server := LastSeen(sets, subnet, &ipdesk.Address{Addr: netip.MustParseAddr("10.77.0.50"), MAC: mac("02:00:00:00:00:0a")})
	if !seen.Equal(utc("2026-12-06T02:00:00Z")) || server != "dnsmasq" {
		t.Errorf("by MAC: %s %s", seen, server)
	}
	seen, server = LastSeen(sets, subnet, &ipdesk.Address{Addr: netip.MustParseAddr("10.77.0.60")})
	if !seen.Equal(utc("2026-12-06T04:00:00Z")) || server != "kea" {
		t.Errorf("by address: %s %s", seen, server)
	}
	if seen, _ := LastSeen(sets, subnet, &ipdesk.Address{Addr: netip.MustParseAddr("10.77.0.9"), MAC: mac("02:00:00:00:00:09")}); !seen.IsZero() {
		t.Errorf("never seen: %s", seen)
	}
}

func TestCheck(t *testing.T) {
	for _, tc := range []struct {
		src   Source
		field string
	}{
		{Source{Kind: KindKea, Path: "/x"}, "name"},
		{Source{Name: "a", Kind: "bind", Path: "/x"}, "kind"},
		{Source{Name: "a", Kind: KindKea, Path: "x.csv"}, "path"},
		{Source{Name: "a", Kind: KindKea, Path: "/x", LeaseTime: "1h"}, "lease_time"},
		{Source{Name: "a", Kind: KindDnsmasq, Path: "/x", LeaseTime: "soon"}, "lease_time"},
	} {
		err := Check([]Source{tc.src})
		if ipdesk.ErrorField(err) != tc.field {
			t.Errorf("%+v: %v, want an error of %s", tc.src, err, tc.field)
		}
	}
	ok := Source{Name: "a", Kind: KindDnsmasq, Path: "/x", LeaseTime: "12h"}
	if err := Check([]Source{ok}); err != nil {
		t.Error(err)
	}
	if err := Check([]Source{ok, ok}); ipdesk.ErrorField(err) != "name" {
		t.Errorf("a name given twice: %v", err)
	}
}

func TestReader(t *testing.T) {
	dir := t.TempDir()
	kea := filepath.Join(dir, "kea-leases4.csv")
	header := "address,hwaddr,client_id,valid_lifetime,expire,subnet_id,fqdn_fwd,fqdn_rev,hostname,state,user_context\n"
	write := func(name, data string) {
		if err := os.WriteFile(name, []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(kea+".2", header+"10.0.0.1,02:00:00:00:00:01,,600,1000,1,0,0,old,0,\n10.0.0.2,02:00:00:00:00:02,,600,1000,1,0,0,two,0,\n")
	write(kea, header+"10.0.0.1,02:00:00:00:00:01,,600,2000,1,0,0,new,0,\n")
	r, err := NewReader([]Source{{Name: "kea", Kind: KindKea, Path: kea}, {Name: "gone", Kind: KindDnsmasq, Path: filepath.Join(dir, "missing")}})
	if err != nil {
		t.Fatal(err)
	}
	sets := r.Read()
	if len(sets) != 2 || sets[0].Err != nil || len(sets[0].Leases) != 2 || sets[0].Leases[0].Hostname != "new" || sets[0].Leases[1].Hostname != "two" {
		t.Fatalf("kea with the cleanup's file: %+v", sets[0])
	}
	if sets[1].Err == nil || len(sets[1].Leases) != 0 {
		t.Errorf("a missing file: %+v", sets[1])
	}
	// A change of the file is read; an unchanged file comes from the cache.
	write(kea, header+"10.0.0.1,02:00:00:00:00:01,,600,2000,1,0,0,newer,0,\n10.0.0.3,02:00:00:00:00:03,,600,2000,1,0,0,three,0,\n")
	if sets = r.Read(); len(sets[0].Leases) != 3 || sets[0].Leases[0].Hostname != "newer" {
		t.Fatalf("after a change: %+v", sets[0].Leases)
	}
	r.mu.Lock()
	c := r.cache["kea"]
	c.set.Skipped = 42 // marks the cached copy
	r.cache["kea"] = c
	r.mu.Unlock()
	if sets = r.Read(); sets[0].Skipped != 42 {
		t.Errorf("an unchanged file was read again")
	}
}
