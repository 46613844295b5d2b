package sqldb_test

import (
	"fmt"
	"net/netip"
	"slices"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestSearchPending: what a search finds is the same whether a row waits
// for the search index or is in it: created, changed and deleted
// addresses are found by their current text only, before and after the
// pending rows move into the index, and a full batch moves by itself.
func TestSearchPending(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "a")
		mustPrefix(t, db, s.ID, "10.0.0.0/16", ipdesk.PrefixSubnet)
		a := mustAddr(t, db, s.ID, "10.0.0.1", func(a *ipdesk.Address) { a.Hostname, a.Owner = "alpha", "Grace [*] Hopper" })
		b := mustAddr(t, db, s.ID, "10.0.0.2", func(a *ipdesk.Address) { a.Hostname = "beta" })
		c := mustAddr(t, db, s.ID, "10.0.0.3", func(a *ipdesk.Address) { a.Hostname = "gamma" })
		find := func(q string) []int64 {
			t.Helper()
			got, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q})
			if err != nil || n != len(got) {
				t.Fatalf("q=%q: %v (count %d)", q, err, n)
			}
			var ids []int64
			for _, a := range got {
				ids = append(ids, a.ID)
			}
			return ids
		}
		check := func(when string) {
			t.Helper()
			for q, want := range map[string][]int64{
				"alpha": {a.ID}, "[*] hop": {a.ID}, "*": {a.ID}, "?": nil, "beta": nil, "delta": {b.ID}, "gamma": nil, "10.0.0.": {a.ID, b.ID},
			} {
				if got := find(q); !slices.Equal(got, want) {
					t.Errorf("%s: q=%q found %v, want %v", when, q, got, want)
				}
			}
		}
		if db.Postgres() {
			// No index of ipdesk's own: the same answers all the same.
			if _, _, err := db.UpdateAddress(ctx, b.ID, ipdesk.AddressUpdate{Hostname: ptr("delta")}); err != nil {
				t.Fatal(err)
			}
			wantNoErr(t, db.DeleteAddress(ctx, c.ID, ipdesk.DeleteOptions{}))
			check("postgres")
			return
		}
		// The three wait; one moves into the index, then changes.
		wantNoErr(t, db.IndexPendingSearch(ctx))
		if _, _, err := db.UpdateAddress(ctx, b.ID, ipdesk.AddressUpdate{Hostname: ptr("delta")}); err != nil {
			t.Fatal(err)
		}
		wantNoErr(t, db.DeleteAddress(ctx, c.ID, ipdesk.DeleteOptions{}))
		if n := sqldb.PendingSearch(db); n != 2 {
			t.Fatalf("%d rows pending, want the changed and the deleted one", n)
		}
		check("pending")
		wantNoErr(t, db.IndexPendingSearch(ctx))
		if n := sqldb.PendingSearch(db); n != 0 {
			t.Fatalf("%d rows pending after the move", n)
		}
		check("indexed")

		// A full batch of single creates moves into the index by itself.
		addr := netip.MustParseAddr("10.0.1.0")
		for i := range sqldb.SearchBatch {
			addr = addr.Next()
			mustAddr(t, db, s.ID, addr.String(), func(a *ipdesk.Address) { a.Hostname = fmt.Sprintf("batch%04d", i) })
		}
		if n := sqldb.PendingSearch(db); n >= sqldb.SearchBatch {
			t.Errorf("%d rows still pending after a full batch", n)
		}
		if got := find("batch0999"); len(got) != 1 {
			t.Errorf("batch0999 found %v", got)
		}
		check("after the batch")
	})
}

func wantNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
