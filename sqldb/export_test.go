package sqldb

import (
	"context"
	"fmt"
	"io/fs"
	"maps"
	"net/netip"
	"strings"
	"testing/fstest"

	"ipdesk"
	"ipdesk/ipam"
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

// HoldWrites starts a write that waits until release is called, so that
// the writes that come meanwhile queue up and then commit as one group;
// queued tells how many wait.
func HoldWrites(db *DB) (queued func() int, release func()) {
	started, rel, done := make(chan struct{}), make(chan struct{}), make(chan error)
	go func() {
		done <- db.write(context.Background(), func(*Tx) error {
			close(started)
			<-rel
			return nil
		})
	}()
	<-started
	queued = func() int {
		db.group.mu.Lock()
		defer db.group.mu.Unlock()
		return len(db.group.queue)
	}
	return queued, func() { close(rel); <-done }
}

// WriteThenFail runs a write that stores a space named name, with its
// audit entry, and then breaks a constraint of the database (a second
// space of that name): a write that fails in SQL after changing data.
func WriteThenFail(ctx context.Context, db *DB, name string) error {
	return db.write(ctx, func(tx *Tx) error {
		for range 2 {
			var id int64
			if err := tx.queryRow("INSERT INTO spaces (name, description, created_at, updated_at) VALUES ($1, '', 0, 0) RETURNING id", name).Scan(&id); err != nil {
				return err
			}
			if err := tx.audit(ipdesk.ActionCreate, ipdesk.ObjectSpace, id, nil, nil); err != nil {
				return err
			}
		}
		return nil
	})
}

// FailAtOnce runs a write that fails before it sends a statement.
func FailAtOnce(ctx context.Context, db *DB) error {
	return db.write(ctx, func(*Tx) error {
		return ipdesk.Errorf(ipdesk.EINVALID, "refused before any statement")
	})
}

// WriteThenFailHeld runs a write that stores a space named name with its
// audit entry and holds (see later) a second insert of it, which breaks a
// constraint only when it is sent: on PostgreSQL after the write's own
// code returned, with the end of its savepoint.
func WriteThenFailHeld(ctx context.Context, db *DB, name string) error {
	return db.write(ctx, func(tx *Tx) error {
		var id int64
		if err := tx.queryRow("INSERT INTO spaces (name, description, created_at, updated_at) VALUES ($1, '', 0, 0) RETURNING id", name).Scan(&id); err != nil {
			return err
		}
		if err := tx.audit(ipdesk.ActionCreate, ipdesk.ObjectSpace, id, nil, nil); err != nil {
			return err
		}
		return tx.later("INSERT INTO spaces (name, description, created_at, updated_at) VALUES ($1, '', 0, 0)", name)
	})
}

// HoldAuditedWrite starts a write that stores a space named name with its
// audit entry and then waits until release is called, which returns the
// write's error.
func HoldAuditedWrite(db *DB, name string) (release func() error) {
	return holdWrite(db, func(tx *Tx) error {
		var id int64
		if err := tx.queryRow("INSERT INTO spaces (name, description, created_at, updated_at) VALUES ($1, '', 0, 0) RETURNING id", name).Scan(&id); err != nil {
			return err
		}
		return tx.audit(ipdesk.ActionCreate, ipdesk.ObjectSpace, id, nil, map[string]string{"name": name})
	})
}

// HoldRename starts a write that renames address id (a hostname that
// changes its search text), notes it for the search index and then waits,
// uncommitted, until release is called, which returns the write's error.
func HoldRename(db *DB, id int64, hostname string) (release func() error) {
	return holdWrite(db, func(tx *Tx) error {
		before, err := tx.findAddress(id)
		if err != nil {
			return err
		}
		a := *before
		a.Hostname = hostname
		a.Version++
		return tx.writeUpdate(before, &a)
	})
}

// holdWrite starts a write that runs fn, sends the writes fn held (they
// take their locks now, not with the commit; see later) and then waits,
// uncommitted, until release is called, which returns the write's error.
// It returns once fn ran.
func holdWrite(db *DB, fn func(tx *Tx) error) (release func() error) {
	started, rel, done := make(chan struct{}), make(chan struct{}), make(chan error, 1)
	go func() {
		done <- db.write(context.Background(), func(tx *Tx) error {
			err := fn(tx)
			if err == nil {
				err = tx.sendHeld()
			}
			close(started)
			if err == nil {
				<-rel
			}
			return err
		})
	}()
	<-started
	return func() error { close(rel); return <-done }
}

// LockWaiters counts the transactions of db's database that wait for a
// row or transaction lock.
func LockWaiters(db *DB) int {
	var n int
	if err := db.r.QueryRow("SELECT COUNT(*) FROM pg_locks WHERE locktype IN ('transactionid', 'tuple') AND NOT granted AND database IS DISTINCT FROM 0").Scan(&n); err != nil {
		return -1
	}
	return n
}

// AuditOrderWaiters counts the transactions of db's database that wait
// for the audit order lock.
func AuditOrderWaiters(db *DB) int {
	var n int
	if err := db.r.QueryRow("SELECT COUNT(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted AND database = (SELECT oid FROM pg_database WHERE datname = current_database())").Scan(&n); err != nil {
		return -1
	}
	return n
}

// OpenAt opens the database dsn migrated up to schema version v only.
func OpenAt(ctx context.Context, dsn string, v int) (*DB, error) { return open(ctx, dsn, v) }

// Exec runs a statement on the writer, outside the store's rules.
func Exec(db *DB, q string, args ...any) error {
	_, err := db.w.Exec(db.dialect(q), args...)
	return err
}

// PendingSearch returns the number of rows waiting for SQLite's search
// index, after any move into it that is running has ended.
func PendingSearch(db *DB) int {
	db.waitSearch()
	var n int
	db.w.QueryRow("SELECT COUNT(*) FROM address_search_pending").Scan(&n)
	return n
}

// SearchBatch is searchBatch.
const SearchBatch = searchBatch

// ExplainAddressFilter returns the query plan of the addresses matching f,
// with sequential scans turned off on PostgreSQL so that the plan names an
// index whenever one can serve the condition, whatever the table's size.
func ExplainAddressFilter(ctx context.Context, db *DB, f ipdesk.AddressFilter) (string, error) {
	var a args
	cond, err := db.addressWhere(f, &a)
	if err != nil {
		return "", err
	}
	q := "EXPLAIN QUERY PLAN SELECT id FROM addresses" + cond
	if db.pg {
		q = "EXPLAIN SELECT id FROM addresses" + cond
	}
	var plan []string
	err = db.read(ctx, func(tx *Tx) error {
		if db.pg {
			if _, err := tx.exec("SET LOCAL enable_seqscan = off"); err != nil {
				return err
			}
		}
		rows, err := tx.query(q, a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		cols, err := rows.Columns()
		if err != nil {
			return err
		}
		for rows.Next() {
			vals := make([]any, len(cols))
			ptrs := make([]any, len(cols))
			for i := range vals {
				ptrs[i] = &vals[i]
			}
			if err := rows.Scan(ptrs...); err != nil {
				return err
			}
			plan = append(plan, fmt.Sprint(vals[len(vals)-1]))
		}
		return rows.Err()
	})
	return strings.Join(plan, "\n"), err
}

// SubnetsHanded returns how many allocations of db knew their subnet from
// the write before them in their group.
func SubnetsHanded(db *DB) int64 { return db.group.subnetsHanded.Load() }

// Presumed tells how many allocations presumed their checks.
func Presumed(db *DB) int64 { return db.group.presumed.Load() }

// ChunkCountsAgree checks the used counts of subnet prefixID's chunks
// against its addresses.
func ChunkCountsAgree(ctx context.Context, db *DB, prefixID int64) error {
	want := map[netip.Addr]int{}
	rows, err := db.r.QueryContext(ctx, "SELECT address FROM addresses WHERE prefix_id = $1", prefixID)
	if err != nil {
		return err
	}
	for rows.Next() {
		var s string
		if err := rows.Scan(&s); err != nil {
			rows.Close()
			return err
		}
		want[ipam.ChunkOf(netip.MustParseAddr(s))]++
	}
	rows.Close()
	got := map[netip.Addr]int{}
	rows, err = db.r.QueryContext(ctx, "SELECT chunk_key, used FROM address_chunks WHERE prefix_id = $1 AND used <> 0", prefixID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var k []byte
		var n int
		if err := rows.Scan(&k, &n); err != nil {
			return err
		}
		a, _ := ipam.AddrFromKey(k)
		got[a] = n
	}
	if !maps.Equal(got, want) {
		return fmt.Errorf("chunk counts %v, addresses per chunk %v", got, want)
	}
	return rows.Err()
}

// OnAddressRead calls fn with the ids of each shared read of addresses
// (PostgreSQL) before its statement; fn may block it. queued tells how
// many requests wait for the read after the running one.
func OnAddressRead(db *DB, fn func(ids []int64)) (queued func() int) {
	db.addressReads.beforeRead = fn
	return db.addressReads.q.Queued
}

// EarlierStates tells how many allocations took their subnet's state from
// an earlier transaction, and how many of them found it changed.
func EarlierStates(db *DB) (used, moved int64) {
	return db.group.earlierStates.Load(), db.group.earlierMoved.Load()
}
