package sqldb_test

import (
	"context"
	"fmt"
	"net/netip"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/ipam"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestMigrations opens a database at the current schema, upgrades it with
// a newer binary's extra migration at start, and shows that the older
// binary then refuses it with a clear message.
func TestMigrations(t *testing.T) {
	eachEmptyDB(t, func(t *testing.T, name, dsn string) {
		bg := context.Background()
		db, err := sqldb.Open(bg, dsn)
		if err != nil {
			t.Fatal(err)
		}
		if v, _ := db.CurrentVersion(bg); v != sqldb.SchemaVersion() {
			t.Fatalf("fresh database at version %d, want %d", v, sqldb.SchemaVersion())
		}
		if err := db.CreateSpace(ctx, &ipdesk.Space{Name: "kept"}); err != nil {
			t.Fatal(err)
		}
		levels, _ := db.FindAccessLevels(bg)
		if len(levels) != 4 || levels[3].Name != "full" {
			t.Fatalf("default access levels: %v", levels)
		}
		db.Close()

		// Reopening at the same version changes nothing.
		db, err = sqldb.Open(bg, dsn)
		if err != nil {
			t.Fatal(err)
		}
		db.Close()

		next := sqldb.SchemaVersion() + 1
		restore := sqldb.WithExtraMigration(
			fmt.Sprintf("%04d_note.sql", next),
			"ALTER TABLE spaces ADD COLUMN note TEXT NOT NULL DEFAULT 'upgraded';")
		db, err = sqldb.Open(bg, dsn)
		if err != nil {
			restore()
			t.Fatalf("upgrade: %v", err)
		}
		v, _ := db.CurrentVersion(bg)
		spaces, _, err := db.FindSpaces(bg, ipdesk.SpaceFilter{})
		db.Close()
		restore()
		if v != next || err != nil || len(spaces) != 1 || spaces[0].Name != "kept" {
			t.Fatalf("after upgrade: version %d, spaces %v, %v", v, spaces, err)
		}

		// The older binary refuses the newer database.
		_, err = sqldb.Open(bg, dsn)
		if err == nil || !strings.Contains(err.Error(), "newer than this ipdesk") {
			t.Fatalf("older binary opened a newer database: %v", err)
		}
	})
}

func TestUsersAndTokens(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		u := &ipdesk.User{Name: "anna", FullName: "Anna K."}
		wantCode(t, db.CreateUser(ctx, u, "short"), ipdesk.EINVALID)
		if err := db.CreateUser(ctx, u, "a long passphrase"); err != nil {
			t.Fatal(err)
		}
		wantCode(t, db.CreateUser(ctx, &ipdesk.User{Name: "anna"}, "a long passphrase"), ipdesk.ECONFLICT)
		if _, err := db.Authenticate(ctx, "anna", "a long passphrase"); err != nil {
			t.Fatal(err)
		}
		_, err := db.Authenticate(ctx, "anna", "a long passphras")
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		_, err = db.Authenticate(ctx, "nobody", "a long passphrase")
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		secret, tok, err := db.CreateToken(ctx, u.ID, "script")
		if err != nil || tok.ID == 0 {
			t.Fatal(err)
		}
		got, err := db.FindUserByToken(ctx, secret)
		if err != nil || got.ID != u.ID {
			t.Fatalf("FindUserByToken: %v %v", got, err)
		}
		_, err = db.FindUserByToken(ctx, secret+"x")
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		if _, err := db.UpdateUser(ctx, u.ID, ipdesk.UserUpdate{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		_, err = db.FindUserByToken(ctx, secret)
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		_, err = db.Authenticate(ctx, "anna", "a long passphrase")
		wantCode(t, err, ipdesk.EUNAUTHORIZED)
		if err := db.SetPassword(ctx, u.ID, "another passphrase"); err != nil {
			t.Fatal(err)
		}
		entries, _, _ := db.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: ptr(ipdesk.ObjectUser)})
		for _, e := range entries {
			if strings.Contains(string(e.After), "passphrase") || strings.Contains(string(e.After), "argon2") {
				t.Fatalf("audit entry leaks the password: %s", e.After)
			}
		}
	})
}

// TestSearchTextMigration: migration 12 rewrites the search texts written
// by older versions (a MAC in four notations) into the current form, and
// the search index with them, so that every way of searching still finds
// the hosts of an upgraded database.
func TestSearchTextMigration(t *testing.T) {
	eachEmptyDB(t, func(t *testing.T, name, dsn string) {
		bg := context.Background()
		db, err := sqldb.OpenAt(bg, dsn, 11)
		if err != nil {
			t.Fatal(err)
		}
		s := mustSpace(t, db, "old")
		p := mustPrefix(t, db, s.ID, "10.5.0.0/24", ipdesk.PrefixSubnet)
		// The row and its search text as version 11 wrote them.
		old := "10.5.0.7\x1f00:1a:2b:3c:4d:5e 00-1a-2b-3c-4d-5e 001a.2b3c.4d5e 001a2b3c4d5e\x1foldhost\x1fada\x1f\x1f\x1f"
		addr := netip.MustParseAddr("10.5.0.7")
		if err := sqldb.Exec(db, `INSERT INTO addresses (id, space_id, prefix_id, ip_key, address, status, mac, hostname, hostname_lc, description, owner, phone,
			phone_digits, phone_digits_rev, access_level, dhcp_reservation, search, version, created_at, updated_at)
			VALUES (7, $1, $2, $3, '10.5.0.7', 'active', '00:1a:2b:3c:4d:5e', 'oldhost', 'oldhost', '', 'Ada', '', '', '', 1, false, $4, 1, 0, 0)`,
			s.ID, p.ID, ipam.Key(addr), old); err != nil {
			t.Fatal(err)
		}
		if name == "sqlite" {
			if err := sqldb.Exec(db, "INSERT INTO address_search (rowid, search) VALUES (7, $1)", old); err != nil {
				t.Fatal(err)
			}
		}
		db.Close()

		db, err = sqldb.Open(bg, dsn)
		if err != nil {
			t.Fatal(err)
		}
		defer db.Close()
		for _, q := range []string{"oldhost", "2b:3c:4d", "1a-2b-3c", "001a.2b3c", "a2b3c4", "10.5.0.", "ada"} {
			got, n, err := db.FindAddresses(bg, ipdesk.AddressFilter{Query: q})
			if err != nil || n != 1 || len(got) != 1 || got[0].ID != 7 {
				t.Errorf("q=%q after the migration: %v (count %d), %v", q, got, n, err)
			}
		}
	})
}

// eachEmptyDB runs fn in a subtest for an empty SQLite file and, where
// one is configured, an empty PostgreSQL database.
func eachEmptyDB(t *testing.T, fn func(t *testing.T, name, dsn string)) {
	dsns := map[string]string{"sqlite": filepath.Join(t.TempDir(), "m.db")}
	if pg := sqldbtest.PostgresDSN(t); pg != "" {
		dsns["postgres"] = pg
	}
	for name, dsn := range dsns {
		t.Run(name, func(t *testing.T) { fn(t, name, dsn) })
	}
}
