package sqldb_test

import (
	"maps"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestChangesSince: the object types audited after an entry, each with
// its newest entry, as another process sees them.
func TestChangesSince(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		changes, newest, err := db.ChangesSince(ctx, -1)
		if err != nil || changes != nil || newest != 0 {
			t.Fatalf("empty log: %v %d %v", changes, newest, err)
		}
		sp := mustSpace(t, db, "one")
		_, start, err := db.ChangesSince(ctx, -1)
		if err != nil || start == 0 {
			t.Fatalf("after a space: %d %v", start, err)
		}
		mustPrefix(t, db, sp.ID, "10.1.0.0/24", ipdesk.PrefixSubnet)
		mustAddr(t, db, sp.ID, "10.1.0.5", nil)
		a := mustAddr(t, db, sp.ID, "10.1.0.6", nil)
		entries, _, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{})
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]int64{}
		for _, e := range entries { // newest first
			if _, ok := want[e.ObjectType]; !ok && e.ID > start {
				want[e.ObjectType] = e.ID
			}
		}
		changes, newest, err = db.ChangesSince(ctx, start)
		if err != nil || !maps.Equal(changes, want) || newest != entries[0].ID {
			t.Fatalf("since %d: %v %d %v, want %v %d", start, changes, newest, err, want, entries[0].ID)
		}
		if changes[ipdesk.ObjectAddress] != newest || a.ID == 0 {
			t.Errorf("the newest address entry %d is not the newest entry %d", changes[ipdesk.ObjectAddress], newest)
		}
		if changes, n, err := db.ChangesSince(ctx, newest); err != nil || changes != nil || n != newest {
			t.Errorf("since the newest: %v %d %v", changes, n, err)
		}
	})
}
