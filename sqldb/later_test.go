package sqldb_test

import (
	"context"
	"encoding/json"
	"net/netip"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestHeldWritesKeepText: the insert, audit entry and chunk count of an
// allocation, which PostgreSQL gets held and pipelined with the commit
// (see later and roundTrip), keep text that SQL, JSON and logs treat
// specially exactly as given, and the count lets the next allocation take
// the next address.
func TestHeldWritesKeepText(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		sp := mustSpace(t, db, "held")
		p := mustPrefix(t, db, sp.ID, "10.8.0.0/24", ipdesk.PrefixSubnet)
		awkward := "it's; \"quoted\" \\ back\\slash -- not a comment /* $1 $$ {braces} ünïcode E'\\x41'"
		actor := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "o'brien; $2"})
		a := &ipdesk.Address{Hostname: "held1", Description: awkward, Owner: awkward}
		if _, err := db.AllocateAddress(actor, p.ID, netip.Addr{}, a); err != nil {
			t.Fatal(err)
		}
		b := &ipdesk.Address{Hostname: "held2"}
		if _, err := db.AllocateAddress(actor, p.ID, netip.Addr{}, b); err != nil {
			t.Fatal(err)
		}
		if a.Addr.String() != "10.8.0.1" || b.Addr.String() != "10.8.0.2" {
			t.Fatalf("allocated %s and %s, want 10.8.0.1 and 10.8.0.2", a.Addr, b.Addr)
		}
		typ := ipdesk.ObjectAddress
		entries, _, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &typ, ObjectID: &a.ID})
		if err != nil || len(entries) != 1 {
			t.Fatalf("audit entries of the address: %v %v", entries, err)
		}
		e := entries[0]
		var after ipdesk.Address
		if err := json.Unmarshal(e.After, &after); err != nil {
			t.Fatalf("after %s: %v", e.After, err)
		}
		if e.Actor != "o'brien; $2" || after.Description != awkward || after.Owner != awkward || (len(e.Before) != 0 && string(e.Before) != "null") {
			t.Errorf("audit entry: actor %q, after %+v, before %s", e.Actor, after, e.Before)
		}
		stored, err := db.FindAddressByID(ctx, a.ID)
		if err != nil || stored.Description != awkward {
			t.Errorf("stored %+v: %v", stored, err)
		}
	})
}
