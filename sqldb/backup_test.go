package sqldb_test

import (
	"bytes"
	"database/sql"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// populate fills db with some rows of most tables and returns the hosts.
func populate(t *testing.T, db *sqldb.DB, hosts int) []*ipdesk.Address {
	t.Helper()
	s := mustSpace(t, db, "school")
	mustPrefix(t, db, s.ID, "10.0.0.0/16", ipdesk.PrefixSubnet)
	room := &ipdesk.Location{Kind: ipdesk.LocationSite, Name: "Main site"}
	if err := db.CreateLocation(ctx, room); err != nil {
		t.Fatal(err)
	}
	var out []*ipdesk.Address
	for i := range hosts {
		out = append(out, mustAddr(t, db, s.ID, fmt.Sprintf("10.0.%d.%d", i/250, i%250+1), func(a *ipdesk.Address) {
			a.Hostname = fmt.Sprintf("pc-%03d", i)
			a.MAC = ipdesk.MAC{2, 0, 0, 0, byte(i >> 8), byte(i)}
			a.Description = "quotes \" and ; {braces}, Grüße, привет"
			a.DHCPReservation = i%2 == 0
		}))
	}
	u := &ipdesk.User{Name: "teacher", FullName: "A Teacher"}
	if err := db.CreateUser(ctx, u, "secret-password-1"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := db.CreateToken(ctx, u.ID, "pbx"); err != nil {
		t.Fatal(err)
	}
	return out
}

// counts returns the row count of every table of a database file or URL.
func tableCounts(t *testing.T, cs []sqldb.TableCount) map[string]int64 {
	t.Helper()
	m := map[string]int64{}
	for _, c := range cs {
		m[c.Table] = c.Rows
	}
	return m
}

func TestBackupUnderWriteLoadRestoresEverything(t *testing.T) {
	sqldbtest.Each(t, func(t *testing.T, db *sqldb.DB) {
		s := mustSpace(t, db, "load")
		mustPrefix(t, db, s.ID, "10.1.0.0/16", ipdesk.PrefixSubnet)
		var (
			mu    sync.Mutex
			acked []netip.Addr
			stop  = make(chan struct{})
			wg    sync.WaitGroup
			first = make(chan struct{}, 64)
		)
		for w := range 2 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					default:
					}
					ip := netip.AddrFrom4([4]byte{10, 1, byte(w*100 + i/250), byte(i%250 + 1)})
					a := &ipdesk.Address{SpaceID: s.ID, Addr: ip, Hostname: fmt.Sprintf("w%d-%d", w, i)}
					if _, err := db.CreateAddress(ctx, a); err != nil {
						t.Errorf("CreateAddress(%s): %v", ip, err)
						return
					}
					mu.Lock()
					acked = append(acked, ip)
					mu.Unlock()
					select {
					case first <- struct{}{}:
					default:
					}
				}
			}()
		}
		// Wait until the writers have committed some hosts, then back up
		// while they go on.
		for range 20 {
			<-first
		}
		mu.Lock()
		before := append([]netip.Addr(nil), acked...)
		mu.Unlock()
		path := filepath.Join(t.TempDir(), "backup")
		err := db.Backup(ctx, path)
		// Writes went on during the backup: wait for a few more.
		for range 5 {
			<-first
		}
		close(stop)
		wg.Wait()
		if err != nil {
			t.Fatal(err)
		}
		if err := db.Backup(ctx, path); ipdesk.ErrorCode(err) != ipdesk.ECONFLICT {
			t.Errorf("a second backup to the same file: %v, want ECONFLICT", err)
		}
		for _, into := range []struct {
			name string
			db   *sqldb.DB
		}{{"sqlite", sqldbtest.SQLite(t)}, {"postgres", sqldbtest.Postgres(t)}} {
			if into.db == nil {
				continue
			}
			if _, err := into.db.Restore(ctx, path, false); err != nil {
				t.Fatalf("restore into %s: %v", into.name, err)
			}
			for _, ip := range before {
				found, _, err := into.db.FindAddresses(ctx, ipdesk.AddressFilter{SpaceID: &s.ID, Addr: &ip})
				if err != nil || len(found) != 1 {
					t.Fatalf("restored into %s: host %s acknowledged before the backup: %v %v", into.name, ip, found, err)
				}
			}
			if !into.db.Postgres() {
				c, err := sql.Open("sqlite", into.db.Path())
				if err != nil {
					t.Fatal(err)
				}
				if err := sqldb.IntegrityCheck(ctx, c); err != nil {
					t.Errorf("restored database: %v", err)
				}
				c.Close()
			}
		}
		t.Logf("%d hosts acknowledged before the backup, %d in all", len(before), len(acked))
	})
}

func TestRestoreRefusesNonEmptyWithoutForce(t *testing.T) {
	src := sqldbtest.SQLite(t)
	hosts := populate(t, src, 5)
	path := filepath.Join(t.TempDir(), "b.db")
	if err := src.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	dst := sqldbtest.SQLite(t)
	s := mustSpace(t, dst, "other")
	_, err := dst.Restore(ctx, path, false)
	wantCode(t, err, ipdesk.ECONFLICT)
	if _, err := dst.FindSpaceByID(ctx, s.ID); err != nil {
		t.Fatalf("the refused restore changed the database: %v", err)
	}
	before, err := dst.AuthEpoch(ctx)
	if err != nil {
		t.Fatal(err)
	}
	counts, err := dst.Restore(ctx, path, true)
	if err != nil {
		t.Fatal(err)
	}
	// The rights changed wholesale: a running server's cache must not
	// hold, so the epoch moves on and is never restored.
	if after, err := dst.AuthEpoch(ctx); err != nil || after <= before {
		t.Errorf("auth epoch %d before the restore, %d (%v) after: it must move on", before, after, err)
	}
	if _, ok := tableCounts(t, counts)["auth_epoch"]; ok {
		t.Error("the restore wrote the auth epoch of the backup")
	}
	if n := tableCounts(t, counts)["addresses"]; n != int64(len(hosts)) {
		t.Errorf("addresses after restore: %d, want %d", n, len(hosts))
	}
	ss, _, err := dst.FindSpaces(ctx, ipdesk.SpaceFilter{})
	if err != nil || len(ss) != 1 || ss[0].Name != "school" {
		t.Fatalf("spaces after a forced restore: %v %v, want only school", ss, err)
	}
	// The app works on it: search, and new ids after the restored ones.
	found, _, err := dst.FindAddresses(ctx, ipdesk.AddressFilter{Query: "pc-003"})
	if err != nil || len(found) != 1 {
		t.Fatalf("search after restore: %v %v", found, err)
	}
	a := mustAddr(t, dst, ss[0].ID, "10.0.9.9", nil)
	if a.ID <= hosts[len(hosts)-1].ID {
		t.Errorf("new host id %d reuses a restored one", a.ID)
	}
	if _, err := dst.Authenticate(ctx, "teacher", "secret-password-1"); err != nil {
		t.Errorf("sign-in of a restored user: %v", err)
	}
}

func TestRestoreRefusesBadFiles(t *testing.T) {
	dst := sqldbtest.SQLite(t)
	dir := t.TempDir()
	junk := filepath.Join(dir, "junk")
	os.WriteFile(junk, []byte("hello\n"), 0o600)
	if _, err := dst.Restore(ctx, junk, false); err == nil || !strings.Contains(err.Error(), "not an SQLite database or ipdesk dump") {
		t.Errorf("restore of junk: %v", err)
	}
	// A truncated dump.
	src := sqldbtest.SQLite(t)
	populate(t, src, 3)
	var buf bytes.Buffer
	if err := src.DumpTo(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(buf.String(), "\n")
	cut := filepath.Join(dir, "cut")
	os.WriteFile(cut, []byte(strings.Join(lines[:len(lines)-3], "")), 0o600)
	if _, err := dst.Restore(ctx, cut, false); err == nil || !strings.Contains(err.Error(), "truncated") {
		t.Errorf("restore of a truncated dump: %v", err)
	}
	full := filepath.Join(dir, "full")
	os.WriteFile(full, buf.Bytes(), 0o600)
	counts, err := dst.Restore(ctx, full, false)
	if err != nil {
		t.Fatalf("restore of the whole dump: %v", err)
	}
	if n := tableCounts(t, counts)["addresses"]; n != 3 {
		t.Errorf("addresses from the dump: %d, want 3", n)
	}
}

func TestRestoreRefusesNewerSchema(t *testing.T) {
	dir := t.TempDir()
	restore := sqldb.WithExtraMigration(fmt.Sprintf("%04d_future.sql", sqldb.SchemaVersion()+1), "CREATE TABLE future (id {id});")
	src, err := sqldb.Open(ctx, filepath.Join(dir, "new.db"))
	if err != nil {
		restore()
		t.Fatal(err)
	}
	err = src.Backup(ctx, filepath.Join(dir, "new.bak"))
	src.Close()
	restore()
	if err != nil {
		t.Fatal(err)
	}
	dst := sqldbtest.SQLite(t)
	_, err = dst.Restore(ctx, filepath.Join(dir, "new.bak"), true)
	if err == nil || !strings.Contains(err.Error(), "newer than this ipdesk") {
		t.Errorf("restore of a newer schema: %v", err)
	}
}

func TestMigrationBacksUpFirst(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "ipdesk.db")
	db, err := sqldb.Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	populate(t, db, 2)
	db.Close()
	base := sqldb.SchemaVersion()
	for i := 1; i <= sqldb.KeepPreMigrationBackups+1; i++ {
		restore := sqldb.WithExtraMigrations(base, i)
		db, err := sqldb.Open(ctx, path)
		restore()
		if err != nil {
			t.Fatal(err)
		}
		db.Close()
		want := fmt.Sprintf("%s.pre-%04d.bak", path, base+i)
		bak, err := sql.Open("sqlite", want)
		if err != nil {
			t.Fatal(err)
		}
		var hosts, version int
		err = bak.QueryRow("SELECT (SELECT COUNT(*) FROM addresses), (SELECT MAX(version) FROM schema_version)").Scan(&hosts, &version)
		bak.Close()
		if err != nil || hosts != 2 || version != base+i-1 {
			t.Fatalf("backup %s: %d hosts at version %d (%v), want 2 at %d", want, hosts, version, err, base+i-1)
		}
		os.Remove(want + "-wal")
		os.Remove(want + "-shm")
	}
	got, _ := filepath.Glob(path + ".pre-*.bak")
	if len(got) != sqldb.KeepPreMigrationBackups {
		t.Errorf("kept backups %v, want the newest %d", got, sqldb.KeepPreMigrationBackups)
	}
	if _, err := os.Stat(fmt.Sprintf("%s.pre-%04d.bak", path, base+1)); err == nil {
		t.Errorf("the oldest backup was kept")
	}
}

func TestCopySQLiteToPostgres(t *testing.T) {
	dst := sqldbtest.Postgres(t)
	if dst == nil {
		t.Skipf("%s not set", sqldbtest.EnvPostgres)
	}
	src := sqldbtest.SQLite(t)
	hosts := populate(t, src, 300)
	counts, err := sqldb.Copy(ctx, src, dst, false)
	if err != nil {
		t.Fatal(err)
	}
	m := tableCounts(t, counts)
	if m["addresses"] != 300 || m["users"] != 1 || m["api_tokens"] != 1 || m["audit_log"] == 0 {
		t.Errorf("copied counts %v", m)
	}
	// A second copy is refused: the destination holds data now.
	if _, err := sqldb.Copy(ctx, src, dst, false); ipdesk.ErrorCode(err) != ipdesk.ECONFLICT {
		t.Errorf("copy into a filled database: %v, want ECONFLICT", err)
	}
	got, err := dst.FindAddressByID(ctx, hosts[7].ID)
	if err != nil || got.Hostname != hosts[7].Hostname || got.MAC != hosts[7].MAC || got.Description != hosts[7].Description || got.DHCPReservation != hosts[7].DHCPReservation {
		t.Fatalf("host on PostgreSQL: %+v %v, want %+v", got, err, hosts[7])
	}
	found, _, err := dst.FindAddresses(ctx, ipdesk.AddressFilter{Query: "pc-123"})
	if err != nil || len(found) != 1 {
		t.Fatalf("search on PostgreSQL: %v %v", found, err)
	}
	a := mustAddr(t, dst, hosts[0].SpaceID, "10.0.200.1", nil)
	if a.ID <= hosts[len(hosts)-1].ID {
		t.Errorf("new host id %d on PostgreSQL reuses a copied one", a.ID)
	}
	if _, err := dst.Authenticate(ctx, "teacher", "secret-password-1"); err != nil {
		t.Errorf("sign-in of a copied user: %v", err)
	}
	// And back, through a dump.
	path := filepath.Join(t.TempDir(), "pg.dump")
	if err := dst.Backup(ctx, path); err != nil {
		t.Fatal(err)
	}
	back := sqldbtest.SQLite(t)
	counts, err = back.Restore(ctx, path, false)
	if err != nil {
		t.Fatal(err)
	}
	if n := tableCounts(t, counts)["addresses"]; n != 301 {
		t.Errorf("addresses restored from the PostgreSQL dump: %d, want 301", n)
	}
}
