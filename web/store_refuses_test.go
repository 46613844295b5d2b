package web

import (
	"context"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"ipdesk"
)

// refusingStore refuses every new space with err, as sqldb does for a
// full disk (SQLITE_FULL, PostgreSQL's disk_full) and for a database held
// by another process's long write (SQLITE_BUSY).
type refusingStore struct {
	ipdesk.Store
	err error
}

func (s refusingStore) CreateSpace(context.Context, *ipdesk.Space) error { return s.err }

// TestStoreRefuses: a full disk is 507 with code storage_full, a busy
// database 503 with code unavailable and a Retry-After, not a generic 500;
// the page shows the form again with what was typed and the reason in the
// reader's language, and the log has it.
func TestStoreRefuses(t *testing.T) {
	for _, tc := range []struct {
		name       string
		err        error
		status     int
		retryAfter string
		pages      map[string]string
		form       bool   // the page is the form again, with what was typed
		log        string // in the log
	}{
		{"full", ipdesk.Errorf(ipdesk.ESTORAGEFULL, "storage full: the database's disk is full, so nothing was changed; free space on the server and try again"),
			http.StatusInsufficientStorage, "",
			map[string]string{"en": "Storage full: the server&#39;s disk is full", "de": "Speicher voll: Der Datenträger des Servers ist voll", "ru": "Хранилище заполнено: диск сервера заполнен"},
			false, "storage full"},
		{"busy", ipdesk.Errorf(ipdesk.EUNAVAILABLE, "the database is busy with a long change by another process (such as an import); nothing was changed; try again shortly"),
			http.StatusServiceUnavailable, "5",
			map[string]string{"en": "the database is busy", "de": "die Datenbank ist mit einer langen Änderung", "ru": "база данных занята"},
			true, "status=503"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			e := newEnv(t)
			e.srv = NewServer(refusingStore{e.db, tc.err}, Options{Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
			e.h = e.srv.Handler()

			code := ipdesk.ErrorCode(tc.err)
			r := e.do("POST", "/api/v1/spaces", e.admin, map[string]any{"name": "x"})
			if got := r.apiError(t); r.code != tc.status || got.Code != code || got.Message != ipdesk.ErrorMessage(tc.err) || r.header.Get("Retry-After") != tc.retryAfter {
				t.Fatalf("API: %d %+v Retry-After %q", r.code, got, r.header.Get("Retry-After"))
			}
			c := e.login("admin", "password123")
			for lang, want := range tc.pages {
				r := e.form("POST", "/spaces", c, url.Values{"name": {"typed-name"}}, "Accept-Language", lang)
				if r.code != tc.status || !strings.Contains(string(r.body), want) || tc.form && !strings.Contains(string(r.body), `value="typed-name"`) {
					t.Errorf("%s page: %d %.3000s", lang, r.code, r.body)
				}
			}
			if !strings.Contains(e.logs.String(), tc.log) {
				t.Error("the refusal is not in the log")
			}
		})
	}
}
