package sqldb_test

import (
	"context"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/internal/testwait"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestChangesSeenInIDOrder: on PostgreSQL two instances write at once; the
// one that took the later audit ID cannot commit before the earlier one,
// so a reader that goes by ID never passes over the earlier entry.
func TestChangesSeenInIDOrder(t *testing.T) {
	sqldbtest.EachPair(t, func(t *testing.T, db, other *sqldb.DB) {
		if !db.Postgres() {
			t.Skip("SQLite has one writer: its entries commit in the order of their IDs")
		}
		ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "tester"})
		_, last, err := db.ChangesSince(ctx, -1)
		if err != nil {
			t.Fatal(err)
		}
		release := sqldb.HoldAuditedWrite(db, "slow")
		fast := make(chan error, 1)
		go func() { fast <- other.CreateSpace(ctx, &ipdesk.Space{Name: "fast"}) }()

		// The second write must wait for the first one's lock; it must not
		// commit while the first one is open.
		waiting := false
		deadline := testwait.Deadline(t)
		for !waiting {
			select {
			case err := <-fast:
				release()
				t.Fatalf("the later write committed (%v) while an earlier audited write was open", err)
			default:
			}
			if time.Now().After(deadline) {
				t.Fatal("the later write neither waited nor finished")
			}
			waiting = sqldb.AuditOrderWaiters(db) > 0
			time.Sleep(10 * time.Millisecond)
		}
		if err := release(); err != nil {
			t.Fatal(err)
		}
		if err := <-fast; err != nil {
			t.Fatal(err)
		}
		types, newest, err := db.ChangesSince(ctx, last)
		if err != nil {
			t.Fatal(err)
		}
		space := ipdesk.ObjectSpace
		entries, _, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &space})
		if err != nil {
			t.Fatal(err)
		}
		if len(entries) < 2 || types[ipdesk.ObjectSpace] != newest {
			t.Fatalf("changes since %d: %v, newest %d; space entries %d", last, types, newest, len(entries))
		}
	})
}
