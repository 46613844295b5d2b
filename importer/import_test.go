package importer_test

import (
	"context"
	"net/netip"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/importer"
	"ipdesk/sqldb/sqldbtest"
)

// TestImport: problems of the reader, of name resolution, of the Allow
// hook and of the store come back with their lines, sorted, and nothing
// is written; without problems everything is.
func TestImport(t *testing.T) {
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "tester"})
	db := sqldbtest.SQLite(t)
	s := &ipdesk.Space{Name: "lan"}
	if err := db.CreateSpace(ctx, s); err != nil {
		t.Fatal(err)
	}
	if _, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("10.0.0.0/24")}); err != nil {
		t.Fatal(err)
	}
	csv := "space,address,mac,hostname\n" +
		"lan,10.0.0.5,aa:bb:cc:00:00:05,pc5\n" + // line 2: good
		"lan,10.0.0.6,zz:zz,pc6\n" + // line 3: bad MAC (reader)
		"nowhere,10.0.0.7,,pc7\n" + // line 4: no such space
		"lan,10.0.0.8,,pc8\n" + // line 5: refused by Allow
		"lan,10.0.9.9,,pc9\n" // line 6: outside every subnet (store)
	hosts, problems, err := importer.ReadHostsCSV(strings.NewReader(csv))
	if err != nil {
		t.Fatal(err)
	}
	deny := func(h importer.Host, a *ipdesk.Address) error {
		if a.Addr == netip.MustParseAddr("10.0.0.8") {
			return ipdesk.FieldErrorf(ipdesk.EFORBIDDEN, "address", "no right on %s", a.Addr)
		}
		return nil
	}
	rep, err := importer.Import(ctx, db, importer.Batch{Hosts: hosts, Problems: problems, Allow: deny})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range rep.Problems {
		got = append(got, p.Pos()+" "+p.Field)
	}
	if want := "line 3 mac|line 4 space|line 5 address|line 6 address"; strings.Join(got, "|") != want {
		t.Fatalf("problems %q, want %q (%v)", strings.Join(got, "|"), want, rep.Problems)
	}
	if rep.Created != 0 || rep.Updated != 0 {
		t.Fatalf("a failed import reports %d created, %d updated", rep.Created, rep.Updated)
	}
	if _, n, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{}); n != 0 {
		t.Fatalf("a failed import stored %d addresses", n)
	}

	// The good row alone, and the same again: created, then unchanged.
	for i, want := range []int{1, 0} {
		rep, err := importer.Import(ctx, db, importer.Batch{Hosts: hosts[:1], Allow: deny})
		if err != nil || len(rep.Problems) > 0 || rep.Created != want || rep.Rows != 1 || rep.Unchanged() != 1-want {
			t.Fatalf("import %d: %+v %v", i+1, rep, err)
		}
	}
}

// TestImportRepeatedAddress: an address given twice in one file is a
// problem of both rows, with the other row's line; nothing is written.
func TestImportRepeatedAddress(t *testing.T) {
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "tester"})
	db := sqldbtest.SQLite(t)
	for _, name := range []string{"lan", "lab"} {
		s := &ipdesk.Space{Name: name}
		if err := db.CreateSpace(ctx, s); err != nil {
			t.Fatal(err)
		}
		if _, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: s.ID, Prefix: netip.MustParsePrefix("10.0.0.0/24")}); err != nil {
			t.Fatal(err)
		}
	}
	csv := "space,address,hostname\n" +
		"lan,10.0.0.5,pc5\n" + // line 2
		"lan,10.0.0.6,pc6\n" + // line 3
		"lab,10.0.0.5,other\n" + // line 4: another space, fine
		"lan,10.0.0.5,pc5b\n" + // line 5: again
		"lan,10.0.0.5,pc5c\n" // line 6: and again
	hosts, problems, err := importer.ReadHostsCSV(strings.NewReader(csv))
	if err != nil || len(problems) > 0 {
		t.Fatal(problems, err)
	}
	for _, dry := range []bool{true, false} {
		rep, err := importer.Import(ctx, db, importer.Batch{Hosts: hosts, DryRun: dry})
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range rep.Problems {
			got = append(got, p.Pos()+" "+p.Field+": "+p.Err)
		}
		want := []string{
			`line 2 address: address 10.0.0.5 of space "lan" is also on line 5; give each address once`,
			`line 5 address: address 10.0.0.5 of space "lan" is also on line 2; give each address once`,
			`line 6 address: address 10.0.0.5 of space "lan" is also on line 2; give each address once`,
		}
		if strings.Join(got, "\n") != strings.Join(want, "\n") {
			t.Fatalf("dry run %v: problems\n%s\nwant\n%s", dry, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if rep.Created != 0 || rep.Updated != 0 {
			t.Fatalf("created %d, updated %d", rep.Created, rep.Updated)
		}
	}
	if _, n, _ := db.FindAddresses(ctx, ipdesk.AddressFilter{}); n != 0 {
		t.Fatalf("an import with a repeated address stored %d addresses", n)
	}
}
