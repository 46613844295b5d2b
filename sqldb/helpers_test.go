package sqldb_test

import (
	"context"
	"net/netip"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
)

// ctx is the context of test changes: made by the user "tester".
var ctx = ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{ID: 1, Name: "tester"})

func mustSpace(t *testing.T, db *sqldb.DB, name string) *ipdesk.Space {
	t.Helper()
	s := &ipdesk.Space{Name: name}
	if err := db.CreateSpace(ctx, s); err != nil {
		t.Fatalf("CreateSpace(%q): %v", name, err)
	}
	return s
}

func mustPrefix(t *testing.T, db *sqldb.DB, space int64, cidr string, kind ipdesk.PrefixKind) *ipdesk.Prefix {
	t.Helper()
	p := &ipdesk.Prefix{SpaceID: space, Prefix: netip.MustParsePrefix(cidr), Kind: kind}
	if _, err := db.CreatePrefix(ctx, p); err != nil {
		t.Fatalf("CreatePrefix(%s): %v", cidr, err)
	}
	return p
}

func mustAddr(t *testing.T, db *sqldb.DB, space int64, ip string, mod func(*ipdesk.Address)) *ipdesk.Address {
	t.Helper()
	a := &ipdesk.Address{SpaceID: space, Addr: netip.MustParseAddr(ip)}
	if mod != nil {
		mod(a)
	}
	if _, err := db.CreateAddress(ctx, a); err != nil {
		t.Fatalf("CreateAddress(%s): %v", ip, err)
	}
	return a
}

func mustMAC(s string) ipdesk.MAC {
	m, err := ipdesk.ParseMAC(s)
	if err != nil {
		panic(err)
	}
	return m
}

// wantCode fails unless err has the given code.
func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	if got := ipdesk.ErrorCode(err); got != code {
		t.Fatalf("error code %q (%v), want %q", got, err, code)
	}
}

// auditCount returns the number of audit entries.
func auditCount(t *testing.T, db *sqldb.DB) int {
	t.Helper()
	_, n, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{})
	if err != nil {
		t.Fatal(err)
	}
	return n
}
