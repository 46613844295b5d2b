package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/i18n"
)

// auditData is the data of the audit log page.
type auditData struct {
	page
	Filter  auditFilterForm
	Entries []auditRow
	Pages   pageNav
	// Types are the object types of the filter menu.
	Types []string
	// Whole tells that the user may read the whole log, not only the
	// history of one object.
	Whole bool
}

// auditFilterForm is the filter form as typed.
type auditFilterForm struct {
	Actor, ObjectType, ObjectID, Since, Until string
	Errors                                    fieldErrors
}

// auditRow is an entry with its changes field by field.
type auditRow struct {
	Entry     *ipdesk.AuditEntry
	TypeLabel string
	Fields    []auditField
	// Link is the page of the object, "" when there is none to go to.
	Link string
}

// auditField is one field of an audited object before and after the
// change.
type auditField struct {
	Name              string
	Before, After     string
	InBefore, InAfter bool
	Changed           bool
	// Highlight marks a field an update changed (a create or a delete
	// concerns every field alike).
	Highlight bool
	// NotRecorded marks a field the entry has no value after the change
	// for.
	NotRecorded bool
	// Secret marks a field whose value is never shown (passwords).
	Secret bool
}

// auditTypes are the object types the filter offers.
var auditTypes = []string{ipdesk.ObjectSpace, ipdesk.ObjectPrefix, ipdesk.ObjectAddress, ipdesk.ObjectLocation,
	ipdesk.ObjectAccessLevel, ipdesk.ObjectUser, ipdesk.ObjectToken, ipdesk.ObjectGroup, ipdesk.ObjectGrant}

func (s *Server) auditPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := s.authorize(ctx, actRead, object{Type: objectAudit}); err != nil {
		return err
	}
	q := r.URL.Query()
	form := auditFilterForm{Actor: strings.TrimSpace(q.Get("actor")), ObjectType: strings.TrimSpace(q.Get("object_type")),
		ObjectID: strings.TrimSpace(q.Get("object_id")), Since: strings.TrimSpace(q.Get("since")), Until: strings.TrimSpace(q.Get("until"))}
	f, ferr := s.auditFilter(form)
	p, err := listPage(r)
	if err != nil {
		return err
	}
	f.Page = p
	cat := s.catalog(r)
	d := auditData{Filter: form, Types: auditTypes}
	if err := s.mayReadAudit(ctx, f); err != nil {
		return err
	}
	if ferr != nil {
		d.page = s.base(w, r, cat.T("audit.title"), "audit")
		d.Filter.Errors, _ = formError(s.catalog(r), ferr)
		d.Whole = d.CanViewAll()
		s.render(w, r, formStatus(ferr), "audit", d)
		return nil
	}
	entries, n, err := s.store.FindAuditEntries(ctx, f)
	if err != nil {
		return err
	}
	d.page = s.base(w, r, cat.T("audit.title"), "audit")
	d.Whole = d.CanViewAll()
	d.Pages = navOf(r, p, n)
	for _, e := range entries {
		d.Entries = append(d.Entries, s.auditRowOf(cat, e))
	}
	s.render(w, r, http.StatusOK, "audit", d)
	return nil
}

// auditFilter checks the filter form: the times are in the server's time
// zone, as a date (until a date includes that day) or a date and time.
func (s *Server) auditFilter(form auditFilterForm) (ipdesk.AuditFilter, error) {
	var f ipdesk.AuditFilter
	if form.Actor != "" {
		f.Actor = &form.Actor
	}
	if form.ObjectType != "" {
		if !isIdentifier(form.ObjectType) {
			return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "object_type", "object_type %q is not an object type such as %s", clipValue(form.ObjectType), strings.Join(auditTypes, ", "))
		}
		f.ObjectType = &form.ObjectType
	}
	if form.ObjectID != "" {
		id, err := strconv.ParseInt(form.ObjectID, 10, 64)
		if err != nil || id <= 0 {
			return f, ipdesk.FieldErrorf(ipdesk.EINVALID, "object_id", "object_id %q is not an id", clipValue(form.ObjectID))
		}
		f.ObjectID = &id
	}
	var err error
	f.Since, f.Until, err = s.parseTimeRange(form.Since, form.Until)
	return f, err
}

// parseTimeRange parses the filters since and until (see
// parseLocalTime); until must be after since.
func (s *Server) parseTimeRange(since, until string) (*time.Time, *time.Time, error) {
	from, err := s.parseLocalTime("since", since, false)
	if err != nil {
		return nil, nil, err
	}
	to, err := s.parseLocalTime("until", until, true)
	if err != nil {
		return nil, nil, err
	}
	if from != nil && to != nil && !from.Before(*to) {
		return nil, nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "until %q is not after since %q", clipValue(until), clipValue(since))
	}
	return from, to, nil
}

// localTimeLayouts are the forms a time filter is accepted in: what a
// datetime-local input sends, and what people type.
var localTimeLayouts = []string{"2006-01-02T15:04", "2006-01-02T15:04:05", "2006-01-02 15:04", "2006-01-02 15:04:05", "02.01.2006 15:04"}

// parseLocalTime parses a time filter in the server's time zone; a date
// alone is its midnight, or with endOfDay the next midnight.
func (s *Server) parseLocalTime(field, v string, endOfDay bool) (*time.Time, error) {
	if v == "" {
		return nil, nil
	}
	for _, layout := range []string{"2006-01-02", "02.01.2006"} {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			if endOfDay {
				t = t.AddDate(0, 0, 1)
			}
			return &t, nil
		}
	}
	for _, layout := range localTimeLayouts {
		if t, err := time.ParseInLocation(layout, v, s.loc); err == nil {
			return &t, nil
		}
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return &t, nil
	}
	return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, field, "%s %q is not a date (2026-03-01) or a date and time (2026-03-01T08:30)", field, clipValue(v))
}

// localTimeText returns v in the server's time zone, to the second, when
// it is an RFC 3339 time, else v.
func (s *Server) localTimeText(v string) string {
	if len(v) < 20 || v[4] != '-' || v[10] != 'T' {
		return v
	}
	t, err := time.Parse(time.RFC3339Nano, v)
	if err != nil {
		return v
	}
	return t.In(s.loc).Format("2006-01-02 15:04:05")
}

// isIdentifier tells whether v looks like an object type: lower-case
// letters and underscores.
func isIdentifier(v string) bool {
	if v == "" || len(v) > 40 {
		return false
	}
	for _, c := range v {
		if (c < 'a' || c > 'z') && c != '_' {
			return false
		}
	}
	return true
}

// auditRowOf returns an entry with its field-by-field change; times in
// the documents are shown in the server's time zone.
func (s *Server) auditRowOf(cat *i18n.Catalog, e *ipdesk.AuditEntry) auditRow {
	row := auditRow{Entry: e, TypeLabel: e.ObjectType, Fields: auditDiff(e.Action, e.Before, e.After)}
	for i := range row.Fields {
		f := &row.Fields[i]
		f.Before, f.After = s.localTimeText(f.Before), s.localTimeText(f.After)
	}
	if k := "object." + e.ObjectType; cat.Has(k) {
		row.TypeLabel = cat.T(k)
	}
	if e.Action != ipdesk.ActionDelete {
		row.Link = objectLink(e.ObjectType, e.ObjectID)
	}
	return row
}

// objectLink returns the page of an object, or "".
func objectLink(objectType string, id int64) string {
	base := map[string]string{
		ipdesk.ObjectSpace: "/spaces/", ipdesk.ObjectPrefix: "/prefixes/", ipdesk.ObjectAddress: "/hosts/",
		ipdesk.ObjectLocation: "/locations/", ipdesk.ObjectUser: "/users/", ipdesk.ObjectGroup: "/groups/",
	}[objectType]
	if base == "" {
		return ""
	}
	return base + strconv.FormatInt(id, 10)
}

// auditDiff compares the before and after documents of an entry field by
// field, in the order the fields first appear. Values are shown as text
// (strings without quotes, everything else as compact JSON); a field
// whose name says it holds a password or secret is never shown. An
// update may record only some fields after the change (a new password
// records that it changed): a field missing there is not recorded, not
// removed.
func auditDiff(action string, before, after json.RawMessage) []auditField {
	bNames, bVals := objectFields(before)
	aNames, aVals := objectFields(after)
	names := bNames
	for _, n := range aNames {
		if _, ok := bVals[n]; !ok {
			names = append(names, n)
		}
	}
	if bVals == nil && aVals == nil {
		// Not objects: compare the documents whole.
		b, a := valueText(before), valueText(after)
		return []auditField{{Name: "", Before: b, After: a, InBefore: !isNull(before), InAfter: !isNull(after), Changed: b != a, Highlight: b != a && action == ipdesk.ActionUpdate}}
	}
	out := make([]auditField, 0, len(names))
	for _, n := range names {
		bv, inB := bVals[n]
		av, inA := aVals[n]
		f := auditField{Name: n, InBefore: inB, InAfter: inA, Secret: isSecretField(n)}
		switch {
		case action == ipdesk.ActionUpdate && inB && !inA:
			f.NotRecorded = true
		case inB != inA:
			f.Changed = true
		default:
			f.Changed = !bytes.Equal(compact(bv), compact(av))
		}
		if !f.Secret {
			f.Before, f.After = valueText(bv), valueText(av)
		}
		f.Highlight = f.Changed && action == ipdesk.ActionUpdate
		out = append(out, f)
	}
	return out
}

// objectFields returns the member names of a JSON object in their order
// and the members; nil for anything but an object.
func objectFields(doc json.RawMessage) ([]string, map[string]json.RawMessage) {
	if len(doc) == 0 || isNull(doc) {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(doc))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, nil
	}
	var names []string
	vals := map[string]json.RawMessage{}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, nil
		}
		name, _ := t.(string)
		var v json.RawMessage
		if err := dec.Decode(&v); err != nil {
			return nil, nil
		}
		if _, dup := vals[name]; !dup {
			names = append(names, name)
		}
		vals[name] = v
	}
	return names, vals
}

func isNull(v json.RawMessage) bool {
	return len(bytes.TrimSpace(v)) == 0 || string(bytes.TrimSpace(v)) == "null"
}

// compact returns v without insignificant blanks.
func compact(v json.RawMessage) []byte {
	var b bytes.Buffer
	if json.Compact(&b, v) != nil {
		return v
	}
	return b.Bytes()
}

// valueText returns a JSON value as text: a string as itself, null as "",
// anything else as compact JSON.
func valueText(v json.RawMessage) string {
	if isNull(v) {
		return ""
	}
	var s string
	if json.Unmarshal(v, &s) == nil {
		return s
	}
	return string(compact(v))
}

// isSecretField tells whether a field's name says that it holds a
// password, a secret or a hash of one.
func isSecretField(name string) bool {
	n := strings.ToLower(name)
	for _, w := range []string{"password", "secret", "hash"} {
		if strings.Contains(n, w) {
			return true
		}
	}
	return false
}

// ChangedFields are the fields the change touched: all of a create's or
// a delete's.
func (r auditRow) ChangedFields() []auditField {
	var out []auditField
	for _, f := range r.Fields {
		if f.Changed {
			out = append(out, f)
		}
	}
	return out
}

// OtherFields are the fields the change left as they were.
func (r auditRow) OtherFields() []auditField {
	var out []auditField
	for _, f := range r.Fields {
		if !f.Changed {
			out = append(out, f)
		}
	}
	return out
}

// History is the query of the object's whole history.
func (r auditRow) History() string {
	return "?object_type=" + r.Entry.ObjectType + "&object_id=" + strconv.FormatInt(r.Entry.ObjectID, 10)
}
