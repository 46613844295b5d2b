package web

import (
	"context"
	"fmt"
	"net/http"
	"net/netip"
	"testing"

	"ipdesk"
)

// planBench is a server with a plan of some size, signed in as admin.
type planBench struct {
	*testEnv
	cookie *http.Cookie
	space  int64
}

func newPlanBench(b *testing.B) *planBench {
	e := newEnv(b)
	pb := &planBench{testEnv: e, cookie: e.login("admin", "password123"), space: e.space("bench")}
	return pb
}

// ctx is the context of the benchmark's changes.
func (pb *planBench) ctx() context.Context {
	return ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "bench"})
}

func (pb *planBench) prefix(b *testing.B, cidr string, kind ipdesk.PrefixKind) *ipdesk.Prefix {
	p := &ipdesk.Prefix{SpaceID: pb.space, Prefix: netip.MustParsePrefix(cidr), Kind: kind, Description: "bench " + cidr}
	if _, err := pb.db.CreatePrefix(pb.ctx(), p); err != nil {
		b.Fatal(err)
	}
	return p
}

// hosts stores n hosts at the addresses next gives, in one import.
func (pb *planBench) hosts(b *testing.B, n int, next func(i int) netip.Addr) {
	rows := make([]*ipdesk.Address, n)
	for i := range rows {
		rows[i] = &ipdesk.Address{SpaceID: pb.space, Addr: next(i), Hostname: fmt.Sprintf("h%d", i), Owner: "Bench"}
	}
	res, err := pb.db.ImportAddresses(pb.ctx(), rows, false)
	if err != nil || len(res.Problems) > 0 {
		b.Fatalf("import: %v %v", err, res.Problems)
	}
}

// run measures GET target through the whole handler: session lookup,
// routing, the store reads and the template.
func (pb *planBench) run(b *testing.B, target string) {
	if r := pb.page(target, pb.cookie); r.code != http.StatusOK {
		b.Fatalf("%s: %d %s", target, r.code, r.body)
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		req, _ := http.NewRequest("GET", target, nil)
		req.AddCookie(pb.cookie)
		rec := &discardWriter{header: http.Header{}}
		pb.h.ServeHTTP(rec, req)
		if rec.status != http.StatusOK {
			b.Fatalf("status %d", rec.status)
		}
	}
}

// BenchmarkPlanTree2k: the first page (300 prefixes) of the tree of a
// space with 20 containers of 100 subnets each.
func BenchmarkPlanTree2k(b *testing.B) {
	pb := newPlanBench(b)
	pb.prefix(b, "10.0.0.0/8", ipdesk.PrefixContainer)
	for c := 0; c < 20; c++ {
		pb.prefix(b, fmt.Sprintf("10.%d.0.0/16", c), ipdesk.PrefixContainer)
		for s := 0; s < 100; s++ {
			pb.prefix(b, fmt.Sprintf("10.%d.%d.0/24", c, s), ipdesk.PrefixSubnet)
		}
	}
	pb.run(b, path("/spaces/%d", pb.space))
}

// BenchmarkPlanGrid16: a block of a /16 that holds 20,000 hosts.
func BenchmarkPlanGrid16(b *testing.B) {
	pb := newPlanBench(b)
	sub := pb.prefix(b, "10.2.0.0/16", ipdesk.PrefixSubnet)
	pb.hosts(b, 20000, func(i int) netip.Addr { return netip.AddrFrom4([4]byte{10, 2, byte(i / 250), byte(1 + i%250)}) })
	pb.run(b, path("/prefixes/%d?at=10.2.40.1", sub.ID))
}

// BenchmarkPlanGridIPv6: the first block of a /64 that holds 5,000 hosts
// spread over it.
func BenchmarkPlanGridIPv6(b *testing.B) {
	pb := newPlanBench(b)
	sub := pb.prefix(b, "2001:db8:1::/64", ipdesk.PrefixSubnet)
	pb.hosts(b, 5000, func(i int) netip.Addr {
		a := [16]byte{0x20, 0x01, 0x0d, 0xb8, 0, 1}
		a[8], a[9], a[15] = byte(i>>8), byte(i), 1
		return netip.AddrFrom16(a)
	})
	pb.run(b, path("/prefixes/%d", sub.ID))
}
