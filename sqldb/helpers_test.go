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

// moveAuthEpoch moves the auth epoch on by disabling a new user of the
// given name, and returns the user and the epoch before and after.
func moveAuthEpoch(t *testing.T, db *sqldb.DB, user string) (u *ipdesk.User, old, now int64) {
	t.Helper()
	old, err := db.AuthEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u = mustUser(t, db, user, false)
	if _, err := db.UpdateUser(ctx, u.ID, ipdesk.UserUpdate{Disabled: ptr(true)}); err != nil {
		t.Fatal(err)
	}
	now, err = db.AuthEpoch(ctx)
	if err != nil || now == old {
		t.Fatalf("the epoch did not move: %d → %d, %v", old, now, err)
	}
	return u, old, now
}
