package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"ipdesk"
)

// auditEntry is one entry of the audit log. before and after are
// marshalled to JSON; nil gives null.
type auditEntry struct {
	action, objectType string
	objectID           int64
	before, after      any
}

// audit writes one audit entry in tx.
func (tx *Tx) audit(action, objectType string, objectID int64, before, after any) error {
	return tx.auditAll([]auditEntry{{action, objectType, objectID, before, after}})
}

// auditOrderLock is the key of the PostgreSQL advisory lock that a
// transaction holds from its first audit entry to its end. Audit entries
// then become visible in the order of their IDs, also across instances, so
// the readers of the changes, which go by ID (ChangesSince), never pass over
// an entry that a slower transaction commits after a later one. SQLite has
// one writer and needs no lock.
const auditOrderLock int64 = 0x6970_6465_736b // "ipdesk"

// auditAll writes audit entries in tx, in order, with few statements.
func (tx *Tx) auditAll(entries []auditEntry) error {
	docs, err := auditDocs(entries)
	if err != nil {
		return err
	}
	return tx.writeAudit(entries, docs)
}

// auditDocs returns the JSON documents of the entries: before and after
// of each, in turn, nil for none. It reads the entries only, so it may run
// beside statements of the transaction.
func auditDocs(entries []auditEntry) ([]any, error) {
	enc := func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		b, err := json.Marshal(v)
		if err != nil {
			return nil, err
		}
		return string(b), nil
	}
	docs := make([]any, 2*len(entries))
	for i, e := range entries {
		var err error
		if docs[2*i], err = enc(e.before); err != nil {
			return nil, err
		}
		if docs[2*i+1], err = enc(e.after); err != nil {
			return nil, err
		}
	}
	return docs, nil
}

// writeAudit writes the entries with their documents (see auditDocs).
func (tx *Tx) writeAudit(entries []auditEntry, docs []any) error {
	for _, e := range entries {
		tx.noteAudited(e.objectType)
	}
	if tx.canCopy(len(entries)) {
		// The order lock first, so that the rows get their ids while it is
		// held (see auditOrderLock).
		if _, err := tx.exec("SELECT pg_advisory_xact_lock($1)", auditOrderLock); err != nil {
			return err
		}
		t, actor := micros(tx.now), ipdesk.ActorName(tx.ctx)
		return tx.copyRowsIn("audit_log", []string{"time", "actor", "action", "object_type", "object_id", "before_json", "after_json"}, len(entries),
			func(dst []any, i int) []any {
				e := entries[i]
				return append(dst, t, actor, e.action, e.objectType, e.objectID, docs[2*i], docs[2*i+1])
			})
	}
	head, tail := "INSERT INTO audit_log (time, actor, action, object_type, object_id, before_json, after_json)", ""
	number := func(n int64) any { return n }
	if tx.db.pg {
		// Every statement takes the lock again (cheap when held), so that
		// a savepoint rolled back cannot lose it, and takes it itself, so
		// that it costs no round trip of its own: the rows get their ids
		// after the lock is held. The values of a VALUES list in FROM are
		// text to PostgreSQL, so numbers go as text and are cast back.
		head = fmt.Sprintf("WITH audit_order AS (SELECT pg_advisory_xact_lock(%d)) "+
			"INSERT INTO audit_log (time, actor, action, object_type, object_id, before_json, after_json) "+
			"SELECT v.t::bigint, v.actor, v.action, v.object_type, v.object_id::bigint, v.before_json, v.after_json FROM audit_order, (", auditOrderLock)
		tail = ") AS v (t, actor, action, object_type, object_id, before_json, after_json)"
		number = func(n int64) any { return strconv.FormatInt(n, 10) }
	}
	t, actor := number(micros(tx.now)), ipdesk.ActorName(tx.ctx)
	return tx.insertLater(head, tail, 7, len(entries),
		func(dst []any, i int) []any {
			e := entries[i]
			return append(dst, t, actor, e.action, e.objectType, number(e.objectID), docs[2*i], docs[2*i+1])
		})
}

// FindAuditEntries returns audit entries, newest first, and their total.
func (db *DB) FindAuditEntries(ctx context.Context, f ipdesk.AuditFilter) ([]*ipdesk.AuditEntry, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.Actor != nil {
		where = append(where, "actor = "+a.add(*f.Actor))
	}
	if f.ObjectType != nil {
		where = append(where, "object_type = "+a.add(*f.ObjectType))
	}
	if f.ObjectID != nil {
		where = append(where, "object_id = "+a.add(*f.ObjectID))
	}
	if f.Since != nil {
		where = append(where, "time >= "+a.add(micros(*f.Since)))
	}
	if f.Until != nil {
		where = append(where, "time < "+a.add(micros(*f.Until)))
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.AuditEntry
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM audit_log"+cond, a...).Scan(&n); err != nil {
			return err
		}
		lim := a
		q := "SELECT id, time, actor, action, object_type, object_id, before_json, after_json FROM audit_log" + cond +
			" ORDER BY time DESC, id DESC LIMIT " + lim.add(f.Limit) + " OFFSET " + lim.add(f.Offset)
		rows, err := tx.query(q, lim...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var e ipdesk.AuditEntry
			var t int64
			var before, after sql.NullString
			if err := rows.Scan(&e.ID, &t, &e.Actor, &e.Action, &e.ObjectType, &e.ObjectID, &before, &after); err != nil {
				return err
			}
			e.Time = fromMicros(t)
			e.Before = rawJSON(before)
			e.After = rawJSON(after)
			out = append(out, &e)
		}
		return rows.Err()
	})
	return out, n, err
}

func rawJSON(s sql.NullString) json.RawMessage {
	if !s.Valid {
		return json.RawMessage("null")
	}
	return json.RawMessage(s.String)
}
