package sqldb_test

import (
	"context"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// The benchmark plan: a container 10.0.0.0/8 holding 20,000 /24 subnets
// (allocated from the bottom, so "next free /24" has to pass all of
// them), a /16 subnet holding 60,000 addresses from its first address up
// (so "first free" has to pass them), and 40,000 more hosts spread over
// the /24s: 100,000 addresses in all.
type benchPlan struct {
	db        *sqldb.DB
	container *ipdesk.Prefix
	big       *ipdesk.Prefix
	sample    []*ipdesk.Address
	ids       []int64 // of the 100,000 imported hosts
}

// TestMain drops the benchmark databases made on PostgreSQL.
func TestMain(m *testing.M) {
	code := m.Run()
	for _, drop := range benchDrops {
		drop()
	}
	os.Exit(code)
}

var (
	benchDrops []func()
	benchOnce  = map[string]*benchPlan{}
	benchMu    sync.Mutex
	benchBgCtx = context.Background()
)

func plan(b *testing.B, kind string) *benchPlan {
	benchMu.Lock()
	defer benchMu.Unlock()
	if p := benchOnce[kind]; p != nil {
		return p
	}
	var db *sqldb.DB
	var err error
	switch kind {
	case "sqlite":
		dir, _ := os.MkdirTemp("", "ipdesk-bench")
		db, err = sqldb.Open(benchBgCtx, filepath.Join(dir, "bench.db"))
	case "postgres":
		if os.Getenv(sqldbtest.EnvPostgres) == "" {
			b.Skip("no PostgreSQL configured")
		}
		dsn, drop, cerr := sqldbtest.CreatePostgresDB()
		if cerr != nil {
			b.Fatal(cerr)
		}
		benchDrops = append(benchDrops, drop)
		db, err = sqldb.Open(benchBgCtx, dsn)
	}
	if err != nil {
		b.Fatal(err)
	}
	p := &benchPlan{db: db}
	s := &ipdesk.Space{Name: "bench"}
	must(b, db.CreateSpace(ctx, s))
	p.container = &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Kind: ipdesk.PrefixContainer}
	_, err = db.CreatePrefix(ctx, p.container)
	must(b, err)
	p.big = &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("172.16.0.0/16"), Kind: ipdesk.PrefixSubnet}
	_, err = db.CreatePrefix(ctx, p.big)
	must(b, err)
	for i := 0; i < 20000; i++ {
		_, err := db.AllocatePrefix(ctx, p.container.ID, 24, &ipdesk.Prefix{})
		must(b, err)
	}
	var rows []*ipdesk.Address
	for i := 0; i < 60000; i++ {
		a := netip.AddrFrom4([4]byte{172, 16, byte((i + 1) >> 8), byte(i + 1)})
		rows = append(rows, host(s.ID, a, i))
	}
	for i := 0; i < 40000; i++ {
		a := netip.AddrFrom4([4]byte{10, byte(i % 20000 >> 8), byte(i % 20000), byte(1 + i/20000)})
		rows = append(rows, host(s.ID, a, 60000+i))
	}
	res, err := db.ImportAddresses(ctx, rows, false)
	if err != nil || len(res.Problems) > 0 {
		b.Fatalf("import: %v %v", err, res.Problems[:min(3, len(res.Problems))])
	}
	// The imported rows wait for the search index on PostgreSQL until the
	// server moves them, within seconds; the benchmarks measure after.
	must(b, db.IndexPendingSearch(ctx))
	p.sample = []*ipdesk.Address{rows[12345], rows[59999], rows[77777]}
	for _, r := range rows {
		if r.ID == 0 {
			b.Fatal("the import gave a row no id")
		}
		p.ids = append(p.ids, r.ID)
	}
	benchOnce[kind] = p
	return p
}

func host(space int64, a netip.Addr, i int) *ipdesk.Address {
	return &ipdesk.Address{SpaceID: space, Addr: a, Hostname: fmt.Sprintf("host%06d", i),
		MAC: ipdesk.MAC{0x02, 0, byte(i >> 24), byte(i >> 16), byte(i >> 8), byte(i)}, Owner: fmt.Sprintf("Owner %d", i%977), Phone: fmt.Sprintf("+49 3591 %05d", i%5000)}
}

func must(b *testing.B, err error) {
	b.Helper()
	if err != nil {
		b.Fatal(err)
	}
}

func eachDB(b *testing.B, fn func(b *testing.B, p *benchPlan)) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) { fn(b, plan(b, kind)) })
	}
}

func BenchmarkFirstFree60k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		for b.Loop() {
			a, err := p.db.FirstFreeAddress(benchBgCtx, p.big.ID, netip.Addr{})
			if err != nil || a.String() != "172.16.234.97" {
				b.Fatalf("%v %v", a, err)
			}
		}
	})
}

func BenchmarkNextFreePrefix20k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		for b.Loop() {
			n, err := p.db.NextFreePrefix(benchBgCtx, p.container.ID, 24)
			if err != nil || n.String() != "10.78.32.0/24" {
				b.Fatalf("%v %v", n, err)
			}
		}
	})
}

func BenchmarkFindByMAC100k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		m := p.sample[1].MAC
		for b.Loop() {
			r, _, err := p.db.FindAddresses(benchBgCtx, ipdesk.AddressFilter{MAC: &m})
			if err != nil || len(r) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindByIP100k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		a := p.sample[2].Addr
		for b.Loop() {
			r, _, err := p.db.FindAddresses(benchBgCtx, ipdesk.AddressFilter{Addr: &a})
			if err != nil || len(r) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkFindByHostname100k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		h := p.sample[0].Hostname
		for b.Loop() {
			r, _, err := p.db.FindAddresses(benchBgCtx, ipdesk.AddressFilter{Hostname: &h})
			if err != nil || len(r) != 1 {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkSearchSubstring100k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		for b.Loop() {
			r, n, err := p.db.FindAddresses(benchBgCtx, ipdesk.AddressFilter{Query: "owner 976"})
			if err != nil || n == 0 || len(r) == 0 {
				b.Fatal(n, err)
			}
		}
	})
}

// BenchmarkFindAddressByIDParallel reads hosts by their ids from 32
// goroutines, as the API's GETs do for requests let in on cached
// credentials (with an AuthGuard that the read confirms on PostgreSQL):
// the GET round of bench/run.sh without HTTP.
func BenchmarkFindAddressByIDParallel(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		request := asAPI(b, p.db)
		var n atomic.Int64
		b.SetParallelism(16) // 32 goroutines on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				id := p.ids[int(n.Add(7919))%len(p.ids)]
				a, err := p.db.FindAddressByID(request(), id)
				if err != nil || a.ID != id {
					b.Errorf("address %d: %+v, %v", id, a, err)
					return
				}
			}
		})
	})
}

func BenchmarkCreateAddress(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		i := 0
		for b.Loop() {
			i++
			// Above the 60,000 hosts of the /16, below its broadcast address.
			a := netip.AddrFrom4([4]byte{172, 16, byte(240 + i>>8), byte(i)})
			if i >= 15*256 {
				b.Fatal("out of addresses: use a smaller -benchtime")
			}
			_, err := p.db.CreateAddress(ctx, host(p.big.SpaceID, a, 200000+i))
			if err != nil {
				b.Fatal(err)
			}
		}
	})
}

// allocSubnets counts the subnets allocSubnet made.
var allocSubnets int

// allocSubnet makes a fresh empty /16 subnet in p's space for a
// benchmark of allocations.
func allocSubnet(b *testing.B, p *benchPlan) *ipdesk.Prefix {
	allocSubnets++
	if allocSubnets > 15 {
		b.Skip("out of subnets: fewer -count")
	}
	sub := &ipdesk.Prefix{SpaceID: p.big.SpaceID, Prefix: netip.PrefixFrom(netip.AddrFrom4([4]byte{172, byte(16 + allocSubnets), 0, 0}), 16), Kind: ipdesk.PrefixSubnet}
	_, err := p.db.CreatePrefix(ctx, sub)
	must(b, err)
	return sub
}

// BenchmarkAllocateAddress takes the first free address of a /16 of its
// own (a fresh one for each run), with a hostname, MAC, owner and phone,
// in a database of 100,000 hosts: the allocation of bench/run.sh without
// HTTP.
func BenchmarkAllocateAddress(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		sub := allocSubnet(b, p)
		request := asAPI(b, p.db)
		i := 0
		for b.Loop() {
			i++
			if i >= 65000 {
				b.Fatal("out of addresses: use a smaller -benchtime")
			}
			if _, err := p.db.AllocateAddress(request(), sub.ID, netip.Addr{}, host(0, netip.Addr{}, 300000+i)); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// asAPI returns a maker of contexts for allocations as the API makes them
// for requests let in on cached credentials: each with an AuthGuard at the
// current epoch, which its write checks (PostgreSQL).
func asAPI(b *testing.B, db *sqldb.DB) func() context.Context {
	e, err := db.AuthEpoch(ctx)
	if err != nil {
		b.Fatal(err)
	}
	return func() context.Context { return ipdesk.WithAuthGuard(ctx, &ipdesk.AuthGuard{Epoch: e}) }
}

// BenchmarkAllocateAddressParallel is BenchmarkAllocateAddress with eight
// goroutines, whose allocations share group commits.
func BenchmarkAllocateAddressParallel(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		sub := allocSubnet(b, p)
		request := asAPI(b, p.db)
		var n atomic.Int64
		b.SetParallelism(4) // 8 goroutines on 2 cores
		b.RunParallel(func(pb *testing.PB) {
			for pb.Next() {
				i := n.Add(1)
				if i >= 65000 {
					b.Error("out of addresses: use a smaller -benchtime")
					return
				}
				if _, err := p.db.AllocateAddress(request(), sub.ID, netip.Addr{}, host(0, netip.Addr{}, 400000+int(i))); err != nil {
					b.Error(err)
					return
				}
			}
		})
	})
}

// BenchmarkImport100k imports 100,000 new hosts (address, MAC, hostname,
// owner and phone each) into a subnet of a fresh database per iteration;
// run it with -benchtime 1x.
func BenchmarkImport100k(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		b.Run(kind, func(b *testing.B) {
			for b.Loop() {
				b.StopTimer()
				db, space, done := freshBenchDB(b, kind)
				rows := make([]*ipdesk.Address, 100000)
				a := netip.MustParseAddr("10.0.0.1")
				for i := range rows {
					rows[i] = host(space, a, i)
					a = a.Next()
				}
				b.StartTimer()
				res, err := db.ImportAddresses(ctx, rows, false)
				b.StopTimer()
				if err != nil || res.Created != len(rows) || len(res.Problems) > 0 {
					b.Fatalf("import: %d created, %v %v", res.Created, err, res.Problems[:min(3, len(res.Problems))])
				}
				done()
				b.StartTimer()
			}
		})
	}
}

// freshBenchDB opens a new database with a space holding the subnet
// 10.0.0.0/15; done closes (and on PostgreSQL drops) it.
func freshBenchDB(b *testing.B, kind string) (db *sqldb.DB, space int64, done func()) {
	var dsn string
	drop := func() {}
	switch kind {
	case "sqlite":
		dir, err := os.MkdirTemp("", "ipdesk-bench")
		must(b, err)
		dsn, drop = filepath.Join(dir, "bench.db"), func() { os.RemoveAll(dir) }
	case "postgres":
		if os.Getenv(sqldbtest.EnvPostgres) == "" {
			b.Skip("no PostgreSQL configured")
		}
		var err error
		dsn, drop, err = sqldbtest.CreatePostgresDB()
		must(b, err)
	}
	db, err := sqldb.Open(benchBgCtx, dsn)
	must(b, err)
	s := &ipdesk.Space{Name: "bench"}
	must(b, db.CreateSpace(ctx, s))
	_, err = db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("10.0.0.0/15"), Kind: ipdesk.PrefixSubnet})
	must(b, err)
	return db, s.ID, func() { db.Close(); drop() }
}

// BenchmarkBackup100k takes a backup of the 100,000-host plan: the online backup
// on SQLite, the dump on PostgreSQL.
func BenchmarkBackup100k(b *testing.B) {
	eachDB(b, func(b *testing.B, p *benchPlan) {
		dir := b.TempDir()
		i := 0
		for b.Loop() {
			i++
			must(b, p.db.Backup(ctx, filepath.Join(dir, fmt.Sprintf("backup-%d", i))))
		}
		st, err := os.Stat(filepath.Join(dir, "backup-1"))
		must(b, err)
		b.ReportMetric(float64(st.Size())/1e6, "MB")
	})
}

// benchSpaces numbers the spaces benchmarks make, so that runs of one
// (-count) do not clash.
var benchSpaces atomic.Int64

// BenchmarkAllocatePrefix takes the next free /24 of a /8 container that
// already holds 1,000, 5,000 or 20,000 of them, in a space of its own: its
// cost should not grow with the prefixes of the container or the space.
func BenchmarkAllocatePrefix(b *testing.B) {
	for _, kind := range []string{"sqlite", "postgres"} {
		for _, held := range []int{1000, 5000, 20000} {
			b.Run(fmt.Sprintf("%s/held=%d", kind, held), func(b *testing.B) {
				db := plan(b, kind).db
				s := &ipdesk.Space{Name: fmt.Sprintf("prefixes-%d-%d", held, benchSpaces.Add(1))}
				must(b, db.CreateSpace(ctx, s))
				c := &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("10.0.0.0/8"), Kind: ipdesk.PrefixContainer}
				_, err := db.CreatePrefix(ctx, c)
				must(b, err)
				for range held {
					_, err := db.AllocatePrefix(ctx, c.ID, 24, &ipdesk.Prefix{})
					must(b, err)
				}
				for b.Loop() {
					_, err := db.AllocatePrefix(ctx, c.ID, 24, &ipdesk.Prefix{})
					must(b, err)
				}
			})
		}
	}
}
