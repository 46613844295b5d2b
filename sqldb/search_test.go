package sqldb_test

import (
	"context"
	"fmt"
	"net/netip"
	"slices"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/internal/testwait"
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

		if db.Postgres() {
			// The server's indexer moves what any instance noted.
			ictx, stop := context.WithCancel(ctx)
			done := make(chan struct{})
			go func() { defer close(done); db.RunSearchIndexer(ictx, func(err error) { t.Error(err) }) }()
			defer func() { stop(); <-done }()
			mustAddr(t, db, s.ID, "10.0.1.1", func(a *ipdesk.Address) { a.Hostname = "moved-by-the-indexer" })
			testwait.Until(t, "the indexer moved the new address", 10*time.Second, func() bool { return sqldb.PendingSearch(db) == 0 })
			if got := find("by-the-indexer"); len(got) != 1 {
				t.Errorf("by-the-indexer found %v", got)
			}
			check("after the indexer")
			return
		}
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

// TestSearchMoveWaitsForWriter: on PostgreSQL, a move into the search
// index that meets an address whose change another instance has noted
// but not committed waits for it, and indexes the text that committed:
// the search finds the address by its new text only, and nothing stays
// behind in the pending list.
func TestSearchMoveWaitsForWriter(t *testing.T) {
	sqldbtest.EachPair(t, func(t *testing.T, db, other *sqldb.DB) {
		if !db.Postgres() {
			t.Skip("SQLite has one writer: a move never runs beside a write")
		}
		s := mustSpace(t, db, "race")
		mustPrefix(t, db, s.ID, "10.0.0.0/24", ipdesk.PrefixSubnet)
		a := mustAddr(t, db, s.ID, "10.0.0.1", func(a *ipdesk.Address) { a.Hostname = "first-name" })
		wantNoErr(t, db.IndexPendingSearch(ctx))
		if _, _, err := db.UpdateAddress(ctx, a.ID, ipdesk.AddressUpdate{Hostname: ptr("second-name")}); err != nil {
			t.Fatal(err)
		}
		// The other instance renames it again and keeps its write open.
		release := sqldb.HoldRename(other, a.ID, "third-name")
		moved := make(chan error, 1)
		go func() { moved <- db.IndexPendingSearch(ctx) }()
		testwait.Until(t, "the move waits for the open write", 10*time.Second, func() bool { return sqldb.LockWaiters(db) > 0 })
		wantNoErr(t, release())
		wantNoErr(t, <-moved)
		wantNoErr(t, db.IndexPendingSearch(ctx))
		if n := sqldb.PendingSearch(db); n != 0 {
			t.Errorf("%d rows pending after the moves", n)
		}
		for q, want := range map[string]int{"third-name": 1, "second-name": 0, "first-name": 0} {
			if got, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q}); err != nil || n != want {
				t.Errorf("q=%q found %d (%v): %v, want %d", q, n, got, err, want)
			}
		}
	})
}

func wantNoErr(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
