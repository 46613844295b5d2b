package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// env returns a Getenv for the given variables only.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// run runs one command and returns its standard output.
func run(t *testing.T, vars map[string]string, stdin string, args ...string) (string, string, error) {
	t.Helper()
	var out, errOut bytes.Buffer
	m := &Main{Getenv: env(vars), Stdin: strings.NewReader(stdin), Stdout: &out, Stderr: &errOut}
	err := m.Run(context.Background(), args)
	return out.String(), errOut.String(), err
}

func dbs(t *testing.T) map[string]string {
	out := map[string]string{"sqlite": filepath.Join(t.TempDir(), "ipdesk.db")}
	if pg := sqldbtest.PostgresDSN(t); pg != "" {
		out["postgres"] = pg
	}
	return out
}

// TestServeEndToEnd starts the server as main() does, on port 0, and uses
// the API with a token made by the CLI; SIGTERM-style cancellation shuts it
// down cleanly.
func TestServeEndToEnd(t *testing.T) {
	for name, dsn := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			vars := map[string]string{"IPDESK_DB": dsn, "IPDESK_ADMIN_PASSWORD": "correct horse battery"}
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			var errOut bytes.Buffer
			m := &Main{Getenv: env(vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &syncWriter{w: &errOut}, Ready: func(a string) { ready <- a }}
			done := make(chan error, 1)
			go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0", "--log-level", "warn"}) }()
			var addr string
			select {
			case addr = <-ready:
			case err := <-done:
				t.Fatalf("serve ended: %v", err)
			case <-time.After(20 * time.Second):
				t.Fatal("serve did not start")
			}
			token, _, err := run(t, vars, "", "token", "create", "--user", "admin")
			if err != nil {
				t.Fatal(err)
			}
			call := func(method, path, body string) (int, map[string]any) {
				req, _ := http.NewRequest(method, "http://"+addr+path, strings.NewReader(body))
				req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
				req.Header.Set("Content-Type", "application/json")
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var v map[string]any
				json.NewDecoder(resp.Body).Decode(&v)
				return resp.StatusCode, v
			}
			if code, _ := call("POST", "/api/v1/spaces", `{"name":"school"}`); code != 201 {
				t.Fatalf("create space: %d", code)
			}
			if code, v := call("POST", "/api/v1/prefixes", `{"space_id":1,"prefix":"10.0.0.0/24"}`); code != 201 {
				t.Fatalf("create prefix: %d %v", code, v)
			}
			code, v := call("POST", "/api/v1/prefixes/1/available-addresses", `{"hostname":"pc1"}`)
			if code != 201 || v["address"] != "10.0.0.1" {
				t.Fatalf("allocate: %d %v", code, v)
			}
			if code, _ := call("GET", "/api/v1/spaces", ""); code != 200 {
				t.Fatalf("list: %d", code)
			}
			req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/spaces", nil)
			if resp, err := http.DefaultClient.Do(req); err != nil || resp.StatusCode != 401 {
				t.Fatalf("no token: %v %v", resp, err)
			}
			cancel()
			select {
			case err := <-done:
				if err != nil {
					t.Fatalf("shutdown: %v", err)
				}
			case <-time.After(20 * time.Second):
				t.Fatal("serve did not stop")
			}
			// A second start with users present creates no admin.
			if strings.Count(errOut.String(), `Created the user "admin"`) != 1 {
				t.Fatalf("admin bootstrap message: %s", errOut.String())
			}
		})
	}
}

// TestImportExportRoundTrip exports hosts and imports them into a fresh
// database (with the same spaces, subnets and locations): the data is the
// same; a file with bad lines imports nothing and names every line.
func TestImportExportRoundTrip(t *testing.T) {
	dir := t.TempDir()
	a := map[string]string{"IPDESK_DB": filepath.Join(dir, "a.db")}
	b := map[string]string{"IPDESK_DB": filepath.Join(dir, "b.db")}
	csv := "space,address,mac,hostname,owner,phone,access_level,dhcp_reservation,description\n" +
		"school,10.0.0.5,AA-BB-CC-DD-EE-01,pc1,\"Müller, Anna\",+49 3591 1,2,yes,\"quote \"\" ; { } # =SUM(A1)\"\n" +
		"school,10.0.0.6,aabb.ccdd.ee02,pc2,,,0,no,Кабинет 303\n"
	if err := os.WriteFile(filepath.Join(dir, "hosts.csv"), []byte(csv), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, vars := range []map[string]string{a, b} {
		seed(t, vars)
	}
	out, errOut, err := run(t, a, "", "import", "hosts", filepath.Join(dir, "hosts.csv"), "--dry-run")
	if err != nil || !strings.Contains(out, "would import 2 hosts: 2 created") {
		t.Fatalf("dry run: %q %q %v", out, errOut, err)
	}
	if out, errOut, err = run(t, a, "", "import", "hosts", filepath.Join(dir, "hosts.csv")); err != nil || !strings.Contains(out, "2 created") {
		t.Fatalf("import: %q %q %v", out, errOut, err)
	}
	for _, format := range []string{"csv", "json"} {
		exported, _, err := run(t, a, "", "export", "hosts", "--format", format)
		if err != nil {
			t.Fatal(err)
		}
		file := filepath.Join(dir, "export."+format)
		os.WriteFile(file, []byte(exported), 0o644)
		fresh := map[string]string{"IPDESK_DB": filepath.Join(dir, format+".db")}
		seed(t, fresh)
		if out, errOut, err := run(t, fresh, "", "import", "hosts", file); err != nil || !strings.Contains(out, "2 created") {
			t.Fatalf("%s re-import: %q %q %v", format, out, errOut, err)
		}
		again, _, _ := run(t, fresh, "", "export", "hosts", "--format", format)
		if again != exported {
			t.Fatalf("%s export differs after a round trip:\n%s\n---\n%s", format, exported, again)
		}
		// Importing the same file again changes nothing.
		if out, _, err := run(t, fresh, "", "import", "hosts", file); err != nil || !strings.Contains(out, "0 created, 0 updated, 2 unchanged") {
			t.Fatalf("%s idempotent import: %q %v", format, out, err)
		}
	}
	bad := "space,address,mac,hostname\nschool,10.0.0.7,,ok\nschool,10.0.0.8,zz,x\nnowhere,10.0.0.9,,y\nschool,10.9.9.9,,z\nschool,10.0.0.10,,bad_name\n"
	os.WriteFile(filepath.Join(dir, "bad.csv"), []byte(bad), 0o644)
	_, errOut, err = run(t, b, "", "import", "hosts", filepath.Join(dir, "bad.csv"))
	if err == nil || !strings.Contains(err.Error(), "4 problems; nothing was imported") {
		t.Fatalf("bad import: %v\n%s", err, errOut)
	}
	for _, want := range []string{"line 3: mac", "line 4: space", "line 5: address", "line 6: hostname"} {
		if !strings.Contains(errOut, want) {
			t.Errorf("report lacks %q:\n%s", want, errOut)
		}
	}
	if out, _, _ := run(t, b, "", "export", "hosts"); strings.Count(out, "\n") != 1 {
		t.Fatalf("a failed import wrote hosts:\n%s", out)
	}
}

// seed creates the space and subnet the round-trip data lives in.
func seed(t *testing.T, vars map[string]string) {
	t.Helper()
	vars["IPDESK_ADMIN_PASSWORD"] = "correct horse battery"
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	m := &Main{Getenv: env(vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}) }()
	addr := <-ready
	token, _, _ := run(t, vars, "", "token", "create", "--user", "admin")
	for _, c := range []struct{ path, body string }{
		{"/api/v1/spaces", `{"name":"school"}`},
		{"/api/v1/prefixes", `{"space_id":1,"prefix":"10.0.0.0/24"}`},
	} {
		req, _ := http.NewRequest("POST", "http://"+addr+c.path, strings.NewReader(c.body))
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
		req.Header.Set("Content-Type", "application/json")
		resp, err := http.DefaultClient.Do(req)
		if err != nil || resp.StatusCode != 201 {
			t.Fatalf("seed %s: %v %v", c.path, resp, err)
		}
		resp.Body.Close()
	}
	cancel()
	<-done
}

func TestUserCommands(t *testing.T) {
	vars := map[string]string{"IPDESK_DB": filepath.Join(t.TempDir(), "u.db")}
	if _, _, err := run(t, vars, "short\n", "user", "add", "anna"); err == nil || !strings.Contains(err.Error(), "password has 5 characters") {
		t.Fatalf("short password: %v", err)
	}
	if out, _, err := run(t, vars, "a long passphrase\n", "user", "add", "anna", "--full-name", "Anna K."); err != nil || !strings.Contains(out, `created user "anna"`) {
		t.Fatalf("user add: %q %v", out, err)
	}
	vars["IPDESK_PASSWORD"] = "another long one"
	if out, _, err := run(t, vars, "", "user", "passwd", "anna"); err != nil || !strings.Contains(out, "changed") {
		t.Fatalf("passwd: %q %v", out, err)
	}
	if _, _, err := run(t, vars, "", "user", "passwd", "nobody"); err == nil || !strings.Contains(message(err), `user "nobody" does not exist`) {
		t.Fatalf("passwd of unknown user: %v", err)
	}
	if out, _, err := run(t, vars, "", "migrate"); err != nil || !strings.Contains(out, fmt.Sprintf("version %d\n", sqldb.SchemaVersion())) {
		t.Fatalf("migrate: %q %v", out, err)
	}
	if _, errOut, err := run(t, vars, "", "frobnicate"); err == nil || !strings.Contains(errOut, "unknown command") {
		t.Fatalf("unknown command: %v", err)
	}
	cfg := filepath.Join(t.TempDir(), "c.json")
	os.WriteFile(cfg, []byte(`{"db": "x.db", "lisen": "oops"}`), 0o644)
	if _, _, err := run(t, map[string]string{}, "", "migrate", "--config", cfg); err == nil || !strings.Contains(err.Error(), "lisen") {
		t.Fatalf("config with an unknown key: %v", err)
	}
}

// syncWriter lets the server's goroutines and the test share a buffer.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}
