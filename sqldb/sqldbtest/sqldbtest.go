// Package sqldbtest opens throw-away ipdesk databases for tests: an SQLite
// file always, and a fresh PostgreSQL database when IPDESK_TEST_POSTGRES
// names a server (under CI=true it must).
package sqldbtest

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"testing"

	_ "github.com/jackc/pgx/v5/stdlib" // the "pgx" driver

	"ipdesk/sqldb"
)

// EnvPostgres names the environment variable holding the PostgreSQL server
// URL (with a user that may create databases).
const EnvPostgres = "IPDESK_TEST_POSTGRES"

// SQLite returns a new database in a temporary file, closed at the end of
// the test.
func SQLite(t testing.TB) *sqldb.DB {
	t.Helper()
	return open(t, filepath.Join(t.TempDir(), "ipdesk.db"))
}

// PostgresDSN creates a new empty PostgreSQL database, dropped at the end
// of the test, and returns its URL; "" when no server is configured (a
// failure under CI).
func PostgresDSN(t testing.TB) string {
	t.Helper()
	if os.Getenv(EnvPostgres) == "" {
		if os.Getenv("CI") == "true" {
			t.Fatalf("%s is not set under CI: the storage suite must run on PostgreSQL", EnvPostgres)
		}
		return ""
	}
	dsn, drop, err := CreatePostgresDB()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(drop)
	return dsn
}

// CreatePostgresDB creates a new empty database on the server named by
// IPDESK_TEST_POSTGRES and returns its URL and a function that drops it.
func CreatePostgresDB() (dsn string, drop func(), err error) {
	base := os.Getenv(EnvPostgres)
	admin, err := sql.Open("pgx", base)
	if err != nil {
		return "", nil, err
	}
	b := make([]byte, 6)
	rand.Read(b)
	name := "ipdesk_test_" + hex.EncodeToString(b)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		admin.Close()
		return "", nil, fmt.Errorf("create test database: %w", err)
	}
	drop = func() {
		admin.Exec("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)")
		admin.Close()
	}
	u, err := url.Parse(base)
	if err != nil {
		drop()
		return "", nil, err
	}
	u.Path = "/" + name
	return u.String(), drop, nil
}

// Postgres returns a new database on the configured PostgreSQL server, or
// nil when there is none (outside CI).
func Postgres(t testing.TB) *sqldb.DB {
	t.Helper()
	dsn := PostgresDSN(t)
	if dsn == "" {
		return nil
	}
	return open(t, dsn)
}

func open(t testing.TB, dsn string) *sqldb.DB {
	t.Helper()
	db, err := sqldb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("open %s: %v", dsn, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// Each runs fn as a subtest on SQLite and, when configured, on PostgreSQL.
func Each(t *testing.T, fn func(t *testing.T, db *sqldb.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) {
		db := Postgres(t)
		if db == nil {
			t.Skipf("%s not set", EnvPostgres)
		}
		fn(t, db)
	})
}

// Open opens the database dsn (a second handle on a database stands for a
// second ipdesk instance), closed at the end of the test.
func Open(t testing.TB, dsn string) *sqldb.DB {
	t.Helper()
	return open(t, dsn)
}

// EachDSN runs fn as a subtest with the name of a new SQLite file and,
// when configured, of a new PostgreSQL database, for tests that open
// several handles on one database (as several ipdesk processes do).
func EachDSN(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "ipdesk.db")) })
	t.Run("postgres", func(t *testing.T) {
		dsn := PostgresDSN(t)
		if dsn == "" {
			t.Skipf("%s not set", EnvPostgres)
		}
		fn(t, dsn)
	})
}
