package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/netip"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"ipdesk"
	"ipdesk/internal/testwait"
	"ipdesk/sqldb"
)

// outputsSetup is a config file with a dnsmasq target, checked by a fake
// daemon that refuses the host name "refused" and reloaded by a script
// that counts, and a squid-levels target; and a database with one host.
type outputsSetup struct {
	dir, cfg, db, live, reloads string
	vars                        map[string]string
}

func newOutputsSetup(t *testing.T, dsn string) *outputsSetup {
	t.Helper()
	dir := t.TempDir()
	s := &outputsSetup{dir: dir, cfg: filepath.Join(dir, "ipdesk.json"), db: dsn,
		live: filepath.Join(dir, "dnsmasq.hosts"), reloads: filepath.Join(dir, "reloads")}
	check := filepath.Join(dir, "check")
	reload := filepath.Join(dir, "reload")
	write := func(p, data string, mode os.FileMode) {
		if err := os.WriteFile(p, []byte(data), mode); err != nil {
			t.Fatal(err)
		}
	}
	write(check, "#!/bin/sh\nif grep -n refused \"$1\" >&2; then echo 'dnsmasq: bad DHCP host name at line 3' >&2; exit 1; fi\necho 'dnsmasq: syntax check OK.'\n", 0o755)
	write(reload, fmt.Sprintf("#!/bin/sh\necho reload >> %q\n", s.reloads), 0o755)
	cfg := map[string]any{
		"db":    dsn,
		"apply": map[string]any{"quiet": "100ms", "max_delay": "2s", "poll": "200ms"},
		"targets": []map[string]any{
			{"name": "dnsmasq", "kind": "dnsmasq", "path": s.live, "validate": []string{check, "{candidate}"}, "reload": []string{reload}, "timeout": "10s", "spaces": []string{"school"}},
			{"name": "proxy", "kind": "squid-levels", "level_files": map[string]string{"1": filepath.Join(dir, "proxy1"), "2": filepath.Join(dir, "proxy2")}},
		},
	}
	data, _ := json.MarshalIndent(cfg, "", "  ")
	write(s.cfg, string(data), 0o644)
	s.vars = map[string]string{"IPDESK_CONFIG": s.cfg, "IPDESK_ADMIN_PASSWORD": "correct horse battery", "USER": "root"}
	return s
}

// seedHost stores the space "school", a DHCP subnet and a host.
func (s *outputsSetup) seedHost(t *testing.T, addr, name string) {
	t.Helper()
	ctx := ipdesk.NewContextWithActor(context.Background(), &ipdesk.User{Name: "test"})
	db, err := sqldb.Open(ctx, s.db)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var spaceID int64
	if ss, _, _ := db.FindSpaces(ctx, ipdesk.SpaceFilter{}); len(ss) > 0 {
		spaceID = ss[0].ID
	} else {
		sp := &ipdesk.Space{Name: "school"}
		if err := db.CreateSpace(ctx, sp); err != nil {
			t.Fatal(err)
		}
		spaceID = sp.ID
		if _, err := db.CreatePrefix(ctx, &ipdesk.Prefix{SpaceID: spaceID, Prefix: netip.MustParsePrefix("10.0.0.0/24"), DHCP: true}); err != nil {
			t.Fatal(err)
		}
	}
	a := &ipdesk.Address{SpaceID: spaceID, Addr: netip.MustParseAddr(addr), Hostname: name, AccessLevel: 1, DHCPReservation: true,
		MAC: ipdesk.MAC{2, 0, 0, 0, 0, netip.MustParseAddr(addr).As4()[3]}}
	if _, err := db.CreateAddress(ctx, a); err != nil {
		t.Fatal(err)
	}
}

func (s *outputsSetup) reloadCount(t *testing.T) int {
	data, err := os.ReadFile(s.reloads)
	if errors.Is(err, os.ErrNotExist) {
		return 0
	} else if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(data, []byte("reload\n"))
}

// TestApplyCommand: "ipdesk apply" applies all, one target or one level,
// reports each run with the daemon's message, and fails when a run fails.
func TestApplyCommand(t *testing.T) {
	for name, dsn := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			s := newOutputsSetup(t, dsn)
			s.seedHost(t, "10.0.0.5", "pc5")

			out, errOut, err := run(t, s.vars, "", "apply")
			if err != nil {
				t.Fatalf("apply: %v\n%s\n%s", err, out, errOut)
			}
			for _, want := range []string{"dnsmasq: applied in ", "    [validate: ok]", "    dnsmasq: syntax check OK.", "proxy.level1: applied", "proxy.level2: applied"} {
				if !strings.Contains(out, want) {
					t.Errorf("output lacks %q:\n%s", want, out)
				}
			}
			if data, _ := os.ReadFile(s.live); !strings.Contains(string(data), "02:00:00:00:00:05,10.0.0.5,pc5") {
				t.Errorf("live file:\n%s", data)
			}
			if out, _, err := run(t, s.vars, "", "apply", "dnsmasq"); err != nil || !strings.HasPrefix(out, "dnsmasq: unchanged") || strings.Contains(out, "proxy") {
				t.Errorf("apply dnsmasq: %v\n%s", err, out)
			}
			if out, _, err := run(t, s.vars, "", "apply", "proxy.level2"); err != nil || strings.Count(out, "unchanged") != 1 {
				t.Errorf("apply proxy.level2: %v\n%s", err, out)
			}
			if _, _, err := run(t, s.vars, "", "apply", "nothing"); err == nil || message(err) != `target "nothing" is not configured; configured: dnsmasq, proxy` {
				t.Errorf("apply nothing: %v", err)
			}
			if _, _, err := run(t, s.vars, "", "apply", "a", "b"); err == nil || !strings.Contains(err.Error(), "at most one target") {
				t.Errorf("two names: %v", err)
			}

			// A dry run shows the change and makes none.
			s.seedHost(t, "10.0.0.6", "refused")
			before, _ := os.ReadFile(s.live)
			out, _, err = run(t, s.vars, "", "apply", "--dry-run")
			if err != nil || !strings.Contains(out, "dnsmasq: would change 3 lines (+2 -1)") || !strings.Contains(out, "+02:00:00:00:00:06,10.0.0.6,refused") ||
				!strings.Contains(out, "proxy.level2: no change") {
				t.Errorf("dry run: %v\n%s", err, out)
			}

			// The check refuses: exit status 1, the daemon's message, the
			// live file as it was, the run in the history.
			out, _, err = run(t, s.vars, "", "apply")
			if err == nil || err.Error() != "1 of 3 outputs failed" {
				t.Errorf("refused apply: %v", err)
			}
			if !strings.Contains(out, "dnsmasq: invalid") || !strings.Contains(out, "    dnsmasq: bad DHCP host name at line 3") || !strings.Contains(out, "proxy.level1: applied") {
				t.Errorf("refused apply output:\n%s", out)
			}
			if after, _ := os.ReadFile(s.live); !bytes.Equal(after, before) {
				t.Errorf("the live file changed:\n%s", after)
			}
			if n := s.reloadCount(t); n != 1 {
				t.Errorf("%d reloads, want 1", n)
			}
			db, err := sqldb.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			if _, n, err := db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{}); err != nil || n != 8 {
				t.Errorf("history: %d runs %v, want 8", n, err)
			}
			target := "dnsmasq"
			runs, _, err := db.FindApplyRuns(context.Background(), ipdesk.ApplyRunFilter{Target: &target})
			if err != nil || runs[0].Status != ipdesk.ApplyInvalid || runs[0].Actor != "cli:root" || !strings.Contains(runs[0].Message, "bad DHCP host name") {
				t.Errorf("newest dnsmasq run %+v %v", runs[0], err)
			}
		})
	}
}

// TestApplyConfigErrors: bad targets are refused at start, naming the
// target and the field; without targets, apply says where they go.
func TestApplyConfigErrors(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "x.db")
	for _, tc := range []struct {
		name, cfg, want string
	}{
		{"no targets", `{"db": "` + db + `"}`, `no targets are configured: add "targets" to the config file`},
		{"relative path", `{"db": "` + db + `", "targets": [{"name": "dhcpd", "kind": "isc-dhcp", "path": "dhcpd.hosts"}]}`,
			`config file: targets: target "dhcpd": path "dhcpd.hosts" is not an absolute path`},
		{"bad level", `{"db": "` + db + `", "targets": [{"name": "proxy", "kind": "squid-levels", "level_files": {"x": "/tmp/p"}}]}`,
			`config file: targets: target "proxy": level_files key "x" is not an access level number 0..99`},
		{"bad quiet", `{"db": "` + db + `", "apply": {"quiet": "often"}, "targets": []}`, `config file: apply.quiet "often" is not a positive duration`},
		{"bad poll", `{"db": "` + db + `", "apply": {"poll": "-1s"}, "targets": []}`, `config file: apply.poll "-1s" is not a positive duration`},
		{"unknown key", `{"db": "` + db + `", "targets": [{"name": "dhcpd", "kind": "isc-dhcp", "path": "/x", "reload_cmd": ["x"]}]}`, `unknown field "reload_cmd"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := filepath.Join(dir, tc.name+".json")
			os.WriteFile(cfg, []byte(tc.cfg), 0o644)
			vars := map[string]string{"IPDESK_CONFIG": cfg, "IPDESK_ADMIN_PASSWORD": "correct horse battery"}
			_, _, err := run(t, vars, "", "apply")
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("apply: %v, want %q", err, tc.want)
			}
			if tc.name == "no targets" {
				return
			}
			// serve refuses to start with the same message.
			done := make(chan error, 1)
			m := &Main{Getenv: env(vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: io.Discard, Ready: func(string) { done <- errors.New("serve started") }}
			go func() { done <- m.Run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0"}) }()
			if err := <-done; err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("serve: %v, want %q", err, tc.want)
			}
		})
	}
	if _, err := os.Stat(db); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a refused config touched the database: %v", err)
	}
}

// TestApplyExitStatus runs the command as a process: exit status 0 when
// every run succeeded, 1 when one failed.
func TestApplyExitStatus(t *testing.T) {
	if os.Getenv("IPDESK_TEST_RUN_MAIN") == "1" {
		os.Args = append([]string{"ipdesk"}, strings.Split(os.Getenv("IPDESK_TEST_ARGS"), " ")...)
		main()
		os.Exit(0)
	}
	s := newOutputsSetup(t, filepath.Join(t.TempDir(), "x.db"))
	s.seedHost(t, "10.0.0.5", "pc5")
	ipdeskCmd := func(args string) (int, string) {
		cmd := exec.Command(os.Args[0], "-test.run=^TestApplyExitStatus$")
		cmd.Env = append(os.Environ(), "IPDESK_TEST_RUN_MAIN=1", "IPDESK_TEST_ARGS="+args, "IPDESK_CONFIG="+s.cfg)
		out, err := cmd.CombinedOutput()
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return ee.ExitCode(), string(out)
		} else if err != nil {
			t.Fatal(err)
		}
		return 0, string(out)
	}
	if code, out := ipdeskCmd("apply"); code != 0 || !strings.Contains(out, "dnsmasq: applied") {
		t.Errorf("apply: exit %d\n%s", code, out)
	}
	s.seedHost(t, "10.0.0.6", "refused")
	if code, out := ipdeskCmd("apply dnsmasq"); code != 1 || !strings.Contains(out, "ipdesk: 1 of 1 outputs failed") {
		t.Errorf("refused apply: exit %d\n%s", code, out)
	}
	if code, out := ipdeskCmd("apply proxy"); code != 0 {
		t.Errorf("apply proxy: exit %d\n%s", code, out)
	}
	if code, out := ipdeskCmd("apply nothing"); code != 1 || !strings.Contains(out, `ipdesk: target "nothing" is not configured`) {
		t.Errorf("apply nothing: exit %d\n%s", code, out)
	}
}

// TestServeAppliesEdits: the server applies the outputs at start and,
// within the debounce, after an edit through the API.
func TestServeAppliesEdits(t *testing.T) {
	for name, dsn := range dbs(t) {
		t.Run(name, func(t *testing.T) {
			s := newOutputsSetup(t, dsn)
			s.seedHost(t, "10.0.0.5", "pc5")
			ctx, cancel := context.WithCancel(context.Background())
			ready := make(chan string, 1)
			var errOut bytes.Buffer
			m := &Main{Getenv: env(s.vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &syncWriter{w: &errOut}, Ready: func(a string) { ready <- a }}
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
			defer func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("serve: %v", err)
				}
			}()
			waitUntil := func(what string, cond func() bool) {
				t.Helper()
				deadline := testwait.Deadline(t)
				for !cond() {
					if time.Now().After(deadline) {
						t.Fatalf("%s: not by the test's deadline\n%s", what, errOut.String())
					}
					time.Sleep(20 * time.Millisecond)
				}
			}
			liveHas := func(s2 string) func() bool {
				return func() bool { data, _ := os.ReadFile(s.live); return strings.Contains(string(data), s2) }
			}
			waitUntil("the apply at start", liveHas("10.0.0.5,pc5"))

			token, _, err := run(t, s.vars, "", "token", "create", "--user", "admin")
			if err != nil {
				t.Fatal(err)
			}
			req, _ := http.NewRequest("PATCH", "http://"+addr+"/api/v1/addresses/1", strings.NewReader(`{"address": "10.0.0.50", "hostname": "pc50"}`))
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
			req.Header.Set("Content-Type", "application/json")
			resp, err := http.DefaultClient.Do(req)
			if err != nil || resp.StatusCode != 200 {
				t.Fatalf("patch: %v %v", resp, err)
			}
			resp.Body.Close()
			waitUntil("the edit in the live file", liveHas("02:00:00:00:00:05,10.0.0.50,pc50"))
			waitUntil("the edit in the level 1 list", func() bool {
				data, _ := os.ReadFile(filepath.Join(s.dir, "proxy1"))
				return strings.Contains(string(data), "\n10.0.0.50\n")
			})

			// An import on the command line, beside the server, is applied
			// by the server.
			csv := filepath.Join(s.dir, "hosts.csv")
			if err := os.WriteFile(csv, []byte("space,address,mac,hostname,access_level,dhcp_reservation\nschool,10.0.0.77,02:00:00:00:00:77,pc77,2,true\n"), 0o644); err != nil {
				t.Fatal(err)
			}
			if out, errOut, err := run(t, s.vars, "", "import", "hosts", csv); err != nil {
				t.Fatalf("import: %v\n%s%s", err, out, errOut)
			}
			waitUntil("the import in the live file", liveHas("02:00:00:00:00:77,10.0.0.77,pc77"))

			req, _ = http.NewRequest("GET", "http://"+addr+"/api/v1/outputs?diff=false", nil)
			req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
			resp, err = http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var list struct{ Results []ipdesk.Output }
			json.NewDecoder(resp.Body).Decode(&list)
			resp.Body.Close()
			if len(list.Results) != 3 || list.Results[0].LastRun == nil {
				t.Errorf("outputs: %+v", list.Results)
			}
		})
	}
}
