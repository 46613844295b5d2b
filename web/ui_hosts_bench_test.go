package web

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
)

// benchHostsPlan fills e's database with 100,000 hosts in 400 /24
// subnets of one space, spread over 60 rooms of two buildings, each with
// a MAC, host name, owner and phone, as a large school's plan would be.
func benchHostsPlan(b *testing.B, e *testEnv) {
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "bench"})
	db := e.db
	sp := &ipdesk.Space{Name: "campus"}
	if err := db.CreateSpace(ctx, sp); err != nil {
		b.Fatal(err)
	}
	if _, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Kind: ipdesk.PrefixContainer}); err != nil {
		b.Fatal(err)
	}
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Campus"}
	if err := db.CreateLocation(ctx, site); err != nil {
		b.Fatal(err)
	}
	var rooms []int64
	for i := 0; i < 2; i++ {
		bld := &ipdesk.Location{Kind: ipdesk.LocationBuilding, Name: fmt.Sprintf("Haus %c", 'A'+i), ParentID: site.ID}
		if err := db.CreateLocation(ctx, bld); err != nil {
			b.Fatal(err)
		}
		for j := 0; j < 30; j++ {
			r := &ipdesk.Location{Kind: ipdesk.LocationRoom, Name: fmt.Sprintf("%d%02d", i+1, j), ParentID: bld.ID, Phones: []string{fmt.Sprintf("+49 3591 %d%02d", i+1, j)}}
			if err := db.CreateLocation(ctx, r); err != nil {
				b.Fatal(err)
			}
			rooms = append(rooms, r.ID)
		}
	}
	const subnets, perSubnet = 400, 250
	for s := 0; s < subnets; s++ {
		p := netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(s >> 8), byte(s), 0}), 24)
		if _, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: sp.ID, Prefix: p, Kind: ipdesk.PrefixSubnet}); err != nil {
			b.Fatal(err)
		}
	}
	rows := make([]*ipdesk.Address, 0, subnets*perSubnet)
	for i := 0; i < subnets*perSubnet; i++ {
		s, h := i/perSubnet, i%perSubnet
		rows = append(rows, &ipdesk.Address{SpaceID: sp.ID, Addr: netip.AddrFrom4([4]byte{10, byte(s >> 8), byte(s), byte(h + 1)}),
			MAC: ipdesk.MAC{0x02, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}, Hostname: fmt.Sprintf("host%06d", i),
			Owner: fmt.Sprintf("Owner %d", i%977), Phone: fmt.Sprintf("+49 3591 %05d", i%5000), LocationID: rooms[i%len(rooms)], AccessLevel: i % 4})
	}
	res, err := db.ImportAddresses(ctx, rows, false)
	if err != nil || len(res.Problems) > 0 {
		b.Fatalf("import: %v %v", err, res.Problems[:min(3, len(res.Problems))])
	}
}

// BenchmarkHostsPage renders the hosts page (the whole handler: session,
// rights, filter, the page of rows and its total from the database, the
// rooms, the template) on an SQLite plan of 100,000 addresses.
func BenchmarkHostsPage(b *testing.B) {
	e := newEnvOn(b, filepath.Join(b.TempDir(), "bench.db"))
	benchHostsPlan(b, e)
	admin := e.login("admin", "password123")
	reader := e.login("reader", "password123")
	for _, c := range []struct {
		name, target string
		cookie       *http.Cookie
		rows         int
	}{
		{"first-page", "/hosts", admin, hostsDefaultLimit},
		{"first-page-reader", "/hosts", reader, hostsDefaultLimit},
		{"search-substring", "/hosts?q=owner+976", admin, hostsDefaultLimit},
		{"search-first-letter", "/hosts?q=o", admin, hostsDefaultLimit},
		{"search-unselective", "/hosts?q=owner", admin, hostsDefaultLimit},
		{"search-room", "/hosts?q=201", admin, hostsDefaultLimit},
		{"search-mac-cisco", "/hosts?q=0200.0001.869f", admin, 1},
		{"search-rows-fragment", "/hosts/rows?q=host0999", admin, 50},
		{"sort-hostname-desc", "/hosts?sort=-hostname", admin, hostsDefaultLimit},
		{"room-filter-page-100", "/hosts?location=30&offset=1600", admin, hostsDefaultLimit},
	} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				req := httptest.NewRequest("GET", c.target, nil)
				req.AddCookie(c.cookie)
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: %d %.300s", c.target, rec.Code, rec.Body)
				}
				if n := strings.Count(rec.Body.String(), "<tr data-id="); n != c.rows {
					b.Fatalf("%s: %d rows, want %d", c.target, n, c.rows)
				}
			}
		})
	}
}
