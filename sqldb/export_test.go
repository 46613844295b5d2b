package sqldb

import (
	"fmt"
	"io/fs"
	"testing/fstest"
)

// WithExtraMigration adds a migration after the embedded ones until the
// returned function is called.
func WithExtraMigration(name, sql string) (restore func()) {
	m := fstest.MapFS{}
	names, _ := fs.Glob(embeddedMigrations, "migrations/*.sql")
	for _, n := range names {
		b, _ := fs.ReadFile(embeddedMigrations, n)
		m[n] = &fstest.MapFile{Data: b}
	}
	m["migrations/"+name] = &fstest.MapFile{Data: []byte(sql)}
	migrationFS = m
	return func() { migrationFS = embeddedMigrations }
}

// WithApplyRunsKept sets the number of runs kept per target until the
// returned function is called.
func WithApplyRunsKept(n int) (restore func()) {
	applyRunsKept = n
	return func() { applyRunsKept = ApplyRunsKept }
}

// LimitPages lets the SQLite database db grow by at most extra pages, as
// if its disk were full then (PRAGMA max_page_count on the writer's one
// connection).
func LimitPages(db *DB, extra int) error {
	var n int
	if err := db.w.QueryRow("PRAGMA page_count").Scan(&n); err != nil {
		return err
	}
	_, err := db.w.Exec(fmt.Sprintf("PRAGMA max_page_count = %d", n+extra))
	return err
}

// MapError is mapError.
var MapError = mapError
