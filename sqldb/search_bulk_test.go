package sqldb_test

import (
	"fmt"
	"net/netip"
	"testing"

	"ipdesk"
	"ipdesk/sqldb/sqldbtest"
)

// TestSearchAfterBulkImport: the substring search finds the hosts of an
// import large enough to take the bulk path of the search index, and
// those created one by one after it.
func TestSearchAfterBulkImport(t *testing.T) {
	db := sqldbtest.SQLite(t)
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
	for q, want := range map[string]int{"bulkhost0421": 10, "lkhost06999": 1, "owner 6543": 1, "before-imp": 1, "er-import": 1, "bulkhost": len(rows)} {
		_, n, err := db.FindAddresses(ctx, ipdesk.AddressFilter{Query: q})
		if err != nil || n != want {
			t.Errorf("search %q: %d found, want %d: %v", q, n, want, err)
		}
	}
}
