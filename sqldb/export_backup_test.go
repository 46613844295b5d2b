package sqldb

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"testing/fstest"
)

// DumpTo writes the database as an ipdesk dump (what Backup writes for
// PostgreSQL), so that tests can read the dump path on SQLite too.
func (db *DB) DumpTo(ctx context.Context, w io.Writer) error { return db.dump(ctx, w) }

// Path returns the SQLite file of db.
func (db *DB) Path() string { return db.path }

// WithExtraMigrations adds n migrations after version base, each creating
// a table, until the returned function is called.
func WithExtraMigrations(base, n int) (restore func()) {
	m := fstest.MapFS{}
	names, _ := fs.Glob(embeddedMigrations, "migrations/*.sql")
	for _, name := range names {
		b, _ := fs.ReadFile(embeddedMigrations, name)
		m[name] = &fstest.MapFile{Data: b}
	}
	for i := 1; i <= n; i++ {
		m[fmt.Sprintf("migrations/%04d_extra.sql", base+i)] = &fstest.MapFile{Data: []byte(fmt.Sprintf("CREATE TABLE extra_%d (id {id});", i))}
	}
	migrationFS = m
	return func() { migrationFS = embeddedMigrations }
}
