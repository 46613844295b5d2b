package sqldb

import (
	"bufio"
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"ipdesk/internal/fsutil"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"modernc.org/sqlite"

	"ipdesk"
)

// A backup is either an SQLite database file (what Backup writes for an
// SQLite database: SQLite's online backup, a consistent snapshot taken
// while the server runs) or an ipdesk dump (what Backup writes for PostgreSQL: every
// table read in one REPEATABLE READ transaction, as JSON lines). Restore
// reads both, into either kind of database.
//
// The dump's lines are, in order:
//
//	{"ipdesk_dump":1,"schema_version":N,"created":"RFC 3339 time"}
//	{"table":"spaces","columns":["id","name",…],"serial":S}   then one line per row:
//	[1,"lab",…]                  values; bytes as {"b64":"…"}
//	{"table_end":"spaces","rows":R}
//	…
//	{"dump_end":true,"tables":T}
//
// S is the highest id the table ever handed out (ids are not reused after
// a restore); a dump without its last line is truncated and refused.

// dumpFormat is the version of the dump format.
const dumpFormat = 1

// sqliteMagic starts every SQLite database file.
const sqliteMagic = "SQLite format 3\x00"

// TableCount is the number of rows of one table.
type TableCount struct {
	Table string
	Rows  int64
}

// Backup writes a consistent snapshot of the database to path, which must
// not exist: an SQLite database file for SQLite, an ipdesk dump for
// PostgreSQL. Writers go on while it runs; every write committed before
// Backup was called is in it. The file appears complete or not at all.
func (db *DB) Backup(ctx context.Context, path string) error {
	if _, err := os.Lstat(path); err == nil {
		return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "file", "backup file %q exists already; choose a new name", path)
	}
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*.tmp")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName)
	if db.pg {
		w := bufio.NewWriterSize(tmp, 1<<20)
		err = db.dump(ctx, w)
		if err == nil {
			err = w.Flush()
		}
	} else {
		err = db.sqliteBackup(ctx, tmpName)
	}
	if err == nil {
		err = tmp.Chmod(0o600)
	}
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	// Link, not rename: a file that appeared at path meanwhile stays.
	if err := os.Link(tmpName, path); err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	return fsutil.SyncDir(dir)
}

// sqliteBackup copies the SQLite database to path with SQLite's online
// backup, in one step on a connection of its own: the copy is the snapshot
// of one read transaction, which sees every commit before it and does not
// hold up writers (WAL). It copies pages as they are, much faster than
// VACUUM INTO, which rebuilds every table and index.
func (db *DB) sqliteBackup(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+sqliteURIPath(db.path)+"?_pragma=busy_timeout(10000)")
	if err != nil {
		return err
	}
	defer c.Close()
	conn, err := c.Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	return conn.Raw(func(dc any) error {
		bc, ok := dc.(interface {
			NewBackup(dst string) (*sqlite.Backup, error)
		})
		if !ok {
			return fmt.Errorf("the SQLite driver has no online backup")
		}
		b, err := bc.NewBackup(path)
		if err != nil {
			return err
		}
		if _, err := b.Step(-1); err != nil {
			b.Finish()
			return err
		}
		return b.Finish()
	})
}

// dump writes every table as an ipdesk dump, read in one snapshot.
func (db *DB) dump(ctx context.Context, w io.Writer) error {
	enc := json.NewEncoder(w)
	version, err := db.CurrentVersion(ctx)
	if err != nil {
		return err
	}
	return db.snapshot(ctx, func(tx *sql.Tx) error {
		tables, err := db.dataTables(ctx, tx)
		if err != nil {
			return err
		}
		serials, err := db.serials(ctx, tx, tables)
		if err != nil {
			return err
		}
		if err := enc.Encode(map[string]any{"ipdesk_dump": dumpFormat, "schema_version": version, "created": time.Now().UTC().Format(time.RFC3339)}); err != nil {
			return err
		}
		for _, t := range tables {
			rows, err := tx.QueryContext(ctx, "SELECT * FROM "+t)
			if err != nil {
				return fmt.Errorf("read %s: %w", t, err)
			}
			cols, _ := rows.Columns()
			if err := enc.Encode(map[string]any{"table": t, "columns": cols, "serial": serials[t]}); err != nil {
				rows.Close()
				return err
			}
			n, err := eachRow(rows, len(cols), func(vals []any) error {
				for i, v := range vals {
					if b, ok := v.([]byte); ok {
						vals[i] = map[string]string{"b64": base64.StdEncoding.EncodeToString(b)}
					}
				}
				return enc.Encode(vals)
			})
			if err != nil {
				return fmt.Errorf("dump %s: %w", t, err)
			}
			if err := enc.Encode(map[string]any{"table_end": t, "rows": n}); err != nil {
				return err
			}
		}
		return enc.Encode(map[string]any{"dump_end": true, "tables": len(tables)})
	})
}

// eachRow calls fn with the values of every row and closes rows; it
// returns the number of rows.
func eachRow(rows *sql.Rows, cols int, fn func(vals []any) error) (int64, error) {
	defer rows.Close()
	var n int64
	vals := make([]any, cols)
	ptrs := make([]any, cols)
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return n, err
		}
		if err := fn(vals); err != nil {
			return n, err
		}
		n++
	}
	return n, rows.Err()
}

// snapshot runs fn in a read-only transaction that sees one state of the
// whole database (REPEATABLE READ on PostgreSQL; an SQLite read
// transaction is a snapshot by itself).
func (db *DB) snapshot(ctx context.Context, fn func(tx *sql.Tx) error) error {
	opts := &sql.TxOptions{ReadOnly: db.pg}
	if db.pg {
		opts.Isolation = sql.LevelRepeatableRead
	}
	tx, err := db.r.BeginTx(ctx, opts)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	return fn(tx)
}

// dataTables returns the tables whose rows a backup holds, each after the
// tables it refers to: every table but schema_version, auth_epoch and the
// search index's tables, which are rebuilt from addresses.
// The auth epoch is the database's own counter: a restore must move it on
// (the triggers do, as the rows of users and grants are replaced), never
// set it back to a number a running server has cached rights under.
func (db *DB) dataTables(ctx context.Context, q querier) ([]string, error) {
	var list string
	if db.pg {
		list = `SELECT table_name FROM information_schema.tables
			WHERE table_schema = current_schema() AND table_type = 'BASE TABLE'
			AND table_name <> 'address_search' AND table_name NOT LIKE 'address\_search\_%' ORDER BY table_name`
	} else {
		list = `SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'
			AND name <> 'address_search' AND name NOT LIKE 'address_search_%' ORDER BY name`
	}
	names, err := queryStrings(ctx, q, list)
	if err != nil {
		return nil, fmt.Errorf("list tables: %w", err)
	}
	names = slices.DeleteFunc(names, func(n string) bool { return n == "schema_version" || n == "auth_epoch" })
	deps := map[string][]string{}
	for _, n := range names {
		var refs []string
		if db.pg {
			refs, err = queryStrings(ctx, q, `SELECT DISTINCT c.confrelid::regclass::text FROM pg_constraint c
				WHERE c.contype = 'f' AND c.conrelid = $1::regclass`, n)
		} else {
			refs, err = queryStrings(ctx, q, `SELECT DISTINCT "table" FROM pragma_foreign_key_list($1)`, n)
		}
		if err != nil {
			return nil, fmt.Errorf("foreign keys of %s: %w", n, err)
		}
		deps[n] = refs
	}
	// Depth-first: each table after the tables it refers to.
	var order []string
	state := map[string]int{} // 1 visiting, 2 done
	var visit func(n string) error
	visit = func(n string) error {
		switch state[n] {
		case 1:
			return fmt.Errorf("foreign keys of table %s form a cycle", n)
		case 2:
			return nil
		}
		state[n] = 1
		for _, d := range deps[n] {
			if d != n && slices.Contains(names, d) {
				if err := visit(d); err != nil {
					return err
				}
			}
		}
		state[n] = 2
		order = append(order, n)
		return nil
	}
	for _, n := range names {
		if err := visit(n); err != nil {
			return nil, err
		}
	}
	return order, nil
}

func queryStrings(ctx context.Context, q querier, query string, args ...any) ([]string, error) {
	rows, err := q.QueryContext(ctx, query, args...)
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

// serialColumn returns the column of table whose values the database
// numbers itself, or "".
func (db *DB) serialColumn(ctx context.Context, q querier, table string) (string, error) {
	var query string
	if db.pg {
		query = `SELECT column_name FROM information_schema.columns
			WHERE table_schema = current_schema() AND table_name = $1 AND is_identity = 'YES'`
	} else {
		query = `SELECT name FROM pragma_table_info($1) WHERE pk = 1 AND lower(type) = 'integer'
			AND (SELECT COUNT(*) FROM pragma_table_info($1) WHERE pk > 0) = 1`
	}
	cols, err := queryStrings(ctx, q, query, table)
	if err != nil || len(cols) == 0 {
		return "", err
	}
	return cols[0], nil
}

// serials returns, per table with a numbered id, the highest id it ever
// handed out (at least the highest present).
func (db *DB) serials(ctx context.Context, q querier, tables []string) (map[string]int64, error) {
	out := map[string]int64{}
	for _, t := range tables {
		col, err := db.serialColumn(ctx, q, t)
		if err != nil {
			return nil, err
		}
		if col == "" {
			continue
		}
		var hi int64
		if err := q.QueryRowContext(ctx, "SELECT COALESCE(MAX("+col+"), 0) FROM "+t).Scan(&hi); err != nil {
			return nil, err
		}
		var seq sql.NullInt64
		if db.pg {
			var name sql.NullString
			if err = q.QueryRowContext(ctx, "SELECT pg_get_serial_sequence($1, $2)", t, col).Scan(&name); err == nil && name.Valid {
				err = q.QueryRowContext(ctx, "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM "+name.String).Scan(&seq)
			}
		} else {
			// sqlite_sequence exists: the schema has AUTOINCREMENT tables.
			err = q.QueryRowContext(ctx, "SELECT COALESCE((SELECT seq FROM sqlite_sequence WHERE name = $1), 0)", t).Scan(&seq)
		}
		if err != nil {
			return nil, fmt.Errorf("id sequence of %s: %w", t, err)
		}
		out[t] = max(hi, seq.Int64)
	}
	return out, nil
}

// Copy copies every row of src into dst, which must have the same schema
// version and be empty (no rows but the default access levels) unless
// force is set, in which case its rows are deleted first. src is read in
// one snapshot and dst is written in one transaction: dst ends up with all
// of src or unchanged. The row count of every table is checked against
// src's and returned.
func Copy(ctx context.Context, src, dst *DB, force bool) ([]TableCount, error) {
	if src.sameAs(dst) {
		return nil, ipdesk.Errorf(ipdesk.EINVALID, "source and destination are the same database")
	}
	sv, err := src.CurrentVersion(ctx)
	if err != nil {
		return nil, err
	}
	dv, err := dst.CurrentVersion(ctx)
	if err != nil {
		return nil, err
	}
	if sv != dv {
		return nil, ipdesk.Errorf(ipdesk.ECONFLICT, "the source has schema version %d, the destination %d; open both with the same ipdesk first", sv, dv)
	}
	var counts []TableCount
	err = src.snapshot(ctx, func(stx *sql.Tx) error {
		tables, err := src.dataTables(ctx, stx)
		if err != nil {
			return err
		}
		serials, err := src.serials(ctx, stx, tables)
		if err != nil {
			return err
		}
		return dst.load(ctx, tables, force, func(tx *Tx, table string, insert func(cols []string, next func() ([]any, error)) (int64, error)) (int64, error) {
			rows, err := stx.QueryContext(ctx, "SELECT * FROM "+table)
			if err != nil {
				return 0, fmt.Errorf("read %s: %w", table, err)
			}
			defer rows.Close()
			cols, err := rows.Columns()
			if err != nil {
				return 0, err
			}
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			n, err := insert(cols, func() ([]any, error) {
				if !rows.Next() {
					return nil, rows.Err()
				}
				if err := rows.Scan(ptrs...); err != nil {
					return nil, err
				}
				return vals, nil
			})
			if err != nil {
				return n, err
			}
			var want int64
			if err := stx.QueryRowContext(ctx, "SELECT COUNT(*) FROM "+table).Scan(&want); err != nil {
				return n, err
			}
			if n != want {
				return n, fmt.Errorf("table %s: read %d rows of %d", table, n, want)
			}
			return n, nil
		}, serials, &counts)
	})
	return counts, err
}

// sameAs tells whether db and o are the same database file or URL.
func (db *DB) sameAs(o *DB) bool {
	if db.pg != o.pg {
		return false
	}
	if db.pg {
		return db.dsn == o.dsn
	}
	a, err1 := filepath.Abs(db.path)
	b, err2 := filepath.Abs(o.path)
	return err1 == nil && err2 == nil && a == b
}

// tableLoader fills one table through insert and returns its row count.
type tableLoader func(tx *Tx, table string, insert func(cols []string, next func() ([]any, error)) (int64, error)) (int64, error)

// load fills the tables of db, in one transaction, from fill; the set of
// tables must be db's. Unless force is set db must be empty; its rows are
// deleted first. The counts after the load are checked against what fill
// inserted and appended to counts; serials sets the id sequences.
func (db *DB) load(ctx context.Context, tables []string, force bool, fill tableLoader, serials map[string]int64, counts *[]TableCount) error {
	return db.write(ctx, func(tx *Tx) error {
		mine, err := db.dataTables(ctx, tx.q)
		if err != nil {
			return err
		}
		if a, b := slices.Sorted(slices.Values(mine)), slices.Sorted(slices.Values(tables)); !slices.Equal(a, b) {
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the backup's tables (%s) are not this database's (%s)", strings.Join(b, ", "), strings.Join(a, ", "))
		}
		if !force {
			for _, t := range mine {
				if t == "access_levels" {
					continue
				}
				var any int
				if err := tx.queryRow("SELECT COUNT(*) FROM (SELECT 1 FROM " + t + " LIMIT 1) x").Scan(&any); err != nil {
					return err
				}
				if any > 0 {
					return ipdesk.FieldErrorf(ipdesk.ECONFLICT, "force", "the destination database is not empty (table %s has rows); use --force to replace its contents", t)
				}
			}
		}
		for i := len(mine) - 1; i >= 0; i-- {
			if _, err := tx.exec("DELETE FROM " + mine[i]); err != nil {
				return fmt.Errorf("empty %s: %w", mine[i], err)
			}
		}
		types, err := db.columnTypes(tx)
		if err != nil {
			return err
		}
		for _, t := range mine {
			n, err := fill(tx, t, func(cols []string, next func() ([]any, error)) (int64, error) {
				return tx.insertRows(t, cols, types[t], next)
			})
			if err != nil {
				return err
			}
			var have int64
			if err := tx.queryRow("SELECT COUNT(*) FROM " + t).Scan(&have); err != nil {
				return err
			}
			if have != n {
				return fmt.Errorf("table %s: %d rows written, %d there", t, n, have)
			}
			*counts = append(*counts, TableCount{Table: t, Rows: have})
		}
		if err := db.setSerials(tx, serials); err != nil {
			return err
		}
		// Who may do what changed wholesale: every cached right is stale.
		if _, err := tx.exec("UPDATE auth_epoch SET epoch = epoch + 1 WHERE id = 1"); err != nil {
			return err
		}
		if err := tx.rebuildSearch(); err != nil {
			return err
		}
		if !db.pg {
			var bad string
			if err := tx.queryRow("SELECT COALESCE((SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1), '')").Scan(&bad); err != nil {
				return err
			}
			if bad != "" {
				return fmt.Errorf("table %s refers to rows that are not in the backup", bad)
			}
		}
		db.prefixCache.mu.Lock()
		db.prefixCache.spaces = nil
		db.prefixCache.mu.Unlock()
		return nil
	})
}

// columnTypes returns the lower-case declared type of every column, by
// table and column.
func (db *DB) columnTypes(tx *Tx) (map[string]map[string]string, error) {
	q := `SELECT m.name, p.name, lower(p.type) FROM sqlite_master m, pragma_table_info(m.name) p WHERE m.type = 'table'`
	if db.pg {
		q = `SELECT table_name, column_name, data_type FROM information_schema.columns WHERE table_schema = current_schema()`
	}
	rows, err := tx.query(q)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]map[string]string{}
	for rows.Next() {
		var t, c, typ string
		if err := rows.Scan(&t, &c, &typ); err != nil {
			return nil, err
		}
		if out[t] == nil {
			out[t] = map[string]string{}
		}
		out[t][c] = typ
	}
	return out, rows.Err()
}

// insertRows inserts the rows next returns (nil at the end) into table,
// converting values to the column types, and returns how many.
func (tx *Tx) insertRows(table string, cols []string, types map[string]string, next func() ([]any, error)) (int64, error) {
	conv := make([]func(any) (any, error), len(cols))
	for i, c := range cols {
		typ, ok := types[c]
		if !ok {
			return 0, fmt.Errorf("table %s has no column %s", table, c)
		}
		conv[i] = converter(typ)
	}
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ")"
	per := max(1, maxBatchArgs/len(cols))
	var n int64
	batch := make([]any, 0, per*len(cols))
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		rows := len(batch) / len(cols)
		_, err := tx.exec(head+" VALUES "+tx.db.valuesList(1, rows, len(cols)), batch...)
		batch = batch[:0]
		return err
	}
	for {
		vals, err := next()
		if err != nil {
			return n, err
		}
		if vals == nil {
			break
		}
		if len(vals) != len(cols) {
			return n, fmt.Errorf("table %s: a row has %d values, want %d", table, len(vals), len(cols))
		}
		for i, v := range vals {
			c, err := conv[i](v)
			if err != nil {
				return n, fmt.Errorf("table %s column %s: %w", table, cols[i], err)
			}
			batch = append(batch, c)
		}
		n++
		if len(batch) >= per*len(cols) {
			if err := flush(); err != nil {
				return n, fmt.Errorf("write %s: %w", table, err)
			}
		}
	}
	if err := flush(); err != nil {
		return n, fmt.Errorf("write %s: %w", table, err)
	}
	return n, nil
}

// converter returns the function that turns a value read from either
// database, or from a dump, into one for a column of the declared type.
func converter(typ string) func(any) (any, error) {
	return func(v any) (any, error) {
		switch x := v.(type) {
		case nil:
			return nil, nil
		case json.Number:
			if i, err := x.Int64(); err == nil {
				v = i
			} else if f, err := x.Float64(); err == nil {
				v = f
			} else {
				return nil, fmt.Errorf("number %q", x.String())
			}
		case map[string]any:
			s, ok := x["b64"].(string)
			if !ok {
				return nil, fmt.Errorf("value %v is not a dump value", x)
			}
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return nil, fmt.Errorf("bytes %q: %w", s, err)
			}
			v = b
		case []byte:
			v = slices.Clone(x)
		}
		switch {
		case typ == "boolean":
			switch x := v.(type) {
			case int64:
				return x != 0, nil
			case bool:
				return x, nil
			}
			return nil, fmt.Errorf("value %v is not a boolean", v)
		case typ == "bytea" || typ == "blob":
			if s, ok := v.(string); ok {
				return []byte(s), nil
			}
		case typ == "text":
			if b, ok := v.([]byte); ok {
				return string(b), nil
			}
		}
		return v, nil
	}
}

// setSerials makes the id sequences of db continue after serials.
func (db *DB) setSerials(tx *Tx, serials map[string]int64) error {
	for _, t := range slices.Sorted(maps.Keys(serials)) {
		hi := serials[t]
		col, err := db.serialColumn(tx.ctx, tx.q, t)
		if err != nil {
			return err
		}
		if col == "" || hi <= 0 {
			continue
		}
		if db.pg {
			_, err = tx.exec("SELECT setval(pg_get_serial_sequence($1, $2), $3)", t, col, hi)
		} else {
			var has int
			if err = tx.queryRow("SELECT COUNT(*) FROM sqlite_master WHERE name = 'sqlite_sequence'").Scan(&has); err != nil || has == 0 {
				return err
			}
			if _, err = tx.exec("DELETE FROM sqlite_sequence WHERE name = $1", t); err == nil {
				_, err = tx.exec("INSERT INTO sqlite_sequence (name, seq) VALUES ($1, $2)", t, hi)
			}
		}
		if err != nil {
			return fmt.Errorf("id sequence of %s: %w", t, err)
		}
	}
	return nil
}

// Restore replaces the contents of db by the backup at path: an SQLite
// database file or an ipdesk dump, made by this or an older ipdesk (the
// backup is brought to db's schema version on a temporary copy; a newer
// one is refused). db must be empty unless force is set. Either all of the
// backup is in db afterwards or db is unchanged. Stop the servers that use
// db first: they keep caches of what they read.
func (db *DB) Restore(ctx context.Context, path string, force bool) ([]TableCount, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("backup file: %w", err)
	}
	defer f.Close()
	head := make([]byte, len(sqliteMagic))
	n, _ := io.ReadFull(f, head)
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		return nil, err
	}
	tmpDir, err := os.MkdirTemp("", "ipdesk-restore-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(tmpDir)
	tmp := filepath.Join(tmpDir, "restore.db")
	if string(head[:n]) == sqliteMagic {
		if err := copyFile(tmp, f); err != nil {
			return nil, err
		}
		if err := checkIntegrity(ctx, tmp); err != nil {
			return nil, fmt.Errorf("backup file %s: %w", path, err)
		}
	} else if err := loadDump(ctx, tmp, f); err != nil {
		return nil, fmt.Errorf("backup file %s: %w", path, err)
	}
	src, err := Open(ctx, tmp)
	if err != nil {
		return nil, fmt.Errorf("backup file %s: %w", path, err)
	}
	defer src.Close()
	return Copy(ctx, src, db, force)
}

func copyFile(dst string, r io.Reader) error {
	f, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(f, r); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// checkIntegrity runs SQLite's integrity check on the file.
func checkIntegrity(ctx context.Context, path string) error {
	c, err := sql.Open("sqlite", "file:"+sqliteURIPath(path))
	if err != nil {
		return err
	}
	defer c.Close()
	return IntegrityCheck(ctx, c)
}

// IntegrityCheck runs SQLite's integrity and foreign key checks on c.
func IntegrityCheck(ctx context.Context, c *sql.DB) error {
	var res string
	if err := c.QueryRowContext(ctx, "PRAGMA integrity_check").Scan(&res); err != nil {
		return fmt.Errorf("not a readable SQLite database: %w", err)
	}
	if res != "ok" {
		return fmt.Errorf("the SQLite integrity check fails: %s", res)
	}
	var bad string
	if err := c.QueryRowContext(ctx, "SELECT COALESCE((SELECT \"table\" FROM pragma_foreign_key_check LIMIT 1), '')").Scan(&bad); err != nil {
		return err
	}
	if bad != "" {
		return fmt.Errorf("table %s refers to rows that do not exist", bad)
	}
	return nil
}

// dumpLine is any line of a dump but a row.
type dumpLine struct {
	Format   int      `json:"ipdesk_dump"`
	Version  int      `json:"schema_version"`
	Table    string   `json:"table"`
	Columns  []string `json:"columns"`
	Serial   int64    `json:"serial"`
	TableEnd string   `json:"table_end"`
	Rows     int64    `json:"rows"`
	DumpEnd  bool     `json:"dump_end"`
	Tables   int      `json:"tables"`
}

// loadDump makes a new SQLite database at path with the dump's schema
// version and its rows.
func loadDump(ctx context.Context, path string, r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 1<<20), 256<<20)
	line := 0
	nextLine := func() ([]byte, error) {
		if !sc.Scan() {
			if err := sc.Err(); err != nil {
				return nil, err
			}
			return nil, fmt.Errorf("the dump ends after line %d: it is truncated", line)
		}
		line++
		return sc.Bytes(), nil
	}
	meta := func() (dumpLine, error) {
		var d dumpLine
		b, err := nextLine()
		if err != nil {
			return d, err
		}
		if err := json.Unmarshal(b, &d); err != nil {
			return d, fmt.Errorf("line %d: %w", line, err)
		}
		return d, nil
	}
	h, err := meta()
	if err != nil {
		return fmt.Errorf("not an SQLite database or ipdesk dump: %w", err)
	}
	if h.Format != dumpFormat {
		return fmt.Errorf("not an SQLite database or ipdesk dump (format %d)", h.Format)
	}
	if h.Version < 1 || h.Version > SchemaVersion() {
		return ipdesk.Errorf(ipdesk.ECONFLICT, "the dump has schema version %d; this ipdesk knows versions 1 to %d", h.Version, SchemaVersion())
	}
	db, err := open(ctx, path, h.Version)
	if err != nil {
		return err
	}
	defer db.Close()
	tables, err := db.dataTables(ctx, db.r)
	if err != nil {
		return err
	}
	pending := map[string]bool{}
	for _, t := range tables {
		pending[t] = true
	}
	serials := map[string]int64{}
	// The tables come in the dump's order: each after those it refers to.
	return db.write(ctx, func(tx *Tx) error {
		for i := len(tables) - 1; i >= 0; i-- {
			if _, err := tx.exec("DELETE FROM " + tables[i]); err != nil {
				return err
			}
		}
		types, err := db.columnTypes(tx)
		if err != nil {
			return err
		}
		loaded := 0
		for {
			d, err := meta()
			if err != nil {
				return err
			}
			if d.DumpEnd {
				if d.Tables != loaded {
					return fmt.Errorf("the dump says it has %d tables, it has %d", d.Tables, loaded)
				}
				break
			}
			if d.Table == "" || !pending[d.Table] {
				return fmt.Errorf("line %d: table %q is not expected here", line, d.Table)
			}
			delete(pending, d.Table)
			loaded++
			serials[d.Table] = d.Serial
			var end dumpLine
			n, err := tx.insertRows(d.Table, d.Columns, types[d.Table], func() ([]any, error) {
				b, err := nextLine()
				if err != nil {
					return nil, err
				}
				if len(b) > 0 && b[0] == '{' {
					if err := json.Unmarshal(b, &end); err != nil || end.TableEnd != d.Table {
						return nil, fmt.Errorf("line %d: expected a row or the end of table %s", line, d.Table)
					}
					return nil, nil
				}
				dec := json.NewDecoder(bytes.NewReader(b))
				dec.UseNumber()
				var vals []any
				if err := dec.Decode(&vals); err != nil {
					return nil, fmt.Errorf("line %d: %w", line, err)
				}
				return vals, nil
			})
			if err != nil {
				return err
			}
			if n != end.Rows {
				return fmt.Errorf("table %s: %d rows in the dump, its end says %d", d.Table, n, end.Rows)
			}
		}
		if len(pending) > 0 {
			return fmt.Errorf("the dump lacks the tables %s", strings.Join(slices.Sorted(maps.Keys(pending)), ", "))
		}
		if err := db.setSerials(tx, serials); err != nil {
			return err
		}
		return tx.rebuildSearch()
	})
}

// rebuildSearch fills the search index from the addresses (a no-op before
// the index exists).
func (tx *Tx) rebuildSearch() error {
	var has int
	exists, fill := "SELECT COUNT(*) FROM sqlite_master WHERE name = 'address_search'", "INSERT INTO address_search (rowid, search) SELECT id, search FROM addresses"
	if tx.db.pg {
		exists, fill = "SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = 'address_search'", "INSERT INTO address_search (id, search) SELECT id, search FROM addresses"
	}
	if err := tx.queryRow(exists).Scan(&has); err != nil || has == 0 {
		return err
	}
	for _, q := range []string{"DELETE FROM address_search", "DELETE FROM address_search_pending", fill} {
		if _, err := tx.exec(q); err != nil {
			return err
		}
	}
	return nil
}
