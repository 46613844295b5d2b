package ipdesk

import (
	"context"
	"net/netip"
	"strings"
	"time"
	"unicode/utf8"
)

// Caller-ID: the PBX reports the events of a call to the support line
// (ring, answer, hangup); ipdesk normalises the caller's number, matches it
// against the phone numbers of rooms and hosts, keeps the call log and
// pushes each event to the helpdesk's browsers.

// CallEventKind is what happened to a call.
type CallEventKind string

// Call event kinds.
const (
	CallRing   CallEventKind = "ring"   // the phone of the support line rings
	CallAnswer CallEventKind = "answer" // someone took the call
	CallHangup CallEventKind = "hangup" // the call is over
)

// CallEventKinds lists every call event kind.
var CallEventKinds = []CallEventKind{CallRing, CallAnswer, CallHangup}

// Valid reports whether k is a known event kind.
func (k CallEventKind) Valid() bool {
	return k == CallRing || k == CallAnswer || k == CallHangup
}

// CallState is where a call stands after its events so far.
type CallState string

// Call states.
const (
	CallRinging  CallState = "ring"     // rings, nobody answered yet
	CallAnswered CallState = "answered" // answered, not over
	CallMissed   CallState = "missed"   // over without an answer
	CallEnded    CallState = "ended"    // answered and over
)

// CallStates lists every call state.
var CallStates = []CallState{CallRinging, CallAnswered, CallMissed, CallEnded}

// InitialCallState is the state of a call whose first known event is k.
func InitialCallState(k CallEventKind) CallState {
	return CallRinging.Next(k)
}

// Next returns the state after event k. States only move forward, so
// events that arrive out of order cannot take a call back: an answer after
// the hangup makes a missed call ended (it was answered after all), a late
// ring changes nothing.
func (s CallState) Next(k CallEventKind) CallState {
	switch k {
	case CallAnswer:
		switch s {
		case CallRinging:
			return CallAnswered
		case CallMissed:
			return CallEnded
		}
	case CallHangup:
		switch s {
		case CallRinging:
			return CallMissed
		case CallAnswered:
			return CallEnded
		}
	}
	return s
}

// NumberKind tells what a normalised phone number is.
type NumberKind string

// Number kinds.
const (
	// NumberUnknown: empty, withheld ("anonymous") or not a phone number;
	// it matches nothing.
	NumberUnknown NumberKind = "unknown"
	// NumberInternational: a number in E.164 form ("+49359112345"), also
	// a national number once the configured country code is known.
	NumberInternational NumberKind = "international"
	// NumberExtension: an internal extension (at most the configured
	// number of digits).
	NumberExtension NumberKind = "extension"
	// NumberLocal: digits that are neither (a subscriber number without
	// area code, or a national number when no country code is set).
	NumberLocal NumberKind = "local"
)

// NumberKinds lists every number kind.
var NumberKinds = []NumberKind{NumberUnknown, NumberInternational, NumberExtension, NumberLocal}

// PhoneNumber is a number as the PBX sent it and as ipdesk understood it.
type PhoneNumber struct {
	// Raw is the text as given, bounded to MaxRawNumberLen bytes of valid
	// UTF-8 (see BoundRaw). It is kept for the record and must be escaped
	// wherever it is shown.
	Raw string `json:"raw"`
	// Number is the normalised form: "+" and digits for international
	// numbers, digits otherwise, "" when unknown.
	Number string     `json:"number"`
	Kind   NumberKind `json:"kind"`
}

// MaxRawNumberLen bounds the stored raw text of a number, in bytes.
const MaxRawNumberLen = 256

// BoundRaw returns s made fit to store: invalid UTF-8 and NUL bytes become
// U+FFFD, and text beyond MaxRawNumberLen bytes is cut at a character
// boundary and marked with "…". Everything else, line breaks included, is
// kept as given.
func BoundRaw(s string) string {
	if utf8.ValidString(s) && !strings.ContainsRune(s, 0) && len(s) <= MaxRawNumberLen {
		return s
	}
	s = strings.ReplaceAll(strings.ToValidUTF8(s, "\uFFFD"), "\x00", "\uFFFD")
	if len(s) <= MaxRawNumberLen {
		return s
	}
	const mark = "…"
	cut := MaxRawNumberLen - len(mark)
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + mark
}

// MatchKind tells how a call's number matched.
type MatchKind string

// Match kinds.
const (
	MatchNone      MatchKind = "none"      // nothing matched (or the number is unknown)
	MatchFull      MatchKind = "full"      // the whole number matched a stored one
	MatchExtension MatchKind = "extension" // only the last digits (the extension) matched
)

// MatchKinds lists every match kind.
var MatchKinds = []MatchKind{MatchNone, MatchFull, MatchExtension}

// MaxCallHosts bounds the hosts a call's matches list; HostsTotal counts
// them all.
const MaxCallHosts = 50

// CallMatches is who and where a call comes from, as far as the stored
// phone numbers tell: the helpdesk's starting point. It is stored with
// the call as it was at the time of the call.
type CallMatches struct {
	Kind MatchKind `json:"kind"`
	// Locations are the rooms (or other locations) whose phone matched,
	// and the rooms of the hosts whose phone matched.
	Locations []CallLocation `json:"locations"`
	// People are the owners of the hosts whose phone matched.
	People []CallPerson `json:"people"`
	// Hosts are the hosts whose phone matched and the hosts in the
	// locations whose phone matched, at most MaxCallHosts of them.
	Hosts      []CallHost `json:"hosts"`
	HostsTotal int        `json:"hosts_total"`
	// Suggestion, for a number that did not match in full, is how to
	// store it so that the next call matches.
	Suggestion *CallSuggestion `json:"suggestion"`
}

// SearchText is the lower-cased text the call log's search (CallFilter
// Query) looks in: the numbers, the PBX's call id and every match.
func (c *Call) SearchText() string {
	parts := []string{c.From.Raw, c.From.Number, c.To.Raw, c.To.Number, c.Extension, c.PBXCallID}
	for _, l := range c.Matches.Locations {
		parts = append(parts, l.Path, l.Phone)
	}
	for _, p := range c.Matches.People {
		parts = append(parts, p.Name, p.Phone)
	}
	for _, h := range c.Matches.Hosts {
		parts = append(parts, h.Hostname, h.Addr.String(), h.MAC.String(), h.Owner)
	}
	return strings.ToLower(strings.Join(parts, "\x1f"))
}

// Empty reports whether nothing matched.
func (m *CallMatches) Empty() bool {
	return len(m.Locations) == 0 && len(m.People) == 0 && len(m.Hosts) == 0
}

// CallLocation is a location a call matched.
type CallLocation struct {
	ID   int64        `json:"id"`
	Kind LocationKind `json:"kind"`
	Name string       `json:"name"`
	// Path names the location with its parents: "Main > Building A > 303".
	Path string `json:"path"`
	// Phone is the stored number that matched; "" when the location is
	// listed as the room of a matching host.
	Phone string `json:"phone"`
}

// CallPerson is the owner of a host whose phone matched.
type CallPerson struct {
	Name       string `json:"name"`
	Phone      string `json:"phone"`
	LocationID int64  `json:"location_id"`
}

// CallHost is a host a call matched, with what the helpdesk needs to start.
type CallHost struct {
	ID         int64      `json:"id"`
	SpaceID    int64      `json:"space_id"`
	Addr       netip.Addr `json:"address"`
	MAC        MAC        `json:"mac"`
	Hostname   string     `json:"hostname"`
	Owner      string     `json:"owner"`
	Phone      string     `json:"phone"`
	LocationID int64      `json:"location_id"`
	// MatchedBy is "phone" (the host's own phone matched) or "location"
	// (the host is in a location whose phone matched).
	MatchedBy string `json:"matched_by"`
}

// How a host matched.
const (
	MatchedByPhone    = "phone"
	MatchedByLocation = "location"
)

// CallSuggestion tells how to store an unmatched number: add Phone to the
// phones of a location (PATCH /api/v1/locations/{id}) or set it as the
// phone of a host (PATCH /api/v1/addresses/{id}). LocationID is the
// location the extension matched, when there is exactly one.
type CallSuggestion struct {
	Phone      string `json:"phone"`
	LocationID int64  `json:"location_id"`
}

// Call is one call to the support line with its matches.
type Call struct {
	ID int64 `json:"id"`
	// PBXCallID is the PBX's id of the call ("" for calls reported by
	// GET /set_call, which are one event each).
	PBXCallID string    `json:"pbx_call_id"`
	Started   time.Time `json:"started"`
	Updated   time.Time `json:"updated"`
	State     CallState `json:"state"`
	// From is the caller; To is the dialled support line.
	From PhoneNumber `json:"from"`
	To   PhoneNumber `json:"to"`
	// Extension is the extension that answered.
	Extension string `json:"extension"`
	// Source is the address of the PBX that reported the call.
	Source  string      `json:"source"`
	Matches CallMatches `json:"matches"`
	// Events is the call's history, oldest first; set by FindCallByID.
	// It is not part of the call's JSON: answers that carry it name it.
	Events []*CallEvent `json:"-"`
}

// CallEvent is one reported event of a call. Its ID is global (one
// sequence in the database), so it orders the events of all instances and
// serves as the event id of the live stream.
type CallEvent struct {
	ID     int64         `json:"id"`
	CallID int64         `json:"call_id"`
	Kind   CallEventKind `json:"kind"`
	Time   time.Time     `json:"time"`
	// State is the call's state after this event.
	State     CallState `json:"state"`
	Extension string    `json:"extension"`
	Source    string    `json:"source"`
	// Call is the call the event belongs to, without its events; set by
	// RecordCallEvent and CallEventsAfter. It is not part of the event's
	// JSON: messages that carry it name it.
	Call *Call `json:"-"`
}

// MaxPBXCallIDLen bounds the PBX's call id.
const MaxPBXCallIDLen = 128

// CallReport is one call event, normalised and matched, to be recorded.
type CallReport struct {
	Kind CallEventKind
	// PBXCallID joins the events of one call; "" makes the report a call
	// of its own.
	PBXCallID string
	Time      time.Time
	From      PhoneNumber
	To        PhoneNumber
	Extension string
	Source    string
	// Matches are stored when the report starts a new call.
	Matches CallMatches
}

// Validate checks the fields of a report that the PBX controls and that
// are not phone numbers (numbers are never an error: a bad one is
// unknown).
func (r *CallReport) Validate() error {
	if !r.Kind.Valid() {
		return FieldErrorf(EINVALID, "event", "event %q is not one of ring, answer, hangup", clip(string(r.Kind)))
	}
	if err := ValidateText("call_id", r.PBXCallID, MaxPBXCallIDLen); err != nil {
		return err
	}
	if r.Time.IsZero() {
		return FieldErrorf(EINVALID, "time", "time is required")
	}
	return nil
}

// CallCorrelationWindow is how long after its start a call takes further
// events with its PBX call id; a later event with the same id starts a new
// call (PBXs reuse ids after a restart).
const CallCorrelationWindow = 12 * time.Hour

// CallFilter selects calls, newest first. Nil fields do not filter.
type CallFilter struct {
	State *CallState
	Match *MatchKind
	Since *time.Time // started at or after
	Until *time.Time // started before
	// Query matches substrings of the number (as given and normalised)
	// and of the matched names: rooms, people, host names, addresses.
	Query string
	Page
}

// PhoneQuery asks for the stored phone numbers that a call's number may
// stand for. Stored numbers are compared by their digits.
type PhoneQuery struct {
	// Digits lists digit strings; a stored number matches when its
	// digits equal one of them.
	Digits []string
	// Suffix, if set, matches stored numbers whose digits end with it and
	// are longer (an extension calling, the room stored in full).
	Suffix string
}

// CallService keeps the call log and looks up phone numbers.
type CallService interface {
	// RecordCallEvent stores the event of a report: a new call, or, when
	// the PBX call id names a call started within CallCorrelationWindow,
	// the next event of that call, whose state moves on. The event comes
	// back with its call.
	RecordCallEvent(ctx context.Context, r *CallReport) (*CallEvent, error)
	// FindCallByID returns a call with its events.
	FindCallByID(ctx context.Context, id int64) (*Call, error)
	// FindCalls returns calls, newest first, without events, and their
	// total.
	FindCalls(ctx context.Context, f CallFilter) ([]*Call, int, error)
	// CallEventsAfter returns up to limit events with an id above after,
	// in id order, each with its call. Ids are handed out in commit order,
	// so a reader that follows the last id it saw misses none.
	CallEventsAfter(ctx context.Context, after int64, limit int) ([]*CallEvent, error)
	// LastCallEventID returns the id of the newest event (0 for none).
	LastCallEventID(ctx context.Context) (int64, error)
	// PurgeCalls removes the calls started before t with their events and
	// returns how many it removed.
	PurgeCalls(ctx context.Context, before time.Time) (int, error)
	// MatchPhones tries the queries in order and returns, for the first
	// that selects any stored phone number, the locations and hosts with
	// such a phone and the hosts in those locations, and its index; when
	// none selects anything, empty matches and -1. Kind and Suggestion are
	// left for the caller.
	MatchPhones(ctx context.Context, qs ...PhoneQuery) (*CallMatches, int, error)
}

// CallEventListener is implemented by stores that several ipdesk
// instances can share (PostgreSQL): it tells each instance of the call
// events the others record.
type CallEventListener interface {
	// ListenCallEvents calls ready once it listens and then fn with the
	// id of every call event recorded by any instance, until ctx ends or
	// the connection fails (an error). It returns nil at once when the
	// database has no other writers to listen to (SQLite).
	ListenCallEvents(ctx context.Context, ready func(), fn func(id int64)) error
}
