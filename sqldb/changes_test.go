package sqldb_test

import (
	"maps"
	"net/netip"
	"slices"
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

// TestChangesOfAnotherHandle: the change readers see what another handle
// on the database (another process) commits, also past more entries than
// one page of the reader holds, and the actors of only the asked types.
func TestChangesOfAnotherHandle(t *testing.T) {
	sqldbtest.EachDSN(t, func(t *testing.T, dsn string) {
		watcher := sqldbtest.Open(t, dsn)
		writer := sqldbtest.Open(t, dsn)
		_, start, err := watcher.ChangesSince(ctx, -1)
		if err != nil {
			t.Fatal(err)
		}
		_, actorStart, err := watcher.ChangeActorsSince(ctx, -1, nil)
		if err != nil || actorStart != start {
			t.Fatalf("ChangeActorsSince(-1) = %d %v, ChangesSince(-1) = %d", actorStart, err, start)
		}
		sp := mustSpace(t, writer, "far")
		mustPrefix(t, writer, sp.ID, "10.8.0.0/16", ipdesk.PrefixSubnet)
		const hosts = 6000 // more than a page of the readers
		rows := make([]*ipdesk.Address, hosts)
		a := netip.MustParseAddr("10.8.0.1")
		for i := range rows {
			rows[i] = &ipdesk.Address{SpaceID: sp.ID, Addr: a}
			a = a.Next()
		}
		if res, err := writer.ImportAddresses(ctx, rows, false); err != nil || res.Created != hosts {
			t.Fatalf("import: %+v %v", res, err)
		}
		other := ipdesk.NewContextWithActor(ctx, &ipdesk.User{ID: 2, Name: "other"})
		desc := "changed"
		if _, err := writer.UpdateSpace(other, sp.ID, ipdesk.SpaceUpdate{Description: &desc}); err != nil {
			t.Fatal(err)
		}
		entries, _, err := watcher.FindAuditEntries(ctx, ipdesk.AuditFilter{Page: ipdesk.Page{Limit: 1}})
		if err != nil {
			t.Fatal(err)
		}
		newest := entries[0].ID
		changes, n, err := watcher.ChangesSince(ctx, start)
		if err != nil || n != newest || changes[ipdesk.ObjectSpace] != newest || changes[ipdesk.ObjectAddress] == 0 || changes[ipdesk.ObjectPrefix] == 0 {
			t.Fatalf("ChangesSince(%d) = %v %d %v; newest entry %d", start, changes, n, err, newest)
		}
		if changes[ipdesk.ObjectAddress] != newest-1 {
			t.Errorf("newest address entry %d, want %d", changes[ipdesk.ObjectAddress], newest-1)
		}
		actors, n, err := watcher.ChangeActorsSince(ctx, start, []string{ipdesk.ObjectSpace})
		if err != nil || n != newest || !slices.Equal(actors, []string{"tester", "other"}) {
			t.Errorf("actors of space changes since %d: %q %d %v", start, actors, n, err)
		}
		typ := ipdesk.ObjectPrefix
		pe, _, err := watcher.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &typ, Page: ipdesk.Page{Limit: 1}})
		if err != nil || len(pe) != 1 {
			t.Fatalf("the prefix's audit entry: %v %v", pe, err)
		}
		actors, _, err = watcher.ChangeActorsSince(ctx, pe[0].ID, []string{ipdesk.ObjectAddress, ipdesk.ObjectPrefix})
		if err != nil || !slices.Equal(actors, []string{"tester"}) {
			t.Errorf("actors of address changes: %q %v", actors, err)
		}
		if changes, n, err := watcher.ChangesSince(ctx, newest); err != nil || changes != nil || n != newest {
			t.Errorf("since the newest: %v %d %v", changes, n, err)
		}
	})
}
