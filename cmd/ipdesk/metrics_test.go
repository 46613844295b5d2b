package main

import (
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/sqldb"
)

// TestServeMetrics: serve counts the apply runs of its targets by target
// and result, shows the time since the last success and the rooms
// blocked, and answers /healthz and /readyz.
func TestServeMetrics(t *testing.T) {
	s := newOutputsSetup(t, filepath.Join(t.TempDir(), "ipdesk.db"))
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	m := &Main{Getenv: env(s.vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--log-level", "warn"}) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	defer func() {
		cancel()
		<-done
	}()
	get := func(path string) (int, string) {
		t.Helper()
		resp, err := http.Get("http://" + addr + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for _, p := range []string{"/healthz", "/readyz"} {
		if code, body := get(p); code != 200 || body != "ok\n" {
			t.Fatalf("%s: %d %q", p, code, body)
		}
	}
	s.seedHost(t, "10.0.0.5", "pc5")
	// The change is applied after the quiet time; wait for the run to be
	// counted.
	want := `ipdesk_apply_runs_total{result="applied",target="dnsmasq"} 1`
	var body string
	for deadline := time.Now().Add(30 * time.Second); ; {
		_, body = get("/metrics")
		if strings.Contains(body, want) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no %q in:\n%s", want, body)
		}
		time.Sleep(50 * time.Millisecond)
	}
	for _, w := range []string{`ipdesk_apply_seconds_since_last_success{target="dnsmasq"}`, "ipdesk_rooms_blocked 0", `ipdesk_db_connections_open{pool="read"}`} {
		if !strings.Contains(body, w) {
			t.Errorf("no %q in the metrics", w)
		}
	}
}

// TestTokenCreateScope: token create makes tokens of a scope and an
// expiry; a bad scope names the flag.
func TestTokenCreateScope(t *testing.T) {
	vars := map[string]string{"IPDESK_DB": filepath.Join(t.TempDir(), "ipdesk.db")}
	if _, _, err := run(t, vars, "correct horse battery\n", "user", "add", "anna"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, vars, "", "token", "create", "--user", "anna", "--scope", "read", "--valid", "720h"); err != nil {
		t.Fatal(err)
	}
	if _, _, err := run(t, vars, "", "token", "create", "--user", "anna", "--scope", "root"); err == nil || !strings.Contains(err.Error(), `--scope: scope "root"`) {
		t.Fatalf("bad scope: %v", err)
	}
	db, err := sqldb.Open(context.Background(), vars["IPDESK_DB"])
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	u, _ := db.FindUserByName(context.Background(), "anna")
	toks, _ := db.FindTokens(context.Background(), u.ID)
	if len(toks) != 1 || toks[0].Scope != ipdesk.ScopeRead || toks[0].ExpiresAt == nil || toks[0].ExpiresAt.Before(time.Now().Add(719*time.Hour)) {
		t.Fatalf("tokens %+v", toks)
	}
}
