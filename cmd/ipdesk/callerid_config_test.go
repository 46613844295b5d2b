package main

import (
	"bufio"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestCallerIDConfig(t *testing.T) {
	dir := t.TempDir()
	tokenFile := filepath.Join(dir, "pbx-tokens")
	os.WriteFile(tokenFile, []byte("# the PBX in the cellar\n\nfile-token-0123456789abcdef\n"), 0o600)
	badFile := filepath.Join(dir, "bad-tokens")
	os.WriteFile(badFile, []byte("short\n"), 0o600)

	good := Config{CallerID: CallerIDConfig{
		PBXTokens: []string{"config-token-0123456789"}, PBXTokenFile: tokenFile,
		AllowedSources: []string{"192.0.2.10", "192.0.2.0/24", "2001:db8::/48", "::ffff:198.51.100.0/120"},
		TrustedProxies: []string{"127.0.0.1"},
		CountryCode:    "49", InternationalPrefix: "00", TrunkPrefix: "0", ExtensionDigits: 4,
		Retention: "30d", RateLimit: 5, RateBurst: 10, MaxStreamsPerUser: 3, Heartbeat: "10s",
	}}
	s, err := good.callerID()
	if err != nil {
		t.Fatal(err)
	}
	if len(s.tokens) != 2 || s.tokens[1] != "file-token-0123456789abcdef" || len(s.sources) != 4 || s.sources[0].String() != "192.0.2.10/32" ||
		s.sources[3].String() != "198.51.100.0/24" || s.retention != 30*24*time.Hour || s.heartbeat != 10*time.Second || s.rules.ExtensionDigits != 4 {
		t.Fatalf("settings: %+v", s)
	}
	if d, _ := (Config{}).callerID(); d.retention != defaultRetention || len(d.tokens) != 0 {
		t.Fatalf("defaults: %+v", d)
	}
	for _, tt := range []struct {
		mod  func(c *CallerIDConfig)
		want string
	}{
		{func(c *CallerIDConfig) { c.PBXTokens = []string{"short"} }, "pbx_tokens[0]"},
		{func(c *CallerIDConfig) { c.PBXTokens = []string{"has a blank in it 0123"} }, "without blanks"},
		{func(c *CallerIDConfig) { c.PBXTokenFile = filepath.Join(dir, "missing") }, "pbx_token_file"},
		{func(c *CallerIDConfig) { c.PBXTokenFile = badFile }, "line 1"},
		{func(c *CallerIDConfig) { c.AllowedSources = []string{"pbx.example"} }, `allowed_sources[0] "pbx.example"`},
		{func(c *CallerIDConfig) { c.AllowedSources = []string{"192.0.2.1/24"} }, "host bits"},
		{func(c *CallerIDConfig) { c.TrustedProxies = []string{"fe80::1%eth0"} }, "trusted_proxies[0]"},
		{func(c *CallerIDConfig) { c.CountryCode = "+49" }, "country_code"},
		{func(c *CallerIDConfig) { c.ExtensionDigits = 12 }, "extension_digits"},
		{func(c *CallerIDConfig) { c.Retention = "soon" }, "retention"},
		{func(c *CallerIDConfig) { c.Retention = "10m" }, "retention"},
		{func(c *CallerIDConfig) { c.Retention = "0d" }, "retention"},
		{func(c *CallerIDConfig) { c.RateLimit = -1 }, "rate_limit"},
		{func(c *CallerIDConfig) { c.RateLimit, c.RateBurst = 5, 0 }, "rate_limit"},
		{func(c *CallerIDConfig) { c.MaxStreamsPerUser = -2 }, "max_streams_per_user"},
		{func(c *CallerIDConfig) { c.Heartbeat = "1ms" }, "heartbeat"},
	} {
		c := good
		c.CallerID.PBXTokens = []string{"config-token-0123456789"}
		tt.mod(&c.CallerID)
		_, err := c.callerID()
		if err == nil || !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), "callerid.") {
			t.Errorf("%+v: %v, want an error about %s", c.CallerID, err, tt.want)
		}
		if err != nil && strings.Contains(err.Error(), "file-token-0123456789abcdef") {
			t.Errorf("the error shows a token: %v", err)
		}
	}
	if v, _ := parseRetention("0"); v != 0 {
		t.Errorf("retention 0: %s", v)
	}
}

// TestServeCallerID: a config file with a callerid object; the PBX's
// set_call reaches a browser's event stream and the call log.
func TestServeCallerID(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "ipdesk.json")
	os.WriteFile(cfg, []byte(`{"callerid": {"pbx_tokens": ["serve-token-0123456789"], "allowed_sources": ["127.0.0.0/8"],
		"country_code": "49", "international_prefix": "00", "trunk_prefix": "0", "extension_digits": 4, "retention": "7d"}}`), 0o600)
	vars := map[string]string{"IPDESK_DB": filepath.Join(dir, "ipdesk.db"), "IPDESK_CONFIG": cfg, "IPDESK_ADMIN_PASSWORD": "correct horse battery"}
	ctx, cancel := context.WithCancel(context.Background())
	ready := make(chan string, 1)
	var logs strings.Builder
	m := &Main{Getenv: env(vars), Stdin: strings.NewReader(""), Stdout: io.Discard, Stderr: &syncWriter{w: &logs}, Ready: func(a string) { ready <- a }}
	done := make(chan error, 1)
	go func() { done <- m.Run(ctx, []string{"serve", "--listen", "127.0.0.1:0"}) }()
	var addr string
	select {
	case addr = <-ready:
	case err := <-done:
		t.Fatalf("serve: %v", err)
	}
	token, _, err := run(t, vars, "", "token", "create", "--user", "admin")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("GET", "http://"+addr+"/api/v1/events", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	resp, err := http.DefaultClient.Do(req)
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("events: %v %v", resp, err)
	}
	lines := make(chan string, 100)
	go func() {
		sc := bufio.NewScanner(resp.Body)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	r, err := http.Get("http://" + addr + "/set_call/03591%2012345?token=serve-token-0123456789")
	if err != nil || r.StatusCode != 200 {
		t.Fatalf("set_call: %v %v", r, err)
	}
	r.Body.Close()
	deadline := time.After(10 * time.Second)
	for got := false; !got; {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatal("stream ended")
			}
			if strings.HasPrefix(l, "data: ") && strings.Contains(l, `"number":"+49359112345"`) {
				got = true
			}
		case <-deadline:
			t.Fatal("no call event")
		}
	}
	req, _ = http.NewRequest("GET", "http://"+addr+"/api/v1/calls", nil)
	req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(token))
	lr, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	var page struct{ Count int }
	json.NewDecoder(lr.Body).Decode(&page)
	lr.Body.Close()
	if page.Count != 1 {
		t.Fatalf("call log: %d calls", page.Count)
	}
	// Shutdown ends the open stream.
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("serve did not stop with a stream open")
	}
	resp.Body.Close()
	if strings.Contains(logs.String(), "serve-token-0123456789") || !strings.Contains(logs.String(), "caller-ID") {
		t.Fatalf("log:\n%s", logs.String())
	}
}
