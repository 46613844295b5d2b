package sqldb_test

import (
	"fmt"
	"net/netip"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestSearchAfterBulkImport: the substring search finds the hosts of an
// import large enough to take the bulk path of the search index (on
// PostgreSQL: COPY, and the rows left to the move into the index), and
// those created one by one after it, before and after the move; each
// imported host has the audit entry of its own id.
func TestSearchAfterBulkImport(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		sp := mustSpace(t, db, "bulk")
		mustPrefix(t, db, sp.ID, "10.9.0.0/16", ipdesk.PrefixSubnet)
		mustAddr(t, db, sp.ID, "10.9.200.1", func(a *ipdesk.Address) { a.Hostname = "before-import" })
		rows := make([]*ipdesk.Address, 7000)
		a := netip.MustParseAddr("10.9.0.1")
		for i := range rows {
			rows[i] = &ipdesk.Address{SpaceID: sp.ID, Addr: a, Hostname: fmt.Sprintf("bulkhost%05d", i), Owner: fmt.Sprintf("Owner %d", i)}
			a = a.Next()
		}
		if res, err := db.ImportAddresses(ctx, rows, false); err != nil || res.Created != len(rows) {
			t.Fatalf("import: %+v %v", res, err)
		}
		mustAddr(t, db, sp.ID, "10.9.200.2", func(a *ipdesk.Address) { a.Hostname = "after-import" })
		check := func(when string) {
			t.Helper()
			for q, want := range map[string]int{"bulkhost0421": 10, "lkhost06999": 1, "owner 6543": 1, "before-imp": 1, "er-import": 1, "bulkhost": len(rows)} {
				_, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q})
				if err != nil || n != want {
					t.Errorf("%s: search %q: %d found, want %d: %v", when, q, n, want, err)
				}
			}
		}
		check("after the import")
		wantNoErr(t, db.IndexPendingSearch(ctx))
		if n := sqldb.PendingSearch(db); n != 0 {
			t.Errorf("%d rows pending after the move", n)
		}
		check("after the move")

		got, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: "bulkhost06543"})
		if err != nil || n != 1 {
			t.Fatalf("bulkhost06543: %v %v", got, err)
		}
		typ := ipdesk.ObjectAddress
		entries, _, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &typ, ObjectID: &got[0].ID})
		if err != nil || len(entries) != 1 || !strings.Contains(string(entries[0].After), `"bulkhost06543"`) {
			t.Errorf("audit entries of imported host %d: %v %v", got[0].ID, entries, err)
		}
		if _, total, err := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &typ}); err != nil || total != len(rows)+2 {
			t.Errorf("%d audit entries of addresses, want %d: %v", total, len(rows)+2, err)
		}
	})
}
