package web

// Response helpers: JSON objects and lists, ETags, errors.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"

	"ipdesk"
)

// statusOf maps every error code to its HTTP status. Codes not listed are
// internal errors.
var statusOf = map[string]int{
	ipdesk.EINVALID:       http.StatusBadRequest,
	ipdesk.EUNAUTHORIZED:  http.StatusUnauthorized,
	ipdesk.EFORBIDDEN:     http.StatusForbidden,
	ipdesk.ENOTFOUND:      http.StatusNotFound,
	eMethodNotAllowed:     http.StatusMethodNotAllowed,
	ipdesk.ECONFLICT:      http.StatusConflict,
	ipdesk.EPRECONDITION:  http.StatusPreconditionFailed,
	eTooLarge:             http.StatusRequestEntityTooLarge,
	eUnsupportedMediaType: http.StatusUnsupportedMediaType,
	ipdesk.ETOOMANY:       http.StatusTooManyRequests,
	ipdesk.EINTERNAL:      http.StatusInternalServerError,
	eUnavailable:          http.StatusServiceUnavailable,
	ipdesk.ESTORAGEFULL:   http.StatusInsufficientStorage,
}

// retryAfterBusy is the Retry-After (seconds) of an answer that the
// server was busy: a long write of another process holds the database.
const retryAfterBusy = "5"

// errorStatus returns the HTTP status of an error code.
func errorStatus(code string) int {
	if s, ok := statusOf[code]; ok {
		return s
	}
	return http.StatusInternalServerError
}

// errorResponse is the body of every error answer.
type errorResponse struct {
	Error errorDetail `json:"error"`
}

type errorDetail struct {
	Code    string `json:"code"`
	Field   string `json:"field,omitempty"`
	Message string `json:"message"`
}

// writeError answers with err in the API's error format. Errors that are
// not an *ipdesk.Error are logged with their details and answered with a
// generic message.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	code := ipdesk.ErrorCode(err)
	detail := errorDetail{Code: code, Field: ipdesk.ErrorField(err), Message: s.errorText(r, err)}
	if code == ipdesk.EINTERNAL {
		var de *ipdesk.Error
		switch {
		case errors.Is(err, context.DeadlineExceeded), errors.Is(err, context.Canceled):
			// The client went away or the database did not answer in time.
			detail = errorDetail{Code: eUnavailable, Message: "The request was cancelled or took too long; try again."}
			s.log.LogAttrs(r.Context(), slog.LevelWarn, "request not completed",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		case errors.As(err, &de):
			// A coded internal error: its message is meant for users.
			s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
		default:
			s.log.LogAttrs(r.Context(), slog.LevelError, "internal error",
				slog.String("method", r.Method), slog.String("path", r.URL.Path), slog.String("error", err.Error()))
			detail.Message = "Internal error; the details are in the server log."
		}
	}
	status := errorStatus(detail.Code)
	if status == http.StatusUnauthorized {
		challenge := `Bearer realm="ipdesk"`
		if r.Header.Get("Authorization") != "" {
			challenge += `, error="invalid_token"`
		}
		w.Header().Set("WWW-Authenticate", challenge)
	}
	if status == http.StatusServiceUnavailable {
		w.Header().Set("Retry-After", retryAfterBusy)
	}
	writeJSON(w, status, errorResponse{Error: detail})
}

// writeJSON answers with v as JSON.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBuffers.Get().(*bytes.Buffer)
	defer putJSONBuffer(buf)
	if err := json.NewEncoder(buf).Encode(v); err != nil { // ends with a newline
		// Only a bug can get here (a type that cannot be marshalled).
		panic("web: encoding response: " + err.Error())
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-store")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	w.Write(buf.Bytes())
}

// jsonBuffers holds the buffers JSON answers are encoded in.
var jsonBuffers = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// maxPooledJSONBuffer bounds the buffers kept for reuse, so that one large
// answer does not stay in memory.
const maxPooledJSONBuffer = 64 << 10

func putJSONBuffer(b *bytes.Buffer) {
	if b.Cap() > maxPooledJSONBuffer {
		return
	}
	b.Reset()
	jsonBuffers.Put(b)
}

// etag returns the entity tag of an object version.
func etag(version int64) string {
	return `"` + strconv.FormatInt(version, 10) + `"`
}

// writeObject answers with one object of the given version and its ETag.
// A GET whose If-None-Match names the current version gets 304.
func writeObject(w http.ResponseWriter, r *http.Request, status int, version int64, v any) {
	tag := etag(version)
	w.Header().Set("ETag", tag)
	if status == http.StatusOK && (r.Method == http.MethodGet || r.Method == http.MethodHead) {
		if inm := r.Header.Get("If-None-Match"); inm != "" && noneMatchHas(inm, tag) {
			w.Header().Set("Cache-Control", "no-store")
			w.WriteHeader(http.StatusNotModified)
			return
		}
	}
	writeJSON(w, status, v)
}

// writeCreated answers 201 with a new object, its ETag and its Location.
func writeCreated(w http.ResponseWriter, r *http.Request, location string, version int64, v any) {
	w.Header().Set("Location", location)
	writeObject(w, r, http.StatusCreated, version, v)
}

// noneMatchHas reports whether an If-None-Match header lists tag (weak
// comparison, as RFC 9110 asks for If-None-Match).
func noneMatchHas(header, tag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimPrefix(strings.TrimSpace(t), "W/")
		if t == "*" || t == tag {
			return true
		}
	}
	return false
}

// listResponse is the envelope of every list: one page of results and the
// total that matched.
type listResponse[T any] struct {
	Count   int `json:"count"`
	Offset  int `json:"offset"`
	Limit   int `json:"limit"`
	Results []T `json:"results"`
}

// windowResponse is the envelope of computed lists (free space), whose
// total is not counted.
type windowResponse[T any] struct {
	Offset  int `json:"offset"`
	Limit   int `json:"limit"`
	Results []T `json:"results"`
}

// writeList answers with one page of a list.
func writeList[T any](w http.ResponseWriter, page ipdesk.Page, count int, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, listResponse[T]{Count: count, Offset: page.Offset, Limit: page.Limit, Results: items})
}

// writeWindow answers with one window of a computed list.
func writeWindow[T any](w http.ResponseWriter, page ipdesk.Page, items []T) {
	if items == nil {
		items = []T{}
	}
	writeJSON(w, http.StatusOK, windowResponse[T]{Offset: page.Offset, Limit: page.Limit, Results: items})
}

// warningsOrEmpty makes the warnings of a change serialise as [] when
// there are none, so that clients always find the array.
func warningsOrEmpty(ws []ipdesk.Warning) []ipdesk.Warning {
	if ws == nil {
		return []ipdesk.Warning{}
	}
	return ws
}
