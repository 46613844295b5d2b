package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestServeRoomsEvents: with serve, a change of the plan reaches the
// browsers' event streams as a "rooms" event from the switcher, for a
// user who is not an administrator too.
func TestServeRoomsEvents(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"IPDESK_DB": filepath.Join(dir, "ipdesk.db"), "IPDESK_ADMIN_PASSWORD": "correct horse battery"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	m := &Main{Getenv: env(vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}) }()
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
	if _, _, err := run(t, vars, "correct horse battery\n", "user", "add", "anna"); err != nil {
		t.Fatal(err)
	}
	admin, _, err := run(t, vars, "", "token", "create", "--user", "admin")
	if err != nil {
		t.Fatal(err)
	}
	anna, _, err := run(t, vars, "", "token", "create", "--user", "anna")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events?topics=rooms", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(anna))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("events: %v %v", resp, err)
	}
	defer resp.Body.Close()
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	wait := func(want string) {
		t.Helper()
		deadline := time.After(10 * time.Second)
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("the stream ended before %q", want)
				}
				if l == want {
					return
				}
			case <-deadline:
				t.Fatalf("no %q on the stream", want)
			}
		}
	}
	wait("event: ready")
	body := strings.NewReader(`{"kind": "site", "name": "Campus"}`)
	req, _ = http.NewRequest("POST", "http://"+addr+"/api/v1/locations", body)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(admin))
	req.Header.Set("Content-Type", "application/json")
	r, err := http.DefaultClient.Do(req)
	if err != nil || r.StatusCode != http.StatusCreated {
		t.Fatalf("create a site: %v %v", r, err)
	}
	r.Body.Close()
	wait("event: rooms")
}
