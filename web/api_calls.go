package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"reflect"
	"strings"
	"time"

	"ipdesk"
	"ipdesk/callerid"
)

// The caller-ID intake: GET /set_call/{number} as for_dhcp had it, for PBX
// scripts that can only fetch a URL, and POST /api/v1/calls for PBXs that
// report the events of a call. The call log: GET /api/v1/calls and
// /api/v1/calls/{id}, for the helpdesk.

// setCallPath is the path of the old intake; the number follows it.
const setCallPath = "/set_call"

// intakeTimeout bounds the recording of one report.
const intakeTimeout = 10 * time.Second

// isSetCall tells whether r is for the old intake. It is served before the
// mux, which would clean a path like /set_call/../x into a redirect: the
// number is whatever follows the prefix, exactly as sent.
func isSetCall(r *http.Request) bool {
	return r.URL.Path == setCallPath || strings.HasPrefix(r.URL.Path, setCallPath+"/")
}

// setCall answers GET /set_call/{number}: "OK" once the call is recorded.
// Whatever the number, the PBX gets a short plain answer, never an error
// page: a bad number is recorded as unknown. Refusals are plain too: 403
// for a bad token or source, 429 over the rate limit. The PBX token comes
// in the query parameter token (old scripts can only change the URL) or
// the header X-PBX-Token.
func (s *Server) setCall(w http.ResponseWriter, r *http.Request) {
	plain := func(status int, msg string) {
		h := w.Header()
		h.Set("Content-Type", "text/plain; charset=utf-8")
		h.Set("Cache-Control", "no-store")
		h.Set("X-Content-Type-Options", "nosniff")
		w.WriteHeader(status)
		if r.Method != http.MethodHead {
			w.Write([]byte(msg + "\n"))
		}
	}
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		plain(http.StatusMethodNotAllowed, "use GET "+setCallPath+"/NUMBER")
		return
	}
	src := s.intake.clientAddr(r)
	setLogUser(r.Context(), "pbx")
	if !s.intake.limiter.allow(src) {
		w.Header().Set("Retry-After", "1")
		plain(http.StatusTooManyRequests, "too many reports from "+src.String()+"; slow down")
		return
	}
	token := r.Header.Get(pbxTokenHeader)
	if token == "" {
		q, _ := url.ParseQuery(r.URL.RawQuery)
		token = q.Get("token")
	}
	if err := s.intake.check(src, token); err != nil {
		plain(http.StatusForbidden, s.errorText(r, err))
		return
	}
	raw := strings.TrimPrefix(strings.TrimPrefix(r.URL.EscapedPath(), setCallPath), "/")
	if n, err := url.PathUnescape(raw); err == nil {
		raw = n
	}
	ctx, cancel := context.WithTimeout(r.Context(), intakeTimeout)
	defer cancel()
	if _, err := s.intake.report.Report(ctx, callerid.Report{From: raw, Source: src.String()}); err != nil {
		s.log.LogAttrs(r.Context(), slog.LevelError, "call not recorded", slog.String("source", src.String()), slog.String("error", err.Error()))
		plain(http.StatusServiceUnavailable, "not recorded; try again")
		return
	}
	plain(http.StatusOK, "OK")
}

// callReportRequest is the body of POST /api/v1/calls.
type callReportRequest struct {
	// Event is ring, answer or hangup.
	Event ipdesk.CallEventKind `json:"event"`
	// CallID is the PBX's id of the call, which joins its events.
	CallID string `json:"call_id"`
	// From is the caller's number, To the dialled support line, Extension
	// the extension that answered; all as the PBX has them.
	From      string `json:"from"`
	To        string `json:"to"`
	Extension string `json:"extension"`
	// Time is when it happened (RFC 3339); absent means now.
	Time *time.Time `json:"time"`
}

// callReportResult answers POST /api/v1/calls: what the PBX needs to
// know, nothing of the matches (they are for the helpdesk).
type callReportResult struct {
	EventID int64            `json:"event_id"`
	Call    int64            `json:"call"`
	State   ipdesk.CallState `json:"state"`
}

// reportCall answers POST /api/v1/calls.
func (s *Server) reportCall(w http.ResponseWriter, r *http.Request) error {
	src := s.intake.clientAddr(r)
	setLogUser(r.Context(), "pbx")
	if !s.intake.limiter.allow(src) {
		w.Header().Set("Retry-After", "1")
		return ipdesk.Errorf(ipdesk.ETOOMANY, "too many reports from %s; slow down", src)
	}
	if err := s.intake.check(src, r.Header.Get(pbxTokenHeader)); err != nil {
		return err
	}
	var req callReportRequest
	if err := s.decodeBody(w, r, &req); err != nil {
		return err
	}
	rep := callerid.Report{Event: req.Event, CallID: req.CallID, From: req.From, To: req.To, Extension: req.Extension, Source: src.String()}
	if req.Time != nil {
		rep.Time = *req.Time
	}
	ctx, cancel := context.WithTimeout(r.Context(), intakeTimeout)
	defer cancel()
	ev, err := s.intake.report.Report(ctx, rep)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusCreated, callReportResult{EventID: ev.ID, Call: ev.CallID, State: ev.State})
	return nil
}

// callDetail is a call with its event history.
type callDetail struct {
	*ipdesk.Call
	Events []*ipdesk.CallEvent `json:"events"`
}

func (s *Server) listCalls(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	f := ipdesk.CallFilter{Since: p.time("since"), Until: p.time("until"), Page: p.page}
	if v := p.enum("state"); v != nil {
		st := ipdesk.CallState(*v)
		f.State = &st
	}
	if v := p.enum("match"); v != nil {
		m := ipdesk.MatchKind(*v)
		f.Match = &m
	}
	if q := p.str("q"); q != nil {
		f.Query = *q
	}
	if f.Since != nil && f.Until != nil && !f.Since.Before(*f.Until) {
		return ipdesk.FieldErrorf(ipdesk.EINVALID, "until", "until %s is not after since %s", f.Until.Format(time.RFC3339), f.Since.Format(time.RFC3339))
	}
	calls, n, err := s.findCalls(r.Context(), f)
	if err != nil {
		return err
	}
	writeList(w, p.page, n, calls)
	return nil
}

func (s *Server) getCall(w http.ResponseWriter, r *http.Request) error {
	c, err := s.findCallByID(r.Context(), paramsOf(r).id("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, callDetail{Call: c, Events: c.Events})
	return nil
}

// callRoutes are the routes of the call log and of POST /api/v1/calls.
func (s *Server) callRoutes() []*route {
	return []*route{
		{method: "POST", path: "/api/v1/calls", op: "reportCall", tag: "calls",
			summary: "Report a call event (for PBXs: a PBX token in X-PBX-Token and/or an allowed source address; a user's token does not count)",
			act:     actPublic, pbx: true,
			body:  body[callReportRequest]("CallReport", []string{"event"}),
			reply: replySpec{kind: replyObject, status: http.StatusCreated, typ: reflect.TypeFor[callReportResult]()}, h: s.reportCall},
		{method: "GET", path: "/api/v1/calls", op: "listCalls", tag: "calls", summary: "The call log, newest first",
			act: actHelpdesk, object: ipdesk.ObjectCall, paged: true,
			params: []param{
				qp("q", ptString, "matches the number (as given or normalised) and the names it matched: rooms, people, host names, addresses (only the hosts the user may see)"),
				qEnum("state", "the call's state", enumStrings(ipdesk.CallStates)...),
				qEnum("match", "how the number matched (none: unknown numbers, to be added to a room or person)", enumStrings(ipdesk.MatchKinds)...),
				qp("since", ptTime, "calls started at or after this time (RFC 3339)"),
				qp("until", ptTime, "calls started before this time (RFC 3339)"),
			},
			reply: list[ipdesk.Call](), h: s.listCalls},
		{method: "GET", path: "/api/v1/calls/{id}", op: "getCall", tag: "calls", summary: "A call with its matches (the hosts the user may see) and its event history",
			act: actHelpdesk, object: ipdesk.ObjectCall,
			reply: replySpec{kind: replyObject, status: http.StatusOK, typ: reflect.TypeFor[callDetail]()}, h: s.getCall},
	}
}
