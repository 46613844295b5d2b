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

// fullStore is a store whose disk is full: every new space is refused
// with the error sqldb gives for SQLITE_FULL and PostgreSQL's disk_full.
type fullStore struct{ ipdesk.Store }

func (fullStore) CreateSpace(context.Context, *ipdesk.Space) error {
	return ipdesk.Errorf(ipdesk.ESTORAGEFULL, "storage full: the database's disk is full, so nothing was changed; free space on the server and try again")
}

// TestStorageFull: a full disk is 507 with code storage_full in the API
// and a page that says "storage full" in the reader's language, not a
// generic 500.
func TestStorageFull(t *testing.T) {
	e := newEnv(t)
	e.srv = NewServer(fullStore{e.db}, Options{Logger: slog.New(slog.NewTextHandler(e.logs, nil))})
	e.h = e.srv.Handler()

	r := e.do("POST", "/api/v1/spaces", e.admin, map[string]any{"name": "x"})
	if got := r.apiError(t); r.code != http.StatusInsufficientStorage || got.Code != ipdesk.ESTORAGEFULL || !strings.Contains(got.Message, "storage full") {
		t.Fatalf("API: %d %+v", r.code, got)
	}
	c := e.login("admin", "password123")
	for lang, want := range map[string]string{"en": "Storage full: the server&#39;s disk is full", "de": "Speicher voll: Der Datenträger des Servers ist voll", "ru": "Хранилище заполнено: диск сервера заполнен"} {
		r := e.form("POST", "/spaces", c, url.Values{"name": {"x"}}, "Accept-Language", lang)
		if r.code != http.StatusInsufficientStorage || !strings.Contains(string(r.body), want) {
			t.Errorf("%s page: %d %.3000s", lang, r.code, r.body)
		}
	}
	if !strings.Contains(e.logs.String(), "storage full") {
		t.Error("the full disk is not in the log")
	}
}
