package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"io"
	"net/http"

	"ipdesk"
)

// Requests confirmed by their own statements. On a store whose writes
// confirm credentials (PostgreSQL: see ipdesk.AuthGuard), a request to a
// route marked guarded whose credential and permissions the cache holds
// is let in on them at the epoch the cache is at, without a read of the
// epoch: its write checks that epoch in its own transaction, and the read
// of an address by its id (which authorize makes for a route of one
// address) reads the epoch along. Its answer is kept back until something
// read after it arrived showed that epoch still current: the write that
// committed, the address read, or else (the request read no address and
// wrote nothing, or was refused) a read of the epoch. When the epoch
// moved, nothing the request did was stored, and it runs again as any
// request does, checked afresh; its answer from cached rights is never
// sent.

// cachedAuth returns who r comes from as the auth cache alone tells it,
// at the epoch the cache is at, or nil when the cache cannot tell (no
// such credential cached, or one due to be checked by the store).
func (s *Server) cachedAuth(r *http.Request) *authState {
	e, ok := s.auth.current()
	if !ok {
		return nil
	}
	st := &authState{epoch: e, epochOK: true}
	now := s.now()
	if h := r.Header.Get("Authorization"); h != "" {
		token, err := bearerToken(h)
		if err != nil {
			return nil
		}
		c := s.auth.credential(false, sha256.Sum256([]byte(token)), e)
		if c == nil || !s.usable(c, false, now) || c.user.Disabled {
			return nil
		}
		u := c.user
		st.user = &u
		return st
	}
	cookie, err := r.Cookie(sessionCookie)
	if err != nil || cookie.Value == "" {
		return nil
	}
	c := s.auth.credential(true, sha256.Sum256([]byte(cookie.Value)), e)
	if c == nil || !s.usable(c, true, now) {
		return nil
	}
	sess, u := c.session, c.user
	st.user, st.session = &u, &sess
	return st
}

// serveConfirmed serves r for st, let in from the cache, with its writes
// checking st's epoch, and sends the answer once the epoch is confirmed.
// It returns false, with r as it came, when r must be served again the
// usual way: its body was too large to keep, or the epoch moved.
func (s *Server) serveConfirmed(w http.ResponseWriter, r *http.Request, ctx context.Context, rt *route, st *authState) bool {
	body, ok := s.keepBody(r)
	if !ok {
		return false
	}
	g := &ipdesk.AuthGuard{Epoch: st.epoch}
	ctx = ipdesk.WithAuthGuard(withAuth(ctx, st), g)
	r.Body = io.NopCloser(bytes.NewReader(body))
	answer := &heldResponse{header: http.Header{}}
	err := s.serveRoute(answer, r, ctx, rt)
	again := func() bool {
		r.Body = io.NopCloser(bytes.NewReader(body))
		return false
	}
	confirmed, unsure := g.State()
	if !confirmed && !unsure && errors.Is(err, ipdesk.ErrAuthChanged) {
		return again()
	}
	if !confirmed && !unsure {
		// Nothing committed: a read of the epoch, after the request came,
		// tells whether the cached rights still hold.
		if e, ok := s.auth.readEpoch(ctx); !ok || e != st.epoch {
			return again()
		}
	}
	// unsure: a commit failed on its way and may have stored the write;
	// the request must not run again, and its answer is the failure.
	if err != nil {
		s.writeError(w, r.WithContext(ctx), err)
		return true
	}
	answer.sendTo(w)
	return true
}

// keepBody reads r's body whole, for a request that may have to run
// twice; false (r's body as it was) when it is larger than a body may be
// or cannot be read, which the usual way then reports.
func (s *Server) keepBody(r *http.Request) ([]byte, bool) {
	if r.Body == nil || r.Body == http.NoBody {
		return nil, true
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, s.maxBody+1))
	if err != nil || int64(len(data)) > s.maxBody {
		r.Body = readCloser{io.MultiReader(bytes.NewReader(data), r.Body), r.Body}
		return nil, false
	}
	return data, true
}

// readCloser is a body read from one reader and closed by another.
type readCloser struct {
	io.Reader
	io.Closer
}

// heldResponse keeps an answer until it may be sent (see serveConfirmed).
type heldResponse struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (h *heldResponse) Header() http.Header { return h.header }

func (h *heldResponse) WriteHeader(code int) {
	if h.status == 0 {
		h.status = code
	}
}

func (h *heldResponse) Write(p []byte) (int, error) {
	if h.status == 0 {
		h.status = http.StatusOK
	}
	return h.body.Write(p)
}

// sendTo writes the kept answer to w.
func (h *heldResponse) sendTo(w http.ResponseWriter) {
	dst := w.Header()
	for k, v := range h.header {
		dst[k] = v
	}
	if h.status == 0 {
		h.status = http.StatusOK
	}
	w.WriteHeader(h.status)
	w.Write(h.body.Bytes())
}
