package sqldb

import (
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
