package outputs

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// The benchmark plan: 100,000 hosts with a DHCP reservation, spread over
// 400 /24 subnets with DHCP on in 10.0.0.0/8, in 200 rooms, a quarter at
// each access level 0..3.
const benchHosts = 100_000

type benchPlan struct {
	db  *sqldb.DB
	dir string
}

var (
	benchMu    sync.Mutex
	benchPlans = map[string]*benchPlan{}
	benchDrops []func()
)

func TestMain(m *testing.M) {
	code := m.Run()
	for _, drop := range benchDrops {
		drop()
	}
	os.Exit(code)
}

func makeBenchPlan(b *testing.B, kind string) *benchPlan {
	benchMu.Lock()
	defer benchMu.Unlock()
	if p := benchPlans[kind]; p != nil {
		return p
	}
	ctx := context.Background()
	var dsn string
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "ipdesk-outputs-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchDrops = append(benchDrops, func() { os.RemoveAll(dir) })
		dsn = filepath.Join(dir, "bench.db")
	case "postgres":
		if os.Getenv(sqldbtest.EnvPostgres) == "" {
			b.Skipf("%s not set", sqldbtest.EnvPostgres)
		}
		var drop func()
		var err error
		if dsn, drop, err = sqldbtest.CreatePostgresDB(); err != nil {
			b.Fatal(err)
		}
		benchDrops = append(benchDrops, drop)
	}
	db, err := sqldb.Open(ctx, dsn)
	if err != nil {
		b.Fatal(err)
	}
	sp := &ipdesk.Space{Name: "bench"}
	if err := db.CreateSpace(ctx, sp); err != nil {
		b.Fatal(err)
	}
	for i := range 400 {
		p := &ipdesk.Prefix{SpaceID: sp.ID, Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 0}), 24),
			Kind: ipdesk.PrefixSubnet, DHCP: true, Gateway: netip.AddrFrom4([4]byte{10, byte(i >> 8), byte(i), 1})}
		if _, err := db.CreatePrefix(ctx, p); err != nil {
			b.Fatal(err)
		}
	}
	site := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main site"}
	if err := db.CreateLocation(ctx, site); err != nil {
		b.Fatal(err)
	}
	var rooms []int64
	for i := range 200 {
		r := &ipdesk.Location{Kind: ipdesk.LocationRoom, ParentID: site.ID, Name: fmt.Sprintf("Room %d", 100+i)}
		if err := db.CreateLocation(ctx, r); err != nil {
			b.Fatal(err)
		}
		rooms = append(rooms, r.ID)
	}
	rows := make([]*ipdesk.Address, 0, benchHosts)
	for i := range benchHosts {
		subnet, host := i/250, 2+i%250
		rows = append(rows, &ipdesk.Address{
			SpaceID: sp.ID, Addr: netip.AddrFrom4([4]byte{10, byte(subnet >> 8), byte(subnet), byte(host)}),
			MAC:      ipdesk.MAC{0x02, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)},
			Hostname: fmt.Sprintf("pc%06d", i), Owner: fmt.Sprintf("Owner %d", i%977), Description: "desk by the window",
			LocationID: rooms[i%len(rooms)], AccessLevel: i % 4, DHCPReservation: true,
		})
	}
	for i := 0; i < len(rows); i += 10_000 {
		res, err := db.ImportAddresses(ctx, rows[i:i+10_000], false)
		if err != nil || len(res.Problems) > 0 {
			b.Fatalf("import: %v %v", err, res.Problems)
		}
	}
	p := &benchPlan{db: db, dir: filepath.Dir(dsn)}
	if kind == "postgres" {
		dir, err := os.MkdirTemp("", "ipdesk-outputs-bench")
		if err != nil {
			b.Fatal(err)
		}
		benchDrops = append(benchDrops, func() { os.RemoveAll(dir) })
		p.dir = dir
	}
	benchPlans[kind] = p
	return p
}

// BenchmarkApplyUnchanged100k is a full apply of an unchanged plan of
// 100,000 hosts: read the scope from the database, render, compare with the
// live file, write nothing. The first apply (outside the timing) writes
// the file.
func BenchmarkApplyUnchanged100k(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		for _, kind := range []string{apply.KindISCDHCP, apply.KindKea, apply.KindDnsmasq, apply.KindSquidLevels} {
			b.Run(db+"/"+kind, func(b *testing.B) {
				p := makeBenchPlan(b, db)
				spec := Spec{Name: "t", Kind: kind, Path: filepath.Join(p.dir, kind+".out")}
				name := "t"
				if kind == apply.KindSquidLevels {
					spec.Path = ""
					spec.LevelFiles = map[string]string{"1": filepath.Join(p.dir, "level1")}
					name = "t.level1"
				}
				s, err := New(p.db, []Spec{spec}, Config{Logger: discard})
				if err != nil {
					b.Fatal(err)
				}
				ctx := context.Background()
				runs, err := s.ApplyNow(ctx, name)
				if err != nil || !runs[0].Status.OK() {
					b.Fatalf("first apply: %v %+v", err, runs)
				}
				b.ReportAllocs()
				b.ResetTimer()
				for b.Loop() {
					runs, err := s.ApplyNow(ctx, name)
					if err != nil {
						b.Fatal(err)
					}
					if runs[0].Status != ipdesk.ApplyUnchanged {
						b.Fatalf("status %s: %s", runs[0].Status, runs[0].Message)
					}
				}
				b.ReportMetric(float64(runs[0].Bytes), "file-bytes")
			})
		}
	}
}

// BenchmarkScanHosts100k is the database part of an apply: reading the
// 100,000 hosts of the plan with one ScanHosts, as a DHCP output does.
func BenchmarkScanHosts100k(b *testing.B) {
	for _, db := range []string{"sqlite", "postgres"} {
		b.Run(db, func(b *testing.B) {
			p := makeBenchPlan(b, db)
			ctx := context.Background()
			f := ipdesk.HostFilter{Statuses: hostStatuses, DHCP: true}
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				n := 0
				if err := p.db.ScanHosts(ctx, f, func(*ipdesk.Address) error { n++; return nil }); err != nil {
					b.Fatal(err)
				}
				if n != benchHosts {
					b.Fatalf("%d hosts, want %d", n, benchHosts)
				}
			}
		})
	}
}
