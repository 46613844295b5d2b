// Package sqldb implements ipdesk's services on SQLite (the embedded
// default, a file, pure Go driver, WAL) and PostgreSQL (for several
// instances). One SQL text serves both; the few differences are in dialect.
// Every exported method that changes data is one transaction that also
// writes the audit entry.
package sqldb

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5/pgconn"
	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
	"modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"ipdesk"
)

// DB is ipdesk's storage. It implements ipdesk.Store.
type DB struct {
	w  *sql.DB // writes (SQLite: one connection, immediate transactions)
	r  *sql.DB // reads (SQLite: a pool of read-only connections)
	pg bool
	// dsn is kept on PostgreSQL for the connection that listens for
	// notifications.
	dsn string
	// path is the SQLite database file (for backups).
	path string

	// Now returns the current time; tests may replace it.
	Now func() time.Time

	// OnCommit, if set, is called after each committed write transaction
	// that wrote audit entries, with the object types it audited (each
	// once, in the order first audited). It runs on the committing
	// goroutine, so it must be quick; set it before the DB is shared.
	OnCommit func(objectTypes []string)

	prefixCache  prefixCache
	group        groupCommit
	addressReads addressReads
	search       searchState
	tokenUse     sync.Map // token id → last recorded use (time.Time)
	stmts        stmtCache

	// reservationScopes, if set, checks new DHCP reservations against
	// other spaces (see SetReservationScopes).
	reservationScopes ipdesk.ReservationScopes

	// addressSeq is the sequence of the addresses' ids on PostgreSQL, as
	// an SQL literal (see addressIDs and addressWriter.numberCreates).
	addressSeq string
	// idsAhead are ids of the addresses' sequence fetched ahead, for
	// presumed allocations (see presumeChecks).
	idsAhead idPool
	// lastAllocated is the state the last allocation of the last
	// committed group left of its subnet (PostgreSQL), for the next
	// group's first write (see rememberAllocated).
	lastAllocated atomic.Pointer[subnetAfter]
}

var _ ipdesk.Store = (*DB)(nil)

// IsPostgres reports whether dsn names a PostgreSQL database.
func IsPostgres(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open opens (creating if needed) the database named by dsn — a file path
// or "file:…" URI for SQLite, "postgres://…" for PostgreSQL — and brings its
// schema up to date. A database whose schema is newer than this binary is
// refused.
func Open(ctx context.Context, dsn string) (*DB, error) {
	return open(ctx, dsn, 0)
}

// open opens the database and migrates it to version upTo, or to the
// newest version when upTo is 0.
func open(ctx context.Context, dsn string, upTo int) (*DB, error) {
	db := &DB{Now: time.Now}
	if IsPostgres(dsn) {
		c, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, fmt.Errorf("open postgres: %w", err)
		}
		c.SetMaxOpenConns(20)
		c.SetMaxIdleConns(20)
		c.SetConnMaxIdleTime(5 * time.Minute)
		db.w, db.r, db.pg, db.dsn = c, c, true, dsn
	} else {
		path := strings.TrimPrefix(dsn, "file:")
		if i := strings.IndexByte(path, '?'); i >= 0 {
			path = path[:i]
		}
		if path == "" {
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "db", "database path is empty")
		}
		pragmas := "_pragma=journal_mode(WAL)&_pragma=busy_timeout(10000)&_pragma=foreign_keys(1)&_pragma=synchronous(FULL)"
		db.path = path
		u := "file:" + sqliteURIPath(path) + "?"
		// The writer keeps its statement and savepoint journals in memory
		// (temp_store): they only undo a statement or a write of a group
		// within its transaction, never outlive it, and as a temporary file
		// they cost a write system call for every page a statement first
		// touches (about a tenth of an import's time and of a create's).
		w, err := sql.Open("sqlite", u+pragmas+"&_pragma=temp_store(memory)&_txlock=immediate")
		if err != nil {
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		w.SetMaxOpenConns(1)
		w.SetConnMaxIdleTime(0)
		w.SetConnMaxLifetime(0)
		r, err := sql.Open("sqlite", u+pragmas+"&_pragma=query_only(1)")
		if err != nil {
			w.Close()
			return nil, fmt.Errorf("open sqlite %s: %w", path, err)
		}
		r.SetMaxOpenConns(8)
		r.SetMaxIdleConns(8)
		db.w, db.r = w, r
	}
	if err := db.w.PingContext(ctx); err != nil {
		db.Close()
		return nil, fmt.Errorf("connect to database: %w", err)
	}
	if err := db.migrate(ctx, upTo); err != nil {
		db.Close()
		return nil, err
	}
	if db.pg {
		// The sequence is looked up once: by name in each statement it
		// costs a catalogue search per id.
		var seq string
		if err := db.w.QueryRowContext(ctx, "SELECT pg_get_serial_sequence('addresses', 'id')").Scan(&seq); err != nil {
			db.Close()
			return nil, fmt.Errorf("the sequence of addresses: %w", err)
		}
		db.addressSeq = "'" + strings.ReplaceAll(seq, "'", "''") + "'::regclass"
	}
	return db, nil
}

// sqliteURIPath escapes a file path for an SQLite "file:" URI.
func sqliteURIPath(path string) string {
	return (&url.URL{Path: path}).EscapedPath()
}

// Close closes the database.
func (db *DB) Close() error {
	db.waitSearch()
	db.stmts.close()
	err := db.w.Close()
	if db.r != db.w {
		if e := db.r.Close(); err == nil {
			err = e
		}
	}
	return err
}

// Ping checks that the database answers.
func (db *DB) Ping(ctx context.Context) error {
	return db.r.PingContext(ctx)
}

// Postgres reports whether db is a PostgreSQL database.
func (db *DB) Postgres() bool { return db.pg }

// querier is what the store's helpers run statements on: a transaction,
// or for a single-statement read the connection pool.
type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// Tx is a unit of work with the context it runs for: a write or read
// transaction, or a single read on the pool (see readOne).
type Tx struct {
	q    querier
	pool *sql.DB // the pool q belongs to (see hot)
	db   *DB
	ctx  context.Context
	now  time.Time

	audited []string // object types audited in the transaction
	// writes tells a write transaction from a read.
	writes bool
	// searchNoted counts the rows the transaction added to the search
	// index's pending list (see searchChanged).
	searchNoted int
	// held are the writes held for the next round trip (see later), and
	// heldErr the failure of the last sending of them, which the error of
	// the statement that sent them (the transaction is then aborted) would
	// hide.
	held    []heldWrite
	heldErr error
	// carried counts the statements at the start of held that tx was
	// handed by its group's transaction (BEGIN, SAVEPOINT, the held
	// writes of the write before; see groupTxn), 0 once sent.
	carried int
	// index is the write's place in its group (-1 for the commit).
	index int
	// carryErr is the failure of a held write of the earlier write
	// carryOwner, sent with this one's statements (see runGroup).
	carryErr   error
	carryOwner int
	// presumed tells that the write holds statements whose success it
	// presumed instead of asking first (see presumeAllocation): when they
	// fail, it runs again, asking.
	presumed bool
	// askFirst: the write ran before and its presumed statements failed;
	// it presumes nothing now.
	askFirst bool
	// conn is the connection of a write transaction on PostgreSQL, for
	// COPY (see copyRowsIn); nil otherwise.
	conn *sql.Conn
	// guard is the AuthGuard the write must still check before anything
	// it did is sent (see guardWrite and placeGuard).
	guard *ipdesk.AuthGuard
	// before is what the write before in the group handed on of the
	// subnet it allocated from, after what this write hands on (see
	// subnetAfter).
	before, after *subnetAfter
}

// noteAudited records that the transaction changes objects of the type,
// for OnCommit; every writer of audit entries calls it.
func (tx *Tx) noteAudited(objectType string) {
	if !slices.Contains(tx.audited, objectType) {
		tx.audited = append(tx.audited, objectType)
	}
}

// read runs fn in a read-only transaction, so that a list and its count
// see the same data.
func (db *DB) read(ctx context.Context, fn func(tx *Tx) error) error {
	sqltx, err := db.r.BeginTx(ctx, &sql.TxOptions{ReadOnly: db.pg})
	if err != nil {
		return mapError(err)
	}
	defer db.prepareWanted(db.r) // after the rollback freed the connection
	defer sqltx.Rollback()
	return mapError(fn(&Tx{q: sqltx, pool: db.r, db: db, ctx: ctx, now: db.Now().UTC()}))
}

// readOne runs fn, which must read with a single statement, on the pool
// without a transaction: one statement is consistent by itself, and the
// BEGIN and ROLLBACK would cost as much as the read.
func (db *DB) readOne(ctx context.Context, fn func(tx *Tx) error) error {
	err := fn(&Tx{q: db.r, pool: db.r, db: db, ctx: ctx, now: db.Now().UTC()})
	db.prepareWanted(db.r)
	return mapError(err)
}

// exec, query and queryRow use the transaction's context, and the
// statement prepared for q when there is one (see stmtCache).
func (tx *Tx) exec(q string, args ...any) (sql.Result, error) {
	tx.sendHeldFirst()
	if st := tx.hot(q); st != nil {
		return st.ExecContext(tx.ctx, args...)
	}
	return tx.q.ExecContext(tx.ctx, q, args...)
}

func (tx *Tx) query(q string, args ...any) (*sql.Rows, error) {
	tx.sendHeldFirst()
	if st := tx.hot(q); st != nil {
		return st.QueryContext(tx.ctx, args...)
	}
	return tx.q.QueryContext(tx.ctx, q, args...)
}

func (tx *Tx) queryRow(q string, args ...any) *sql.Row {
	tx.sendHeldFirst()
	if st := tx.hot(q); st != nil {
		return st.QueryRowContext(tx.ctx, args...)
	}
	return tx.q.QueryRowContext(tx.ctx, q, args...)
}

// lockRow takes a row lock on PostgreSQL (SQLite transactions hold the
// write lock already), serialising writers of the same space or subnet.
func (tx *Tx) lockRow(table string, id int64) error {
	if !tx.db.pg {
		return nil
	}
	_, err := tx.exec("SELECT id FROM "+table+" WHERE id = $1 FOR UPDATE", id)
	return err
}

// micros converts a time to the stored form and back.
func micros(t time.Time) int64 { return t.UnixMicro() }

func fromMicros(us int64) time.Time { return time.UnixMicro(us).UTC() }

// mapError turns driver errors into coded errors by the driver's error
// code, never by message text. *ipdesk.Error values pass through.
func mapError(err error) error {
	if err == nil {
		return nil
	}
	var e *ipdesk.Error
	if errors.As(err, &e) {
		return err
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	var le *sqlite.Error
	if errors.As(err, &le) {
		switch le.Code() & 0xff {
		case sqlite3.SQLITE_FULL:
			return storageFull(err)
		case sqlite3.SQLITE_BUSY:
			// Another process held the write lock longer than the busy
			// timeout: a big "ipdesk import", a backup, a restore.
			return &driverError{
				coded:  ipdesk.Errorf(ipdesk.EUNAVAILABLE, "the database is busy with a long change by another process (such as an import); nothing was changed; try again shortly"),
				driver: err,
			}
		}
		switch le.Code() {
		case sqlite3.SQLITE_CONSTRAINT_UNIQUE, sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY:
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the change clashes with an existing record")
		case sqlite3.SQLITE_CONSTRAINT_FOREIGNKEY:
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the change refers to a record that does not exist or is still in use")
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case "23505":
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the change clashes with an existing record")
		case "23503":
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the change refers to a record that does not exist or is still in use")
		case "40001", "40P01":
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the change clashed with a concurrent change; try again")
		case "53100": // disk_full
			return storageFull(err)
		case qAuthEpochMoved:
			return ipdesk.ErrAuthChanged
		case qSubnetMoved:
			// A write that checks its subnet's state runs again when the
			// check fails (see runGroup); this is for a failure that
			// comes out otherwise.
			return ipdesk.Errorf(ipdesk.ECONFLICT, "the subnet changed during the allocation; try again")
		}
	}
	return err
}

// driverError is a coded error (for the person) that keeps the driver's
// error (for the log).
type driverError struct {
	coded  *ipdesk.Error
	driver error
}

func (e *driverError) Unwrap() []error { return []error{e.coded, e.driver} }

func (e *driverError) Error() string { return e.coded.Error() + " (" + e.driver.Error() + ")" }

// storageFull returns the error of a write the database refused because
// its disk (or, for SQLite, its size limit) is full.
func storageFull(driver error) error {
	return &driverError{coded: ipdesk.Errorf(ipdesk.ESTORAGEFULL, "storage full: the database's disk is full, so nothing was changed; free space on the server and try again"), driver: driver}
}

// notFound returns the ENOTFOUND error for an object.
func notFound(object string, id any) error {
	return ipdesk.Errorf(ipdesk.ENOTFOUND, "%s %v does not exist", object, id)
}

// checkVersion refuses a conditional update whose expected version is not
// the stored one.
func checkVersion(object string, id any, want *int64, have int64) error {
	if want != nil && *want != have {
		return ipdesk.Errorf(ipdesk.EPRECONDITION, "%s %v was changed by someone else (version %d, you had %d); reload and try again", object, id, have, *want)
	}
	return nil
}

// likeEscape escapes LIKE wildcards; queries use ESCAPE '\'.
func likeEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// args collects query arguments and returns their $N placeholders.
type args []any

func (a *args) add(v any) string {
	*a = append(*a, v)
	return fmt.Sprintf("$%d", len(*a))
}

func isNoRows(err error) bool { return errors.Is(err, sql.ErrNoRows) }
