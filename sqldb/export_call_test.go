package sqldb

import (
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
	rows, err := db.w.Query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, rows.Err()
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
