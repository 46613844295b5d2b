package web

import (
	"bytes"
	"context"
	"encoding/json"
	"strconv"
	"strings"

	"ipdesk"
	"ipdesk/i18n"
)

// historyLimit is the number of audit entries an object's page shows.
const historyLimit = 50

// historyEntry is an audit entry of an object with its changed fields.
type historyEntry struct {
	*ipdesk.AuditEntry
	Changes []fieldChange
}

// fieldChange is one field of an audit entry: its value before and after.
type fieldChange struct {
	Field  string
	Before string
	After  string
}

// history is the recent audit log of one object: its entries, newest
// first, and how many there are in all.
type history struct {
	Entries []historyEntry
	Total   int
	// FieldKey is the catalogue prefix of the field names.
	FieldKey string
}

// More is the number of entries not shown.
func (h history) More() int { return h.Total - len(h.Entries) }

// valueFormat turns the stored JSON value of a field into the text shown.
type valueFormat func(field string, v any) string

// objectHistory reads the newest audit entries of an object, whose caller
// has checked that the user may see it, and names the changes of the
// fields listed (in that order) in the format formatFor gives for the
// entries (it may look up what their values name).
func (s *Server) objectHistory(ctx context.Context, objectType string, id int64, fields []string, fieldKey string,
	formatFor func([]*ipdesk.AuditEntry) (valueFormat, error)) (history, error) {
	entries, n, err := s.store.FindAuditEntries(ctx, ipdesk.AuditFilter{ObjectType: &objectType, ObjectID: &id, Page: ipdesk.Page{Limit: historyLimit}})
	if err != nil {
		return history{}, err
	}
	format, err := formatFor(entries)
	if err != nil {
		return history{}, err
	}
	h := history{Total: n, Entries: make([]historyEntry, len(entries)), FieldKey: fieldKey}
	for i, e := range entries {
		h.Entries[i] = historyEntry{AuditEntry: e}
		if e.Action != ipdesk.ActionDelete {
			h.Entries[i].Changes = auditChanges(e, fields, format)
		}
	}
	return h, nil
}

// auditChanges returns the listed fields whose values differ between the
// entry's before and after (a create has no before).
func auditChanges(e *ipdesk.AuditEntry, fields []string, format valueFormat) []fieldChange {
	decode := func(raw json.RawMessage) map[string]json.RawMessage {
		var m map[string]json.RawMessage
		if len(raw) > 0 {
			json.Unmarshal(raw, &m) // null and bad documents give no fields
		}
		return m
	}
	before, after := decode(e.Before), decode(e.After)
	var out []fieldChange
	for _, f := range fields {
		b, a := before[f], after[f]
		if bytes.Equal(bytes.TrimSpace(b), bytes.TrimSpace(a)) || before == nil && isZeroJSON(a) {
			continue // unchanged, or left empty by a create
		}
		c := fieldChange{Field: f, Before: format(f, jsonValue(b)), After: format(f, jsonValue(a))}
		if c.Before != c.After {
			out = append(out, c)
		}
	}
	return out
}

// isZeroJSON reports whether raw is an empty value: null, "", 0, false,
// [] or nothing.
func isZeroJSON(raw json.RawMessage) bool {
	switch string(bytes.TrimSpace(raw)) {
	case "", "null", `""`, "0", "false", "[]":
		return true
	}
	return false
}

// jsonValue decodes a JSON value, nil for none.
func jsonValue(raw json.RawMessage) any {
	if len(raw) == 0 {
		return nil
	}
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if d.Decode(&v) != nil {
		return nil
	}
	return v
}

// plainValue is the text of a JSON value of no particular field: strings
// as they are, numbers in digits, yes or no, lists joined by commas.
func plainValue(c *i18n.Catalog, v any) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	case json.Number:
		return x.String()
	case bool:
		if x {
			return c.T("hosts.yes")
		}
		return c.T("hosts.no")
	case []any:
		parts := make([]string, len(x))
		for i, p := range x {
			parts[i] = plainValue(c, p)
		}
		return strings.Join(parts, ", ")
	}
	b, _ := json.Marshal(v)
	return string(b)
}

// idValue returns the id a JSON number holds, or 0.
func idValue(v any) int64 {
	n, ok := v.(json.Number)
	if !ok {
		return 0
	}
	id, _ := strconv.ParseInt(n.String(), 10, 64)
	return id
}

// historyIDs returns the ids the entries hold in field, for looking up
// what they name.
func historyIDs(entries []*ipdesk.AuditEntry, field string) []int64 {
	var ids []int64
	for _, e := range entries {
		for _, raw := range []json.RawMessage{e.Before, e.After} {
			var m map[string]json.RawMessage
			if json.Unmarshal(raw, &m) == nil {
				if id := idValue(jsonValue(m[field])); id != 0 {
					ids = append(ids, id)
				}
			}
		}
	}
	return ids
}
