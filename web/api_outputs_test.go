package web

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"ipdesk"
	"ipdesk/apply"
	"ipdesk/outputs"
	"ipdesk/sqldb"
	"ipdesk/sqldb/sqldbtest"
)

// outputsEnv is a server with two targets in a temporary directory: a
// dnsmasq hosts file checked by a fake daemon that refuses the host name
// "refused", and the squid lists of levels 1 and 2.
type outputsEnv struct {
	*testEnv
	dir string
}

func newOutputsEnv(t *testing.T, dsn string) *outputsEnv {
	t.Helper()
	dir := t.TempDir()
	check := filepath.Join(dir, "check")
	script := "#!/bin/sh\nif grep -n refused \"$1\" >&2; then echo \"dnsmasq: bad name at line 4 of $1\" >&2; exit 1; fi\necho \"dnsmasq: syntax check OK.\"\n"
	if err := os.WriteFile(check, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, dsn, func(db *sqldb.DB) Outputs {
		s, err := outputs.New(db, []outputs.Spec{
			{Name: "dnsmasq", Kind: apply.KindDnsmasq, Path: filepath.Join(dir, "dnsmasq.hosts"), Validate: []string{check, "{candidate}"}},
			{Name: "proxy", Kind: apply.KindSquidLevels, LevelFiles: map[string]string{"1": filepath.Join(dir, "proxy1"), "2": filepath.Join(dir, "proxy2")}},
		}, outputs.Config{})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
	return &outputsEnv{testEnv: e, dir: dir}
}

// eachOutputsBackend runs fn with an outputs server on SQLite and, when
// configured, PostgreSQL.
func eachOutputsBackend(t *testing.T, fn func(t *testing.T, e *outputsEnv)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, newOutputsEnv(t, filepath.Join(t.TempDir(), "t.db"))) })
	t.Run("postgres", func(t *testing.T) {
		dsn := sqldbtest.PostgresDSN(t)
		if dsn == "" {
			t.Skipf("%s not set", sqldbtest.EnvPostgres)
		}
		fn(t, newOutputsEnv(t, dsn))
	})
}

// host stores a DHCP host at level 1 in a new DHCP subnet 10.5.0.0/24.
func (e *outputsEnv) hosts(names ...string) {
	e.t.Helper()
	sp := e.space("school")
	subnet := e.prefix(sp, "10.5.0.0/24", ipdesk.PrefixSubnet, "dhcp", true)
	for i, name := range names {
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{
			"prefix_id": subnet.ID, "address": "10.5.0." + string(rune('1'+i)), "hostname": name,
			"mac": "02:00:00:00:00:0" + string(rune('1'+i)), "dhcp_reservation": true, "access_level": 1}, nil)
	}
}

type outputList struct {
	Count   int             `json:"count"`
	Results []ipdesk.Output `json:"results"`
}

type runList struct {
	Count   int                `json:"count"`
	Results []*ipdesk.ApplyRun `json:"results"`
}

func TestOutputsAPI(t *testing.T) {
	eachOutputsBackend(t, func(t *testing.T, e *outputsEnv) {
		e.hosts("pc1", "pc2")

		// Every reader sees the outputs and what an apply would write.
		var list outputList
		e.must(http.StatusOK, "GET", "/api/v1/outputs", e.user, nil, &list)
		if list.Count != 3 || len(list.Results) != 3 {
			t.Fatalf("outputs: %+v", list)
		}
		dns := list.Results[0]
		if dns.Name != "dnsmasq" || dns.Group != "dnsmasq" || dns.Kind != apply.KindDnsmasq || dns.LastRun != nil || dns.Diff == nil {
			t.Fatalf("dnsmasq output %+v", dns)
		}
		if !dns.Diff.Changed || dns.Diff.Added == 0 || !strings.Contains(dns.Diff.Text, "+02:00:00:00:00:01,10.5.0.1,pc1") || dns.Diff.Error != "" {
			t.Errorf("dnsmasq diff %+v", *dns.Diff)
		}
		if p := list.Results[2]; p.Name != "proxy.level2" || p.Group != "proxy" || p.Path != filepath.Join(e.dir, "proxy2") {
			t.Errorf("level 2 output %+v", p)
		}

		// Readers may not apply.
		r := e.do("POST", "/api/v1/apply", e.user, nil)
		if r.code != http.StatusForbidden {
			t.Errorf("reader's apply: %d %s", r.code, r.body)
		}

		// An admin applies all, then one target.
		var res applyResult
		e.must(http.StatusOK, "POST", "/api/v1/apply", e.admin, nil, &res)
		if !res.OK || len(res.Runs) != 3 || res.Runs[0].Status != ipdesk.ApplyApplied || res.Runs[0].Actor != "admin" || res.Runs[0].ID == 0 {
			t.Fatalf("apply all: %+v", res)
		}
		if !strings.Contains(res.Runs[0].Message, "dnsmasq: syntax check OK.") {
			t.Errorf("message %q", res.Runs[0].Message)
		}
		if data, _ := os.ReadFile(filepath.Join(e.dir, "proxy1")); !strings.Contains(string(data), "\n10.5.0.1\n10.5.0.2\n") {
			t.Errorf("proxy1:\n%s", data)
		}
		e.must(http.StatusOK, "POST", "/api/v1/apply", e.admin, map[string]any{"target": "proxy"}, &res)
		if !res.OK || len(res.Runs) != 2 || res.Runs[0].Target != "proxy.level1" || res.Runs[1].Status != ipdesk.ApplyUnchanged {
			t.Errorf("apply proxy: %+v", res)
		}
		e.must(http.StatusOK, "POST", "/api/v1/apply", e.admin, map[string]any{"target": "proxy.level2"}, &res)
		if len(res.Runs) != 1 {
			t.Errorf("apply proxy.level2: %+v", res)
		}

		// The state now shows the last runs; diff=false skips the render.
		e.must(http.StatusOK, "GET", "/api/v1/outputs?target=proxy&diff=false", e.user, nil, &list)
		if len(list.Results) != 2 || list.Results[0].Diff != nil || list.Results[1].LastRun == nil || list.Results[1].LastRun.Status != ipdesk.ApplyUnchanged {
			t.Errorf("proxy outputs: %+v", list.Results)
		}
		e.must(http.StatusOK, "GET", "/api/v1/outputs?target=dnsmasq", e.user, nil, &list)
		if len(list.Results) != 1 || list.Results[0].Diff.Changed || list.Results[0].Diff.Text != "" {
			t.Errorf("dnsmasq after the apply: %+v", list.Results)
		}

		// A file the daemon refuses: the run says why, the file stays.
		before, _ := os.ReadFile(filepath.Join(e.dir, "dnsmasq.hosts"))
		var sp []ipdesk.Space
		var spaces struct{ Results []ipdesk.Space }
		e.must(http.StatusOK, "GET", "/api/v1/spaces", e.admin, nil, &spaces)
		sp = spaces.Results
		e.must(http.StatusCreated, "POST", "/api/v1/addresses", e.admin, map[string]any{"space_id": sp[0].ID, "address": "10.5.0.9",
			"hostname": "refused", "mac": "02:00:00:00:00:09", "dhcp_reservation": true}, nil)
		e.must(http.StatusOK, "POST", "/api/v1/apply", e.admin, map[string]any{"target": "dnsmasq"}, &res)
		if res.OK || res.Runs[0].Status != ipdesk.ApplyInvalid || !strings.Contains(res.Runs[0].Message, "dnsmasq: bad name at line 4") {
			t.Errorf("refused apply: %+v", res.Runs[0])
		}
		if after, _ := os.ReadFile(filepath.Join(e.dir, "dnsmasq.hosts")); string(after) != string(before) {
			t.Errorf("the live file changed:\n%s", after)
		}

		// The history.
		var runs runList
		e.must(http.StatusOK, "GET", "/api/v1/apply-runs", e.user, nil, &runs)
		if runs.Count != 7 || runs.Results[0].Status != ipdesk.ApplyInvalid {
			t.Errorf("history: %d runs, newest %+v", runs.Count, runs.Results[0])
		}
		for _, tc := range []struct {
			query string
			count int
		}{
			{"target=dnsmasq", 2},
			{"failed=true", 1},
			{"failed=false", 6},
			{"status=unchanged", 3},
			{"target=proxy.level2&limit=1", 3},
			{"since=2000-01-01T00:00:00Z&until=2999-01-01T00:00:00Z", 7},
		} {
			e.must(http.StatusOK, "GET", "/api/v1/apply-runs?"+tc.query, e.user, nil, &runs)
			if runs.Count != tc.count {
				t.Errorf("%s: count %d, want %d", tc.query, runs.Count, tc.count)
			}
		}
		if len(runs.Results) != 7 {
			t.Errorf("page of 7: %d", len(runs.Results))
		}

		// Bad input names its field.
		for _, tc := range []struct {
			method, path string
			body         any
			status       int
			field        string
		}{
			{"POST", "/api/v1/apply", map[string]any{"target": "nothing"}, 400, "target"},
			{"POST", "/api/v1/apply", map[string]any{"target": 5}, 400, "target"},
			{"POST", "/api/v1/apply", map[string]any{"path": "/etc/passwd"}, 400, "path"},
			{"GET", "/api/v1/apply-runs?status=fine", nil, 400, "status"},
			{"GET", "/api/v1/apply-runs?since=2020-01-02T00:00:00Z&until=2020-01-01T00:00:00Z", nil, 400, "until"},
			{"GET", "/api/v1/outputs?diff=maybe", nil, 400, "diff"},
		} {
			r := e.do(tc.method, tc.path, e.admin, tc.body)
			if r.code != tc.status || r.apiError(t).Field != tc.field {
				t.Errorf("%s %s %v: %d %s", tc.method, tc.path, tc.body, r.code, r.body)
			}
		}
		r = e.do("POST", "/api/v1/apply", e.admin, map[string]any{"target": "nothing"})
		if msg := r.apiError(t).Message; msg != `target "nothing" is not configured; configured: dnsmasq, proxy` {
			t.Errorf("unknown target: %s", msg)
		}
	})
}

// TestOutputsNotConfigured: without targets the lists are empty and an
// apply is a conflict that says where targets are configured.
func TestOutputsNotConfigured(t *testing.T) {
	e := newEnv(t)
	var list outputList
	e.must(http.StatusOK, "GET", "/api/v1/outputs", e.user, nil, &list)
	if list.Count != 0 || list.Results == nil {
		t.Errorf("outputs: %+v", list)
	}
	r := e.do("POST", "/api/v1/apply", e.admin, map[string]any{"target": "dhcpd"})
	if r.code != http.StatusConflict || !strings.Contains(r.apiError(t).Message, "config file") {
		t.Errorf("apply: %d %s", r.code, r.body)
	}
	// Runs recorded earlier (with targets configured then) stay visible.
	if err := e.db.RecordApplyRun(context.Background(), &ipdesk.ApplyRun{Target: "dhcpd", Status: ipdesk.ApplyApplied}); err != nil {
		t.Fatal(err)
	}
	var runs runList
	e.must(http.StatusOK, "GET", "/api/v1/apply-runs", e.user, nil, &runs)
	if runs.Count != 1 {
		t.Errorf("history: %+v", runs)
	}
	raw := e.must(http.StatusOK, "GET", "/api/v1/outputs", e.user, nil, nil)
	var v map[string]json.RawMessage
	json.Unmarshal(raw.body, &v)
	if string(v["results"]) != "[]" {
		t.Errorf("results %s", v["results"])
	}
}
