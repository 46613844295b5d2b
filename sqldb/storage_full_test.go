package sqldb_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5/pgconn"

	"ipdesk"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// TestStorageFull: a write that finds SQLite's file full (here its size
// limit) fails with ESTORAGEFULL, by the driver's code, and leaves the
// database whole: what was stored before is there, the failed change is
// not, and writes work again once there is room.
func TestStorageFull(t *testing.T) {
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "tester"})
	db := sqldbtest.SQLite(t)
	if err := db.CreateSpace(ctx, &ipdesk.Space{Name: "before"}); err != nil {
		t.Fatal(err)
	}
	if err := sqldb.LimitPages(db, 2); err != nil {
		t.Fatal(err)
	}
	var err error
	stored := 0
	for i := 0; i < 10000 && err == nil; i++ {
		err = db.CreateSpace(ctx, &ipdesk.Space{Name: fmt.Sprintf("space-%d", i), Description: strings.Repeat("x", 900)})
		if err == nil {
			stored++
		}
	}
	if ipdesk.ErrorCode(err) != ipdesk.ESTORAGEFULL || !strings.Contains(ipdesk.ErrorMessage(err), "storage full") {
		t.Fatalf("the write into a full database: code %q, %v", ipdesk.ErrorCode(err), err)
	}
	_, n, ferr := db.FindSpaces(ctx, ipdesk.SpaceFilter{})
	if ferr != nil || n != stored+1 {
		t.Fatalf("after the failed write %d spaces (%v), want %d", n, ferr, stored+1)
	}
	if err := sqldb.LimitPages(db, 1000); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSpace(ctx, &ipdesk.Space{Name: "after"}); err != nil {
		t.Fatalf("with room again: %v", err)
	}
}

// TestStorageFullPostgres: PostgreSQL's disk_full (53100) is the same
// coded error; the driver's error stays in the chain for the log.
func TestStorageFullPostgres(t *testing.T) {
	pe := &pgconn.PgError{Code: "53100", Message: "could not extend file: No space left on device"}
	err := sqldb.MapError(fmt.Errorf("insert: %w", pe))
	if ipdesk.ErrorCode(err) != ipdesk.ESTORAGEFULL {
		t.Fatalf("code %q (%v)", ipdesk.ErrorCode(err), err)
	}
	var got *pgconn.PgError
	if !errors.As(err, &got) || !strings.Contains(err.Error(), "No space left") {
		t.Errorf("the driver's error is lost: %v", err)
	}
	if err := sqldb.MapError(&pgconn.PgError{Code: "53200"}); ipdesk.ErrorCode(err) == ipdesk.ESTORAGEFULL {
		t.Errorf("out of memory is not a full disk")
	}
}

// TestSQLiteBusy: a write that finds SQLite's file held by another
// process's write for longer than the busy timeout (a big import) fails
// with EUNAVAILABLE, by the driver's code, changes nothing, and works again
// once the other write ends. (It waits out the busy timeout of 10 s.)
func TestSQLiteBusy(t *testing.T) {
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "tester"})
	db := sqldbtest.SQLite(t)
	if err := db.CreateSpace(ctx, &ipdesk.Space{Name: "before"}); err != nil {
		t.Fatal(err)
	}
	other, err := sql.Open("sqlite", db.Path())
	if err != nil {
		t.Fatal(err)
	}
	defer other.Close()
	conn, err := other.Conn(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	if _, err := conn.ExecContext(ctx, "BEGIN IMMEDIATE"); err != nil {
		t.Fatal(err)
	}
	err = db.CreateSpace(ctx, &ipdesk.Space{Name: "while-busy"})
	if ipdesk.ErrorCode(err) != ipdesk.EUNAVAILABLE || !strings.Contains(ipdesk.ErrorMessage(err), "busy with a long change by another process") {
		t.Fatalf("the write while another process writes: code %q, %v", ipdesk.ErrorCode(err), err)
	}
	if !strings.Contains(err.Error(), "SQLITE_BUSY") {
		t.Errorf("the driver's error is lost for the log: %v", err)
	}
	if _, err := conn.ExecContext(ctx, "ROLLBACK"); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSpace(ctx, &ipdesk.Space{Name: "after"}); err != nil {
		t.Fatalf("once the other write ended: %v", err)
	}
	spaces, _, err := db.FindSpaces(ctx, ipdesk.SpaceFilter{})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, s := range spaces {
		names = append(names, s.Name)
	}
	if strings.Join(names, ",") != "after,before" && strings.Join(names, ",") != "before,after" {
		t.Errorf("spaces %v, want before and after only", names)
	}
}
