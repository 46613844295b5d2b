package web

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"ipdesk"
	"ipdesk/callerid"
	"ipdesk/live"
)

// GET /api/v1/events: the live stream of server-sent events. Each message
// carries as its SSE id the stream's journal position (the id of the last
// call event sent), so that a browser reconnecting with Last-Event-ID gets
// the call events it missed replayed from the database, also from another
// instance or after a restart.

// eventTopic is a topic of the live stream and the right to see it.
type eventTopic struct {
	name string
	act  action
	obj  string
}

// eventTopics lists the topics of the live stream. Other parts add theirs
// here (the timetable's "rooms", seen with actRead).
var eventTopics = []eventTopic{
	{name: callerid.Topic, act: actHelpdesk, obj: ipdesk.ObjectCall},
	{name: RoomsTopic, act: actRead, obj: objectRoomState},
}

// Streaming settings.
const (
	// DefaultHeartbeat is how often an idle stream sends a comment, so
	// that proxies and browsers see it alive.
	DefaultHeartbeat = 25 * time.Second
	// streamWriteTimeout bounds one write to a stream: a client that
	// stops reading is dropped.
	streamWriteTimeout = 15 * time.Second
	// streamCoalesce: while events keep coming, a stream writes (and
	// flushes) at most once per streamCoalesce, all that is queued at
	// once; the first event after a quiet spell is written at once. A
	// stream that got n events in its last write waits n times as long,
	// up to maxStreamCoalesce. With a thousand streams a write per event
	// per stream would cost more than the events themselves.
	streamCoalesce    = 20 * time.Millisecond
	maxStreamCoalesce = 250 * time.Millisecond
	// maxStreamBuffer is the largest write buffer put back in the pool.
	maxStreamBuffer = 256 << 10
	// streamRetry is the reconnection delay the stream suggests, in ms.
	streamRetry = 2000
	// readyEvent opens every stream; its data names the cursor and the
	// topics.
	readyEvent = "ready"
)

// streamTopics returns the topics a stream asks for (all that the user
// may see when list is nil), refusing unknown ones and those the user may
// not see.
func (s *Server) streamTopics(r *http.Request, list *string) ([]string, error) {
	ctx := r.Context()
	if list == nil {
		var out []string
		for _, t := range eventTopics {
			if s.authorize(ctx, t.act, object{Type: t.obj}) == nil {
				out = append(out, t.name)
			}
		}
		if len(out) == 0 {
			return nil, ipdesk.Errorf(ipdesk.EFORBIDDEN, "there are no live events this user may see")
		}
		return out, nil
	}
	var out []string
	for _, name := range strings.Split(*list, ",") {
		name = strings.TrimSpace(name)
		i := -1
		for j, t := range eventTopics {
			if t.name == name {
				i = j
			}
		}
		if i < 0 {
			known := make([]string, len(eventTopics))
			for j, t := range eventTopics {
				known[j] = t.name
			}
			return nil, ipdesk.FieldErrorf(ipdesk.EINVALID, "topics", "topic %q is not one of %s", clipText(name), strings.Join(known, ", "))
		}
		if err := s.authorize(ctx, eventTopics[i].act, object{Type: eventTopics[i].obj}); err != nil {
			return nil, err
		}
		out = append(out, name)
	}
	return out, nil
}

// lastEventID returns where a reconnecting stream left off: the
// Last-Event-ID header a browser sends, or the query parameter
// last_event_id for a first connection that knows it.
func lastEventID(r *http.Request, p *params) (int64, bool, error) {
	if h := strings.TrimSpace(r.Header.Get("Last-Event-ID")); h != "" {
		n, err := strconv.ParseInt(h, 10, 64)
		if err != nil || n < 0 {
			return 0, false, ipdesk.FieldErrorf(ipdesk.EINVALID, "Last-Event-ID", "Last-Event-ID %q is not an event id of this stream", clipText(h))
		}
		return n, true, nil
	}
	if v := p.int64("last_event_id"); v != nil {
		return *v, true, nil
	}
	return 0, false, nil
}

// streamEvents answers GET /api/v1/events with a stream that lasts until
// the client goes, the server shuts down, or the stream falls behind (the
// client then reconnects and catches up).
func (s *Server) streamEvents(w http.ResponseWriter, r *http.Request) error {
	p := paramsOf(r)
	u := ipdesk.ActorFromContext(r.Context())
	topics, err := s.streamTopics(r, p.str("topics"))
	if err != nil {
		return err
	}
	last, resume, err := lastEventID(r, p)
	if err != nil {
		return err
	}
	// The stream's position is the id of the last call event: it counts
	// the calls, which only the helpdesk may know of. A stream without
	// the calls has no position: its ids are 0 and a Last-Event-ID is
	// ignored.
	journal := slices.Contains(topics, callerid.Topic)
	if !journal {
		last, resume = 0, false
	}
	viewer, err := s.callViewer(r.Context())
	if err != nil {
		return err
	}
	sub, err := s.events.Subscribe(r.Context(), live.Request{Key: userStreams(u.ID), Topics: topics, Resume: resume, LastID: last,
		Labels: streamLabels(authOf(r.Context()))})
	if errors.Is(err, live.ErrClosed) {
		return ipdesk.Errorf(eUnavailable, "the server is shutting down; reconnect")
	} else if err != nil {
		return err
	}
	defer sub.Close()

	rc := http.NewResponseController(w)
	// The server's read timeout would cancel a long request; a stream
	// has nothing more to read.
	rc.SetReadDeadline(time.Time{})
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)

	cursor := sub.Cursor()
	if !journal {
		cursor = 0
	}
	var lastWrite time.Time
	coalesce := streamCoalesce
	// The write buffer comes from a pool shared by all streams: only the
	// streams writing at the moment hold one.
	bp := streamBuffers.Get().(*[]byte)
	buf := append((*bp)[:0], "retry: "+strconv.Itoa(streamRetry)+"\n"...)
	buf = live.AppendMessage(buf, readyEvent, cursor, readyData(cursor, topics))
	send := func() bool {
		// Each write gets its own deadline in place of the server's.
		lastWrite = time.Now()
		rc.SetWriteDeadline(lastWrite.Add(streamWriteTimeout))
		_, err := w.Write(buf)
		if err == nil {
			err = rc.Flush()
		}
		if cap(buf) <= maxStreamBuffer {
			*bp = buf[:0]
			streamBuffers.Put(bp)
		}
		bp, buf = nil, nil
		return err == nil
	}
	hold := time.NewTimer(time.Hour)
	hold.Stop()
	defer hold.Stop()
	if !send() {
		return nil
	}
	heartbeat := time.NewTicker(s.heartbeat)
	defer heartbeat.Stop()
	for {
		select {
		case <-r.Context().Done():
			return nil
		case <-s.closing:
			return nil
		case <-sub.Done():
			return nil // fell behind, or the broker closed: the client reconnects
		case <-sub.Ready():
			if wait := coalesce - time.Since(lastWrite); wait > 0 {
				hold.Reset(wait)
				select {
				case <-hold.C:
				case <-r.Context().Done():
					return nil
				case <-s.closing:
					return nil
				}
			}
			batch := sub.Take()
			if len(batch) == 0 {
				continue
			}
			buf = takeBuffer(&bp)
			for _, e := range batch {
				if e.ID > 0 && journal {
					cursor = e.ID
				}
				buf = viewer.appendEvent(buf, e, cursor)
			}
			// A stream that got several events at once is busy: it waits
			// longer before its next write, so that the writes stay few
			// however many events come.
			coalesce = min(max(time.Duration(len(batch))*streamCoalesce, streamCoalesce), maxStreamCoalesce)
		case <-heartbeat.C:
			ctx, ok := s.stillAllowed(r, topics)
			if !ok {
				return nil // signed out, disabled or no longer helpdesk
			}
			// The rights may have changed: the calls show what they
			// allow now.
			if viewer, err = s.callViewer(ctx); err != nil {
				return nil
			}
			buf = append(takeBuffer(&bp), ": heartbeat\n\n"...)
		}
		if len(buf) > 0 && !send() {
			return nil
		}
	}
}

// streamBuffers are the write buffers of the streams.
var streamBuffers = sync.Pool{New: func() any { b := make([]byte, 0, 8<<10); return &b }}

// takeBuffer gets a write buffer from the pool into *bp.
func takeBuffer(bp **[]byte) []byte {
	*bp = streamBuffers.Get().(*[]byte)
	return (**bp)[:0]
}

// stillAllowed checks again, at each heartbeat, that the stream's
// credentials are valid and may see its topics, so that a revoked token or
// a lost right stops the stream within a heartbeat (a disabled user and a
// signed-out session stop it at once: see endStreams). It returns the
// context with the user's rights as they are now.
func (s *Server) stillAllowed(r *http.Request, topics []string) (context.Context, bool) {
	st, err := s.authenticate(r.Context(), r)
	if err != nil {
		return nil, false
	}
	ctx := withAuth(r.Context(), st)
	for _, t := range eventTopics {
		if slices.Contains(topics, t.name) && s.authorize(ctx, t.act, object{Type: t.obj}) != nil {
			return nil, false
		}
	}
	return ctx, true
}

// appendEvent appends e to a stream as the viewer may see it: a call
// event with the hosts the viewer may not see left out, re-encoded for
// this stream; every other event as it was encoded for all.
func (v *callViewer) appendEvent(b []byte, e live.Event, cursor int64) []byte {
	d, ok := e.Value.(callerid.EventData)
	if v == nil || !ok {
		return e.AppendTo(b, cursor)
	}
	d.Call = v.call(d.Call)
	data, err := json.Marshal(d)
	if err != nil {
		return b // cannot happen: the event was encoded once already
	}
	return live.AppendMessage(b, e.EventName(), cursor, data)
}

// readyData is the data of the ready event.
func readyData(cursor int64, topics []string) []byte {
	b := []byte(`{"cursor":` + strconv.FormatInt(cursor, 10) + `,"topics":[`)
	for i, t := range topics {
		if i > 0 {
			b = append(b, ',')
		}
		b = strconv.AppendQuote(b, t)
	}
	return append(b, "]}"...)
}

// eventRoutes is the route of the live stream.
func (s *Server) eventRoutes() []*route {
	names := make([]string, len(eventTopics))
	for i, t := range eventTopics {
		names[i] = t.name
	}
	return []*route{
		{method: "GET", path: "/api/v1/events", op: "streamEvents", tag: "events",
			summary: "The live events as server-sent events (text/event-stream): " + strings.Join(names, ", ") +
				" (calls need the helpdesk role). Every message's id is the stream's position; reconnect with Last-Event-ID to get the missed calls",
			// Every signed-in user may open their own stream; what it
			// carries is authorized per topic (streamTopics).
			act: actRead, object: objectMe,
			params: []param{
				qp("topics", ptString, "comma-separated topics ("+strings.Join(names, ", ")+"); default: all the user may see"),
				qp("last_event_id", ptInt, "resume after this event id, like the Last-Event-ID header (which wins)"),
			},
			reply: replySpec{kind: replyStream, status: http.StatusOK}, h: s.streamEvents},
	}
}
