package sqldb

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"ipdesk"
)

var (
	_ ipdesk.CallService       = (*DB)(nil)
	_ ipdesk.CallEventListener = (*DB)(nil)
)

// Call events are not audited: the call log is itself the record of what
// the PBX reported, and a call changes nothing that an apply or an admin
// acts on. Purges of old calls are audited.

// callEventsLock is the PostgreSQL advisory lock that writers of call
// events hold until they commit, so that event ids are committed in
// ascending order on all instances.
const callEventsLock = 7369006

// callEventsChannel is the PostgreSQL notification channel of call events;
// the payload is the id of the new event.
const callEventsChannel = "ipdesk_call_events"

const callColumns = "c.id, c.pbx_call_id, c.started, c.updated, c.state, c.from_raw, c.from_number, c.from_kind, c.to_raw, c.to_number, c.to_kind, c.extension, c.source, c.matches_json"

const callEventColumns = "e.id, e.call_id, e.time, e.kind, e.state, e.extension, e.source"

// The hot statements of the intake and the feed, prepared once on SQLite
// (see stmtCache).
const (
	qCallByPBXID     = "SELECT " + callColumns + " FROM calls c WHERE c.pbx_call_id = $1 AND c.started >= $2 ORDER BY c.started DESC, c.id DESC LIMIT 1"
	qInsertCallEvent = "INSERT INTO call_events (call_id, time, kind, state, extension, source) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
	qInsertCall      = `INSERT INTO calls (pbx_call_id, started, updated, state, from_raw, from_number, from_kind, to_raw, to_number, to_kind,
		extension, source, match_kind, matches_json, search) VALUES ($1, $2, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) RETURNING id`
	qAdvanceCall     = "UPDATE calls SET state = $1, started = $2, updated = $3, extension = $4, search = $5 WHERE id = $6"
	qCallEventsAfter = "SELECT " + callColumns + ", " + callEventColumns + " FROM call_events e JOIN calls c ON c.id = e.call_id WHERE e.id > $1 ORDER BY e.id LIMIT $2"
	qLastCallEvent   = "SELECT COALESCE(MAX(id), 0) FROM call_events"
)

func scanCall(row interface{ Scan(...any) error }, extra ...any) (*ipdesk.Call, error) {
	var c ipdesk.Call
	var started, updated int64
	var state, fromKind, toKind, matches string
	dst := append([]any{&c.ID, &c.PBXCallID, &started, &updated, &state, &c.From.Raw, &c.From.Number, &fromKind,
		&c.To.Raw, &c.To.Number, &toKind, &c.Extension, &c.Source, &matches}, extra...)
	if err := row.Scan(dst...); err != nil {
		return nil, err
	}
	c.Started, c.Updated = fromMicros(started), fromMicros(updated)
	c.State = ipdesk.CallState(state)
	c.From.Kind, c.To.Kind = ipdesk.NumberKind(fromKind), ipdesk.NumberKind(toKind)
	if err := json.Unmarshal([]byte(matches), &c.Matches); err != nil {
		return nil, fmt.Errorf("call %d: stored matches: %w", c.ID, err)
	}
	normalizeMatches(&c.Matches)
	return &c, nil
}

// callEventScan receives the columns of callEventColumns.
type callEventScan struct {
	ev         ipdesk.CallEvent
	t          int64
	kind, stat string
}

func (s *callEventScan) dst() []any {
	return []any{&s.ev.ID, &s.ev.CallID, &s.t, &s.kind, &s.stat, &s.ev.Extension, &s.ev.Source}
}

func (s *callEventScan) event() *ipdesk.CallEvent {
	ev := s.ev
	ev.Time = fromMicros(s.t)
	ev.Kind, ev.State = ipdesk.CallEventKind(s.kind), ipdesk.CallState(s.stat)
	return &ev
}

// normalizeMatches makes the lists of m non-nil, so that they are answered
// as [] rather than null.
func normalizeMatches(m *ipdesk.CallMatches) {
	if m.Kind == "" {
		m.Kind = ipdesk.MatchNone
	}
	if m.Locations == nil {
		m.Locations = []ipdesk.CallLocation{}
	}
	if m.People == nil {
		m.People = []ipdesk.CallPerson{}
	}
	if m.Hosts == nil {
		m.Hosts = []ipdesk.CallHost{}
	}
}

// callSearch is the lower-case text the call log's search matches: the
// numbers and what they matched.
func callSearch(c *ipdesk.Call) string {
	return c.SearchText()
}

// RecordCallEvent stores a reported call event: a new call, or the next
// event of the call with the same PBX call id started within
// ipdesk.CallCorrelationWindow. On PostgreSQL the writers of all instances
// take turns (an advisory lock held to the commit), so that event ids are
// committed in ascending order, and the commit notifies every listening
// instance of the new id.
func (db *DB) RecordCallEvent(ctx context.Context, r *ipdesk.CallReport) (*ipdesk.CallEvent, error) {
	if err := r.Validate(); err != nil {
		return nil, err
	}
	at := r.Time.UTC().Truncate(time.Microsecond)
	if err := db.prepare(ctx, db.w, qCallByPBXID, qInsertCallEvent, qInsertCall, qAdvanceCall); err != nil {
		return nil, mapError(err)
	}
	var out *ipdesk.CallEvent
	err := db.write(ctx, func(tx *Tx) error {
		if db.pg {
			if _, err := tx.exec("SELECT pg_advisory_xact_lock($1)", callEventsLock); err != nil {
				return err
			}
		}
		var c *ipdesk.Call
		if r.PBXCallID != "" {
			var err error
			if c, err = tx.callByPBXID(r.PBXCallID, at.Add(-ipdesk.CallCorrelationWindow)); err != nil {
				return err
			}
		}
		var err error
		if c == nil {
			c, err = tx.insertCall(r, at)
		} else {
			err = tx.advanceCall(c, r, at)
		}
		if err != nil {
			return err
		}
		ev := &ipdesk.CallEvent{CallID: c.ID, Kind: r.Kind, Time: at, State: c.State, Extension: r.Extension, Source: r.Source}
		if err := tx.queryRow(qInsertCallEvent,
			c.ID, micros(at), string(ev.Kind), string(ev.State), ev.Extension, ev.Source).Scan(&ev.ID); err != nil {
			return err
		}
		if db.pg {
			if _, err := tx.exec("SELECT pg_notify($1, $2)", callEventsChannel, strconv.FormatInt(ev.ID, 10)); err != nil {
				return err
			}
		}
		ev.Call = c
		out = ev
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// callByPBXID returns the newest call with the PBX call id that started at
// or after since, or nil.
func (tx *Tx) callByPBXID(pbxID string, since time.Time) (*ipdesk.Call, error) {
	c, err := scanCall(tx.queryRow(qCallByPBXID, pbxID, micros(since)))
	if isNoRows(err) {
		return nil, nil
	}
	return c, err
}

// insertCall stores the call a report starts.
func (tx *Tx) insertCall(r *ipdesk.CallReport, at time.Time) (*ipdesk.Call, error) {
	c := &ipdesk.Call{
		PBXCallID: r.PBXCallID, Started: at, Updated: at, State: ipdesk.InitialCallState(r.Kind),
		From: r.From, To: r.To, Source: r.Source, Matches: r.Matches,
	}
	if r.Kind == ipdesk.CallAnswer {
		c.Extension = r.Extension
	}
	if c.From.Kind == "" {
		c.From.Kind = ipdesk.NumberUnknown
	}
	if c.To.Kind == "" {
		c.To.Kind = ipdesk.NumberUnknown
	}
	normalizeMatches(&c.Matches)
	matches, err := json.Marshal(c.Matches)
	if err != nil {
		return nil, err
	}
	err = tx.queryRow(qInsertCall,
		c.PBXCallID, micros(at), string(c.State), c.From.Raw, c.From.Number, string(c.From.Kind), c.To.Raw, c.To.Number, string(c.To.Kind),
		c.Extension, c.Source, string(c.Matches.Kind), string(matches), callSearch(c)).Scan(&c.ID)
	return c, err
}

// advanceCall applies the event of r to the stored call c.
func (tx *Tx) advanceCall(c *ipdesk.Call, r *ipdesk.CallReport, at time.Time) error {
	c.State = c.State.Next(r.Kind)
	if at.After(c.Updated) {
		c.Updated = at
	}
	if at.Before(c.Started) {
		c.Started = at // the ring arrived after a later event
	}
	if r.Kind == ipdesk.CallAnswer && r.Extension != "" {
		c.Extension = r.Extension
	}
	_, err := tx.exec(qAdvanceCall,
		string(c.State), micros(c.Started), micros(c.Updated), c.Extension, callSearch(c), c.ID)
	return err
}

// FindCallByID returns a call with its events, oldest first.
func (db *DB) FindCallByID(ctx context.Context, id int64) (*ipdesk.Call, error) {
	var c *ipdesk.Call
	err := db.read(ctx, func(tx *Tx) error {
		var err error
		c, err = scanCall(tx.queryRow("SELECT "+callColumns+" FROM calls c WHERE c.id = $1", id))
		if isNoRows(err) {
			return notFound("call", id)
		} else if err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+callEventColumns+" FROM call_events e WHERE e.call_id = $1 ORDER BY e.id", id)
		if err != nil {
			return err
		}
		defer rows.Close()
		c.Events = []*ipdesk.CallEvent{}
		for rows.Next() {
			var s callEventScan
			if err := rows.Scan(s.dst()...); err != nil {
				return err
			}
			c.Events = append(c.Events, s.event())
		}
		return rows.Err()
	})
	return c, err
}

// FindCalls returns calls, newest first, and their total.
func (db *DB) FindCalls(ctx context.Context, f ipdesk.CallFilter) ([]*ipdesk.Call, int, error) {
	f.Page = f.Page.Normalize()
	var a args
	var where []string
	if f.State != nil {
		where = append(where, "c.state = "+a.add(string(*f.State)))
	}
	if f.Match != nil {
		where = append(where, "c.match_kind = "+a.add(string(*f.Match)))
	}
	if f.Since != nil {
		where = append(where, "c.started >= "+a.add(micros(*f.Since)))
	}
	if f.Until != nil {
		where = append(where, "c.started < "+a.add(micros(*f.Until)))
	}
	if q := strings.TrimSpace(f.Query); q != "" {
		where = append(where, "c.search LIKE "+a.add("%"+likeEscape(strings.ToLower(q))+"%")+` ESCAPE '\'`)
	}
	cond := ""
	if len(where) > 0 {
		cond = " WHERE " + strings.Join(where, " AND ")
	}
	var out []*ipdesk.Call
	var n int
	err := db.read(ctx, func(tx *Tx) error {
		if err := tx.queryRow("SELECT COUNT(*) FROM calls c"+cond, a...).Scan(&n); err != nil {
			return err
		}
		rows, err := tx.query("SELECT "+callColumns+" FROM calls c"+cond+" ORDER BY c.started DESC, c.id DESC LIMIT "+a.add(f.Limit)+" OFFSET "+a.add(f.Offset), a...)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			c, err := scanCall(rows)
			if err != nil {
				return err
			}
			out = append(out, c)
		}
		return rows.Err()
	})
	return out, n, err
}

// MaxCallEventsRead bounds one read of CallEventsAfter.
const MaxCallEventsRead = 1000

// CallEventsAfter returns up to limit events after the id after, in id
// order, each with its call.
func (db *DB) CallEventsAfter(ctx context.Context, after int64, limit int) ([]*ipdesk.CallEvent, error) {
	limit = min(max(limit, 1), MaxCallEventsRead)
	if err := db.prepare(ctx, db.r, qCallEventsAfter); err != nil {
		return nil, mapError(err)
	}
	var out []*ipdesk.CallEvent
	err := db.readOne(ctx, func(tx *Tx) error {
		rows, err := tx.query(qCallEventsAfter, after, limit)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var s callEventScan
			c, err := scanCall(rows, s.dst()...)
			if err != nil {
				return err
			}
			ev := s.event()
			ev.Call = c
			out = append(out, ev)
		}
		return rows.Err()
	})
	return out, err
}

// LastCallEventID returns the id of the newest call event, 0 for none.
func (db *DB) LastCallEventID(ctx context.Context) (int64, error) {
	if err := db.prepare(ctx, db.r, qLastCallEvent); err != nil {
		return 0, mapError(err)
	}
	var id int64
	err := db.readOne(ctx, func(tx *Tx) error {
		return tx.queryRow(qLastCallEvent).Scan(&id)
	})
	return id, err
}

// callPurge is the audit record of a purge.
type callPurge struct {
	StartedBefore time.Time `json:"started_before"`
	Calls         int       `json:"calls"`
}

// PurgeCalls removes the calls started before t with their events, and
// records the purge in the audit log when it removed any.
func (db *DB) PurgeCalls(ctx context.Context, before time.Time) (int, error) {
	var n int
	err := db.write(ctx, func(tx *Tx) error {
		cut := micros(before)
		if _, err := tx.exec("DELETE FROM call_events WHERE call_id IN (SELECT id FROM calls WHERE started < $1)", cut); err != nil {
			return err
		}
		res, err := tx.exec("DELETE FROM calls WHERE started < $1", cut)
		if err != nil {
			return err
		}
		rows, err := res.RowsAffected()
		if err != nil || rows == 0 {
			return err
		}
		n = int(rows)
		return tx.audit(ipdesk.ActionDelete, ipdesk.ObjectCall, 0, callPurge{StartedBefore: before.UTC(), Calls: n}, nil)
	})
	return n, err
}

// ListenCallEvents calls fn with the id of every call event committed by
// any instance, from a connection of its own that LISTENs on PostgreSQL;
// see ipdesk.CallEventListener. On SQLite every writer is this process and
// it returns nil at once.
func (db *DB) ListenCallEvents(ctx context.Context, ready func(), fn func(id int64)) error {
	if !db.pg {
		return nil
	}
	conn, err := pgx.Connect(ctx, db.dsn)
	if err != nil {
		return fmt.Errorf("listen for call events: %w", err)
	}
	defer conn.Close(context.WithoutCancel(ctx))
	if _, err := conn.Exec(ctx, "LISTEN "+callEventsChannel); err != nil {
		return fmt.Errorf("listen for call events: %w", err)
	}
	ready()
	for {
		n, err := conn.WaitForNotification(ctx)
		if ctx.Err() != nil {
			return nil
		}
		if err != nil {
			return fmt.Errorf("listen for call events: %w", err)
		}
		if id, err := strconv.ParseInt(n.Payload, 10, 64); err == nil {
			fn(id)
		}
	}
}

// addAll adds the values to a and returns their placeholders,
// comma-separated.
func addAll[T any](a *args, vals []T) string {
	ph := make([]string, len(vals))
	for i, v := range vals {
		ph[i] = a.add(v)
	}
	return strings.Join(ph, ", ")
}

// reverseDigits returns the digits of a phone number back to front: the
// stored form that makes "ends with" a prefix range on an index.
func reverseDigits(d string) string {
	b := []byte(d)
	for i, j := 0, len(b)-1; i < j; i, j = i+1, j-1 {
		b[i], b[j] = b[j], b[i]
	}
	return string(b)
}

// prefixRange returns the bounds of the strings of digits that start with
// p: lo <= s < hi; hi is "" when there is no upper bound (p is all nines).
// Digit strings compare the same in every collation, so the bounds work on
// PostgreSQL's text as on SQLite's.
func prefixRange(p string) (lo, hi string) {
	b := []byte(p)
	for i := len(b) - 1; i >= 0; i-- {
		if b[i] < '9' {
			b[i]++
			return p, string(b[:i+1])
		}
	}
	return p, ""
}

// phoneCond returns the condition that a digits column (and its reversed
// twin) meets for q, or "" when q selects nothing.
func phoneCond(a *args, col, revCol string, q ipdesk.PhoneQuery) string {
	var terms []string
	if len(q.Digits) > 0 {
		terms = append(terms, col+" IN ("+addAll(a, q.Digits)+")")
	}
	if q.Suffix != "" {
		lo, hi := prefixRange(reverseDigits(q.Suffix))
		t := revCol + " >= " + a.add(lo) + " AND " + revCol + " <> ''"
		if hi != "" {
			t += " AND " + revCol + " < " + a.add(hi)
		}
		terms = append(terms, "("+t+")")
	}
	return strings.Join(terms, " OR ")
}

// Bounds of a phone lookup.
const maxMatchLocations = 20

const locationPathColumns = "l.id, l.kind, l.name, COALESCE(p.name, ''), COALESCE(g.name, '')"

const locationPathJoin = " FROM locations l LEFT JOIN locations p ON p.id = l.parent_id LEFT JOIN locations g ON g.id = p.parent_id"

func scanCallLocation(row interface{ Scan(...any) error }, extra ...any) (ipdesk.CallLocation, error) {
	var l ipdesk.CallLocation
	var kind, parent, grand string
	if err := row.Scan(append([]any{&l.ID, &kind, &l.Name, &parent, &grand}, extra...)...); err != nil {
		return l, err
	}
	l.Kind = ipdesk.LocationKind(kind)
	var path []string
	for _, n := range []string{grand, parent, l.Name} {
		if n != "" {
			path = append(path, n)
		}
	}
	l.Path = strings.Join(path, " > ")
	return l, nil
}

const callHostColumns = "id, space_id, address, mac, hostname, owner, phone, location_id"

func scanCallHost(row interface{ Scan(...any) error }) (ipdesk.CallHost, error) {
	var h ipdesk.CallHost
	var addr, mac string
	var loc sql.NullInt64
	if err := row.Scan(&h.ID, &h.SpaceID, &addr, &mac, &h.Hostname, &h.Owner, &h.Phone, &loc); err != nil {
		return h, err
	}
	var err error
	if h.Addr, err = netip.ParseAddr(addr); err != nil {
		return h, fmt.Errorf("address %d: stored address %q: %w", h.ID, addr, err)
	}
	if mac != "" {
		if h.MAC, err = ipdesk.ParseMAC(mac); err != nil {
			return h, fmt.Errorf("address %d: stored mac %q: %w", h.ID, mac, err)
		}
	}
	h.LocationID = loc.Int64
	return h, nil
}

// MatchPhones tries the queries in order, in one read transaction: for
// each, one statement tells whether it selects any stored phone, and for
// the first that does, the locations with such a phone, the hosts with
// such a phone, their owners and rooms, and the hosts in the matched
// locations are read (each by an index).
func (db *DB) MatchPhones(ctx context.Context, qs ...ipdesk.PhoneQuery) (*ipdesk.CallMatches, int, error) {
	m := &ipdesk.CallMatches{Kind: ipdesk.MatchNone}
	normalizeMatches(m)
	var live []int
	for i, q := range qs {
		if len(q.Digits) > 0 || q.Suffix != "" {
			live = append(live, i)
		}
	}
	if len(live) == 0 {
		return m, -1, nil
	}
	// One statement per query tells whether it selects anything; its
	// text varies only with the number of digit forms.
	exists := make([]string, len(qs))
	existsArgs := make([]args, len(qs))
	for _, i := range live {
		a := &existsArgs[i]
		exists[i] = "SELECT 1 FROM location_phones lp WHERE " + phoneCond(a, "lp.digits", "lp.digits_rev", qs[i]) +
			" UNION ALL SELECT 1 FROM addresses WHERE " + phoneCond(a, "phone_digits", "phone_digits_rev", qs[i]) + " LIMIT 1"
		if err := db.prepare(ctx, db.r, exists[i]); err != nil {
			return nil, -1, mapError(err)
		}
	}
	which := -1
	err := db.read(ctx, func(tx *Tx) error {
		for _, i := range live {
			var one int
			err := tx.queryRow(exists[i], existsArgs[i]...).Scan(&one)
			if isNoRows(err) {
				continue
			} else if err != nil {
				return err
			}
			which = i
			return tx.matchPhones(qs[i], m)
		}
		return nil
	})
	if err != nil {
		return nil, -1, err
	}
	return m, which, nil
}

// matchPhones fills m with what q selects.
func (tx *Tx) matchPhones(q ipdesk.PhoneQuery, m *ipdesk.CallMatches) error {
	// Locations whose phone matches.
	var a args
	cond := phoneCond(&a, "lp.digits", "lp.digits_rev", q)
	rows, err := tx.query("SELECT "+locationPathColumns+", lp.phone FROM location_phones lp JOIN locations l ON l.id = lp.location_id"+
		" LEFT JOIN locations p ON p.id = l.parent_id LEFT JOIN locations g ON g.id = p.parent_id WHERE "+cond+
		" ORDER BY l.id, lp.position LIMIT "+a.add(maxMatchLocations*4), a...)
	if err != nil {
		return err
	}
	seen := map[int64]bool{}
	var phoneLocs []int64
	for rows.Next() {
		var phone string
		l, err := scanCallLocation(rows, &phone)
		if err != nil {
			rows.Close()
			return err
		}
		if seen[l.ID] || len(m.Locations) == maxMatchLocations {
			continue
		}
		seen[l.ID] = true
		l.Phone = phone
		m.Locations = append(m.Locations, l)
		phoneLocs = append(phoneLocs, l.ID)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}

	// Hosts whose phone matches, then hosts in the matched locations.
	hostCond := func(a *args) string { return "(" + phoneCond(a, "phone_digits", "phone_digits_rev", q) + ")" }
	locCond := func(a *args) string { return "location_id IN (" + addAll(a, phoneLocs) + ")" }
	a = nil
	all := hostCond(&a)
	if len(phoneLocs) > 0 {
		all += " OR " + locCond(&a)
	}
	if err := tx.queryRow("SELECT COUNT(*) FROM addresses WHERE "+all, a...).Scan(&m.HostsTotal); err != nil {
		return err
	}
	byID := map[int64]bool{}
	for _, part := range []struct {
		cond func(*args) string
		by   string
	}{{hostCond, ipdesk.MatchedByPhone}, {locCond, ipdesk.MatchedByLocation}} {
		if len(m.Hosts) >= ipdesk.MaxCallHosts || part.by == ipdesk.MatchedByLocation && len(phoneLocs) == 0 {
			continue
		}
		a = nil
		rows, err := tx.query("SELECT "+callHostColumns+" FROM addresses WHERE "+part.cond(&a)+" ORDER BY space_id, ip_key LIMIT "+
			a.add(ipdesk.MaxCallHosts+len(m.Hosts)), a...)
		if err != nil {
			return err
		}
		for rows.Next() {
			h, err := scanCallHost(rows)
			if err != nil {
				rows.Close()
				return err
			}
			if byID[h.ID] || len(m.Hosts) >= ipdesk.MaxCallHosts {
				continue
			}
			byID[h.ID] = true
			h.MatchedBy = part.by
			m.Hosts = append(m.Hosts, h)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}

	// The owners and rooms of the hosts whose phone matched.
	people := map[string]bool{}
	var hostLocs []int64
	for _, h := range m.Hosts {
		if h.MatchedBy != ipdesk.MatchedByPhone {
			continue
		}
		if h.Owner != "" && !people[h.Owner] {
			people[h.Owner] = true
			m.People = append(m.People, ipdesk.CallPerson{Name: h.Owner, Phone: h.Phone, LocationID: h.LocationID})
		}
		if h.LocationID != 0 && !seen[h.LocationID] && len(m.Locations)+len(hostLocs) < maxMatchLocations {
			seen[h.LocationID] = true
			hostLocs = append(hostLocs, h.LocationID)
		}
	}
	if len(hostLocs) == 0 {
		return nil
	}
	a = nil
	rows, err = tx.query("SELECT "+locationPathColumns+locationPathJoin+" WHERE l.id IN ("+addAll(&a, hostLocs)+") ORDER BY l.id", a...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		l, err := scanCallLocation(rows)
		if err != nil {
			return err
		}
		m.Locations = append(m.Locations, l)
	}
	return rows.Err()
}
