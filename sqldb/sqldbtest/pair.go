package sqldbtest

import (
	"path/filepath"
	"testing"

	"ipdesk/sqldb"
)

// EachPair runs fn as a subtest on SQLite and, when configured, on
// PostgreSQL, with two handles opened separately on the same database: a
// server and a command-line process, or two server instances.
func EachPair(t *testing.T, fn func(t *testing.T, a, b *sqldb.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) {
		dsn := filepath.Join(t.TempDir(), "ipdesk.db")
		a := open(t, dsn)
		fn(t, a, open(t, dsn))
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := PostgresDSN(t)
		if dsn == "" {
			t.Skipf("%s not set", EnvPostgres)
		}
		a := open(t, dsn)
		fn(t, a, open(t, dsn))
	})
}
