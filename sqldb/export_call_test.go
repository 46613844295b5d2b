package sqldb

import (
	"context"
	"io/fs"
	"strings"
)

// ExecRaw runs a statement on db's write connection, for tests that set
// up rows as an older ipdesk left them.
func ExecRaw(db *DB, q string) error {
	_, err := db.w.Exec(q)
	return err
}

// QueryStrings returns the first column of q's rows.
func QueryStrings(db *DB, q string) ([]string, error) {
	return queryStrings(context.Background(), db.w, q)
}

// MigrationUpdates returns the UPDATE statements of a migration file as
// db runs them.
func MigrationUpdates(db *DB, name string) ([]string, error) {
	b, err := fs.ReadFile(embeddedMigrations, "migrations/"+name)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, stmt := range splitStatements(db.dialect(string(b))) {
		if strings.HasPrefix(stmt, "UPDATE") {
			out = append(out, stmt)
		}
	}
	return out, nil
}
